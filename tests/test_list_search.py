import pytest

from tests.helpers import client_for, make_access


@pytest.fixture
def accesses(contract_a, operator_a, shared_gateway):
    return {
        name: make_access(contract_a, operator_a, name=name)[0]
        for name in ["Line1-Temp", "line2-PLC", "warehouse_50%", 'o\'brien "cam"']
    }


def ids_in(html, accesses):
    return {name for name, access in accesses.items() if access.public_id in html}


def search(client, q):
    response = client.get("/access/", {"q": q})
    assert response.status_code == 200
    return response.content.decode()


def test_it_finds_by_full_id(operator_a, accesses):
    access = accesses["line2-PLC"]
    assert ids_in(search(client_for(operator_a), access.public_id), accesses) == {"line2-PLC"}


def test_it_finds_by_id_prefix_in_upper_case(operator_a, accesses):
    access = accesses["Line1-Temp"]
    found = ids_in(search(client_for(operator_a), access.public_id[:7].upper()), accesses)
    assert "Line1-Temp" in found


def test_it_finds_by_any_part_of_the_device_name_ignoring_case(operator_a, accesses):
    assert ids_in(search(client_for(operator_a), "LINE"), accesses) == {"Line1-Temp", "line2-PLC"}
    assert ids_in(search(client_for(operator_a), "2-p"), accesses) == {"line2-PLC"}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("%", {"warehouse_50%"}),
        ("_", {"warehouse_50%"}),
        ("'", {'o\'brien "cam"'}),
        ('"cam"', {'o\'brien "cam"'}),
        ("x" * 5000, set()),
    ],
)
def test_special_characters_are_literal_text(operator_a, accesses, q, expected):
    assert ids_in(search(client_for(operator_a), q), accesses) == expected


def test_it_does_not_find_another_contracts_access(contract_b, operator_b, operator_a, accesses):
    theirs, _ = make_access(contract_b, operator_b, name="Line1-Temp")
    html = search(client_for(operator_a), theirs.public_id)
    assert f"<code>{theirs.public_id}</code>" not in html
    assert "に一致するVPNアクセスはありません" in html


def test_support_finds_another_contracts_access_by_id(support, accesses):
    access = accesses["line2-PLC"]
    assert access.public_id in search(client_for(support), access.public_id)


def test_a_miss_says_nothing_matched(operator_a, accesses):
    assert "に一致するVPNアクセスはありません" in search(client_for(operator_a), "zzz-nothing")
