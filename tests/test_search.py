"""What a search finds and how pages follow each other, on SQLite and (under
``pytest --postgres``) PostgreSQL: every expectation is exact, so both databases
give the same results."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from access import search
from access.models import VpnAccess
from tests.helpers import make_access
from vpnconsole import roles

pytestmark = pytest.mark.postgres

NAMES = [
    "Line1-Temp",
    "line2-PLC",
    "warehouse_50%",
    'o\'brien "cam"',
    "back\\slash",
    "東京工場-温度センサー",
    "大阪倉庫-カメラ",
    "pump-station",
]


@pytest.fixture
def accesses(contract_a, operator_a, shared_gateway):
    return {name: make_access(contract_a, operator_a, name=name)[0] for name in NAMES}


def found(user, q: str) -> set[str]:
    return {access.device.name for access in search.filter_accesses(roles.accesses_for(user), q)}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("LINE", {"Line1-Temp", "line2-PLC"}),
        ("2-p", {"line2-PLC"}),
        ("temp", {"Line1-Temp"}),
        ("温度セ", {"東京工場-温度センサー"}),
        ("倉庫", {"大阪倉庫-カメラ"}),
        (
            "-",
            {"Line1-Temp", "line2-PLC", "東京工場-温度センサー", "大阪倉庫-カメラ", "pump-station"},
        ),
        ("p", {"Line1-Temp", "line2-PLC", "pump-station"}),
        ("zzz-nothing", set()),
        ("  pump  ", {"pump-station"}),
        ("", set(NAMES)),
    ],
)
def test_it_finds_device_names_containing_the_text_ignoring_case(operator_a, accesses, q, expected):
    assert found(operator_a, q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("%", {"warehouse_50%"}),
        ("_", {"warehouse_50%"}),
        ("_50%", {"warehouse_50%"}),
        ("e_5", {"warehouse_50%"}),
        ("%%%", set()),
        ("'", {'o\'brien "cam"'}),
        ('"cam"', {'o\'brien "cam"'}),
        ('n "c', {'o\'brien "cam"'}),
        ('"', {'o\'brien "cam"'}),
        ("\\", {"back\\slash"}),
        ("k\\s", {"back\\slash"}),
        ("line OR pump", set()),
        ("line*", set()),
        ("NEAR(line pump)", set()),
        ("'; DROP TABLE devices_device; --", set()),
        ("x" * 5000, set()),
        ("pump\x00", set()),
    ],
)
def test_special_characters_are_literal_text(operator_a, accesses, q, expected):
    assert found(operator_a, q) == expected


def test_it_finds_by_full_id_and_by_id_prefix_in_any_case(operator_a, accesses):
    access = accesses["line2-PLC"]
    assert found(operator_a, access.public_id) == {"line2-PLC"}
    assert found(operator_a, access.public_id.upper()) == {"line2-PLC"}
    assert "line2-PLC" in found(operator_a, access.public_id[:6])
    assert found(operator_a, "va-" + "2" * 10) == set()


def test_an_operator_never_finds_another_contracts_access(
    contract_b, operator_b, operator_a, support, accesses
):
    theirs, _ = make_access(contract_b, operator_b, name="Line1-Temp")
    assert found(operator_a, theirs.public_id) == set()
    assert found(operator_b, "line") == {"Line1-Temp"}
    assert {a.public_id for a in search.filter_accesses(roles.accesses_for(support), "Line1")} == {
        theirs.public_id,
        accesses["Line1-Temp"].public_id,
    }


@pytest.mark.parametrize("q", ["line", "LINE1", "-", "p", "%", "e_5", "倉庫"])
def test_a_common_term_gives_the_same_results_by_walking_the_list(
    operator_a, support, accesses, monkeypatch, q
):
    """Above CANDIDATES matches the search filters the list index instead of using
    the search index's candidates; both must agree."""
    by_index = (found(operator_a, q), found(support, q))
    monkeypatch.setattr(search, "CANDIDATES", 0)
    assert (found(operator_a, q), found(support, q)) == by_index


