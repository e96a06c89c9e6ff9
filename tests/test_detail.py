import re

from access.models import AccessStatus, VpnAccess
from tests.helpers import client_for, make_access


def test_wireguard_detail_shows_the_complete_fields_without_secrets(
    contract_a, operator_a, dedicated_gateway
):
    access, issued = make_access(contract_a, operator_a, "wireguard", "cam", dedicated_gateway)
    html = client_for(operator_a).get(f"/access/{access.public_id}/").content.decode()
    for label in [
        "VPNアクセス詳細",
        "ID",
        "プロトコル",
        "IPアドレス",
        "DNSサーバ",
        "接続先アドレス",
        "サーバ公開鍵",
        "クライアント公開鍵",
        "Allowed IPs",
        "VPNゲートウェイ詳細",
        "デバイス詳細",
        "デバイスID",
        "戻る",
        "削除",
        "再発行",
    ]:
        assert label in html, label
    assert issued.private_key not in html
    assert "クライアント秘密鍵" not in html
    assert "PrivateKey" not in html
    assert access.wg_public_key in html


def test_l2tp_detail_shows_the_psk_again_but_not_the_password(
    contract_a, operator_a, shared_gateway
):
    access, issued = make_access(contract_a, operator_a, "l2tp", "plc")
    html = client_for(operator_a).get(f"/access/{access.public_id}/").content.decode()
    assert shared_gateway.psk in html
    assert access.l2tp_username in html
    assert issued.password not in html
    assert not re.search(r"<dt[^>]*>パスワード</dt>", html)


def test_support_sees_detail_without_psk_or_write_controls(
    contract_a, operator_a, support, shared_gateway
):
    access, _ = make_access(contract_a, operator_a, "l2tp", "plc")
    html = client_for(support).get(f"/access/{access.public_id}/").content.decode()
    assert access.public_id in html
    assert shared_gateway.psk not in html
    assert "再発行" not in html
    assert 'action="/access/' not in html


def test_another_contract_gets_404(contract_a, operator_a, operator_b, shared_gateway):
    access, _ = make_access(contract_a, operator_a)
    assert client_for(operator_b).get(f"/access/{access.public_id}/").status_code == 404


def test_an_unknown_id_is_a_404_in_the_console_look(operator_a):
    response = client_for(operator_a).get("/access/va-aaaaaaaaaa/")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.content.decode()


def test_status_endpoint_reports_only_visible_accesses(
    contract_a, contract_b, operator_a, operator_b, shared_gateway
):
    mine, _ = make_access(contract_a, operator_a, name="m")
    theirs, _ = make_access(contract_b, operator_b, name="t")
    VpnAccess.objects.filter(pk=mine.pk).update(status=AccessStatus.READY)
    data = (
        client_for(operator_a)
        .get("/access/status/", {"ids": f"{mine.public_id},{theirs.public_id}"})
        .json()
    )
    assert data["statuses"] == {mine.public_id: {"status": "ready", "label": "利用可能"}}


def test_pages_with_a_preparing_access_carry_what_the_poller_needs(
    contract_a, operator_a, shared_gateway
):
    access, _ = make_access(contract_a, operator_a)
    client = client_for(operator_a)
    for url in ["/access/", f"/access/{access.public_id}/"]:
        html = client.get(url).content.decode()
        assert f'data-status-id="{access.public_id}" data-status="preparing"' in html
        assert 'data-status-url="/access/status/"' in html
