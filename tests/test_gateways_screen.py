from tests.helpers import client_for


def test_it_lists_the_shared_and_the_contracts_gateways(
    operator_a, shared_gateway, dedicated_gateway
):
    html = client_for(operator_a).get("/gateways/").content.decode()
    for text in [
        "VPNゲートウェイ",
        "共用ゲートウェイ",
        "専有GW-1",
        "共用",
        "専有",
        "接続先アドレス",
        "サーバ公開鍵",
        dedicated_gateway.wg_public_key,
        "192.0.2.2:51820",
        "198.18.1.0/24",
    ]:
        assert text in html, text
    assert dedicated_gateway.psk not in html


def test_another_contract_does_not_see_a_dedicated_gateway(
    operator_b, shared_gateway, dedicated_gateway
):
    html = client_for(operator_b).get("/gateways/").content.decode()
    assert "共用ゲートウェイ" in html
    assert "専有GW-1" not in html


def test_support_sees_every_gateway_with_its_contract(support, shared_gateway, dedicated_gateway):
    html = client_for(support).get("/gateways/").content.decode()
    assert "専有GW-1" in html and "契約A" in html
