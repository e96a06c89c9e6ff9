import pytest

from tests.helpers import client_for, make_access


def test_it_requires_login(client):
    response = client.get("/access/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_it_shows_the_seed_columns_for_a_gateway_contract(
    contract_a, operator_a, shared_gateway, dedicated_gateway
):
    make_access(contract_a, operator_a, "wireguard", "on-shared")
    make_access(contract_a, operator_a, "l2tp", "on-dedicated", dedicated_gateway)
    html = client_for(operator_a).get("/access/").content.decode()
    for label in [
        "VPNアクセス一覧",
        "VPNアクセス作成",
        "VPNアクセス検索",
        "ID",
        "ステータス",
        "プロトコル",
        "IPアドレス",
        "デバイス名",
        "専有",
        "接続形態",
        "VPNゲートウェイ名",
        "詳細",
        "準備中",
        "WireGuard",
        "L2TP/IPsec",
    ]:
        assert label in html, label
    assert "専有GW-1" in html
    assert "<td>VPN</td>" in html
    assert "<td>-</td>" in html  # the shared gateway's name column


def test_it_hides_the_gateway_columns_without_a_gateway_contract(
    contract_b, operator_b, shared_gateway
):
    make_access(contract_b, operator_b, "wireguard", "dev")
    html = client_for(operator_b).get("/access/").content.decode()
    assert "専有" not in html
    assert "VPNゲートウェイ名" not in html
    assert "接続形態" in html


def test_it_shows_only_the_operators_contract(
    contract_a, contract_b, operator_a, operator_b, shared_gateway
):
    mine, _ = make_access(contract_a, operator_a, name="mine")
    theirs, _ = make_access(contract_b, operator_b, name="theirs")
    html = client_for(operator_a).get("/access/").content.decode()
    assert mine.public_id in html
    assert theirs.public_id not in html


def test_support_sees_every_contract_with_a_contract_column_and_no_create(
    contract_a, contract_b, operator_a, operator_b, support, shared_gateway
):
    a, _ = make_access(contract_a, operator_a, name="a")
    b, _ = make_access(contract_b, operator_b, name="b")
    html = client_for(support).get("/access/").content.decode()
    assert a.public_id in html and b.public_id in html
    assert "契約A" in html and "契約B" in html
    assert "VPNアクセス作成" not in html


def test_it_lists_newest_first_50_a_page_with_links_that_keep_the_search(
    contract_a, operator_a, shared_gateway
):
    made = [make_access(contract_a, operator_a, name=f"pump-{n:03d}")[0] for n in range(55)]
    client = client_for(operator_a)
    first = client.get("/access/", {"q": "pump"}).content.decode()
    assert first.index(made[-1].public_id) < first.index(made[-2].public_id)
    assert made[4].public_id not in first
    assert f"q=pump&amp;after={made[5].public_id}" in first
    second = client.get("/access/", {"q": "pump", "after": made[5].public_id}).content.decode()
    assert made[4].public_id in second
    assert made[54].public_id not in second
    assert f"q=pump&amp;before={made[4].public_id}" in second


def test_it_shows_an_empty_state_that_says_what_to_do(operator_a, shared_gateway):
    html = client_for(operator_a).get("/access/").content.decode()
    assert "VPNアクセスはまだありません" in html
    assert "「VPNアクセス作成」ボタンから" in html


@pytest.mark.parametrize("cursor", ["0", "abc", "va-" + "a" * 10, "va-" + "a" * 5000])
def test_a_bad_cursor_is_not_an_error(operator_a, cursor):
    client = client_for(operator_a)
    assert client.get("/access/", {"after": cursor}).status_code == 200
    assert client.get("/access/", {"before": cursor}).status_code == 200