def test_a_common_id_prefix_gives_the_same_results_by_walking_the_list(
    operator_a, accesses, monkeypatch
):
    prefix = accesses["pump-station"].public_id[:4]
    by_index = found(operator_a, prefix)
    monkeypatch.setattr(search, "CANDIDATES", 0)
    assert found(operator_a, prefix) == by_index
    assert "pump-station" in by_index


def test_a_short_text_searches_only_the_newest_window(operator_a, accesses, monkeypatch):
    monkeypatch.setattr(search, "SHORT_WINDOW", 3)
    # The three newest are 東京工場-温度センサー, 大阪倉庫-カメラ and pump-station.
    assert found(operator_a, "-") == {"東京工場-温度センサー", "大阪倉庫-カメラ", "pump-station"}
    assert found(operator_a, "p") == {"pump-station"}
    assert search.is_windowed("p") and search.is_windowed("ab")
    assert not search.is_windowed("abc") and not search.is_windowed("va-a")
    # Three characters or more search every access.
    assert found(operator_a, "lin") == {"Line1-Temp", "line2-PLC"}


def test_the_search_index_follows_renames_and_deletes(operator_a, accesses):
    device = accesses["pump-station"].device
    device.name = "renamed-thing"
    device.save()
    assert found(operator_a, "pump") == set()
    assert found(operator_a, "med-th") == {"renamed-thing"}
    from access import provisioning

    provisioning.delete_access(accesses["line2-PLC"], actor=operator_a)
    assert found(operator_a, "line") == {"Line1-Temp"}


# Keyset paging.


@pytest.fixture
def seven(contract_a, operator_a, shared_gateway):
    made = [make_access(contract_a, operator_a, name=f"pump-{n}")[0] for n in range(7)]
    return [access.public_id for access in reversed(made)]  # newest first


def page_ids(page) -> list[str]:
    return [access.public_id for access in page]


def test_pages_follow_each_other_newest_first(operator_a, seven):
    scope = roles.accesses_for(operator_a)
    first = search.page_of(scope, size=3)
    assert page_ids(first) == seven[:3] and first.has_next and not first.has_previous
    second = search.page_of(scope, after=first.next_cursor, size=3)
    assert page_ids(second) == seven[3:6] and second.has_next and second.has_previous
    third = search.page_of(scope, after=second.next_cursor, size=3)
    assert page_ids(third) == seven[6:] and not third.has_next and third.has_previous
    back = search.page_of(scope, before=third.previous_cursor, size=3)
    assert page_ids(back) == seven[3:6] and back.has_next and back.has_previous
    top = search.page_of(scope, before=back.previous_cursor, size=3)
    assert page_ids(top) == seven[:3] and not top.has_previous


def test_rows_created_in_the_same_instant_are_neither_lost_nor_repeated(operator_a, seven):
    VpnAccess.objects.update(created_at=timezone.now() - datetime.timedelta(days=1))
    scope = roles.accesses_for(operator_a)
    seen, cursor = [], None
    for _ in range(5):
        page = search.page_of(scope, after=cursor, size=2)
        seen += page_ids(page)
        if not page.has_next:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(seven) and len(seen) == len(set(seen))


def test_pages_of_a_search_stay_within_the_search(operator_a, accesses, seven):
    scope = search.filter_accesses(roles.accesses_for(operator_a), "pump-")
    first = search.page_of(scope, size=4)
    second = search.page_of(scope, after=first.next_cursor, size=4)
    # pump-station (from ``accesses``) is older than the seven pumps.
    assert page_ids(first) + page_ids(second) == [*seven, accesses["pump-station"].public_id]
    assert not second.has_next


@pytest.mark.parametrize("cursor", ["", "nonsense", "va-" + "a" * 10, "'; --", "va-" + "a" * 500])
def test_an_unknown_cursor_gives_the_first_page(operator_a, seven, cursor):
    scope = roles.accesses_for(operator_a)
    assert page_ids(search.page_of(scope, after=cursor, size=3)) == seven[:3]
    assert page_ids(search.page_of(scope, before=cursor, size=3)) == seven[:3]


def test_another_contracts_access_is_no_cursor(contract_b, operator_b, operator_a, seven):
    theirs, _ = make_access(contract_b, operator_b, name="x")
    scope = roles.accesses_for(operator_a)
    assert page_ids(search.page_of(scope, after=theirs.public_id, size=3)) == seven[:3]
