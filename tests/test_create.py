import re

from access.models import VpnAccess
from devices.models import Device
from tests.helpers import client_for, create_through_pages, make_access


def test_the_form_has_the_seed_fields_for_a_gateway_contract(operator_a, dedicated_gateway):
    html = client_for(operator_a).get("/access/new/").content.decode()
    for label in [
        "VPNアクセス作成",
        "プロトコル",
        "WireGuard",
        "L2TP/IPsec",
        "デバイス名",
        "VPNゲートウェイ",
        "専有GW-1",
        "戻る",
        "確認",
    ]:
        assert label in html, label
    assert "作成後はプロトコルを変更できません。" in html


def test_the_form_has_no_gateway_field_without_a_gateway_contract(operator_b, shared_gateway):
    html = client_for(operator_b).get("/access/new/").content.decode()
    assert 'name="gateway"' not in html


def test_it_shows_japanese_errors_next_to_the_fields(operator_a, shared_gateway):
    response = client_for(operator_a).post("/access/new/", {"device_name": ""})
    html = response.content.decode()
    assert response.status_code == 200
    assert "プロトコルを選択してください。" in html
    assert "デバイス名を入力してください。" in html
    assert "is-invalid" in html


def test_it_rejects_a_too_long_name_and_keeps_the_input(operator_a, shared_gateway):
    name = "n" * 65
    html = (
        client_for(operator_a)
        .post("/access/new/", {"protocol": "l2tp", "device_name": name})
        .content.decode()
    )
    assert "64文字以内" in html
    assert f'value="{name}"' in html
    assert re.search(r'value="l2tp"[^>]*checked', html)


def test_it_rejects_a_device_name_already_used_in_the_contract(
    contract_a, operator_a, shared_gateway
):
    make_access(contract_a, operator_a, name="Sensor-1")
    html = (
        client_for(operator_a)
        .post("/access/new/", {"protocol": "wireguard", "device_name": "sensor-1"})
        .content.decode()
    )
    assert "既に使われています" in html


def test_it_rejects_another_contracts_gateway(
    operator_b, contract_a, shared_gateway, dedicated_gateway
):
    html = client_for(operator_b).post(
        "/access/new/",
        {"protocol": "wireguard", "device_name": "x", "gateway": dedicated_gateway.public_id},
    )
    # Contract B has no gateway field at all: the value is ignored, the shared one is used.
    assert html.status_code == 302


def test_an_unknown_gateway_is_a_form_error(operator_a, shared_gateway):
    html = (
        client_for(operator_a)
        .post(
            "/access/new/", {"protocol": "wireguard", "device_name": "x", "gateway": "gw-nothere"}
        )
        .content.decode()
    )
    assert "選択できないVPNゲートウェイです。" in html


def test_confirm_shows_the_input_read_only(operator_a, dedicated_gateway):
    client = client_for(operator_a)
    client.post(
        "/access/new/",
        {"protocol": "l2tp", "device_name": "PLC-9", "gateway": dedicated_gateway.public_id},
    )
    html = client.get("/access/new/confirm/").content.decode()
    for text in ["作成確認", "L2TP/IPsec", "PLC-9", "専有GW-1", "作成", "戻る"]:
        assert text in html
    assert '<input type="text"' not in html
    assert not VpnAccess.objects.exists()


def test_back_from_confirm_keeps_the_input(operator_a, dedicated_gateway):
    client = client_for(operator_a)
    client.post(
        "/access/new/",
        {"protocol": "l2tp", "device_name": "PLC-9", "gateway": dedicated_gateway.public_id},
    )
    html = client.get("/access/new/").content.decode()
    assert 'value="PLC-9"' in html
    assert f'value="{dedicated_gateway.public_id}" selected' in html
    assert re.search(r'value="l2tp"[^>]*checked', html)
    assert not re.search(r'value="wireguard"[^>]*checked', html)


def test_create_redirects_to_complete(operator_a, shared_gateway):
    response = create_through_pages(
        client_for(operator_a), protocol="wireguard", device_name="cam-1"
    )
    access = VpnAccess.objects.get()
    assert response["Location"] == f"/access/{access.public_id}/complete/"
    assert access.device.name == "cam-1"
    assert access.gateway == shared_gateway


def test_a_double_submitted_create_makes_one_access(operator_a, shared_gateway):
    client = client_for(operator_a)
    client.post("/access/new/", {"protocol": "wireguard", "device_name": "cam-1"})
    token = client.session["vpnconsole.create_draft"]["token"]
    first = client.post("/access/new/confirm/", {"token": token})
    second = client.post("/access/new/confirm/", {"token": token})
    assert VpnAccess.objects.count() == 1
    assert Device.objects.count() == 1
    assert first["Location"] == second["Location"]
    # The secrets are still shown once, on whichever complete page is opened first.
    assert "クライアント秘密鍵" in client.get(second["Location"]).content.decode()


def test_confirm_without_a_draft_goes_back_to_the_form(operator_a):
    response = client_for(operator_a).get("/access/new/confirm/")
    assert response["Location"] == "/access/new/"


def test_a_forged_confirm_token_creates_nothing(operator_a, shared_gateway):
    client = client_for(operator_a)
    client.post("/access/new/", {"protocol": "wireguard", "device_name": "cam-1"})
    response = client.post("/access/new/confirm/", {"token": "forged"})
    assert response["Location"] == "/access/new/"
    assert not VpnAccess.objects.exists()


def test_a_name_taken_between_confirm_and_create_is_shown_on_the_form(
    contract_a, operator_a, shared_gateway
):
    client = client_for(operator_a)
    client.post("/access/new/", {"protocol": "wireguard", "device_name": "race"})
    make_access(contract_a, operator_a, name="RACE")
    token = client.session["vpnconsole.create_draft"]["token"]
    response = client.post("/access/new/confirm/", {"token": token})
    assert response.status_code == 200
    assert "既に使われています" in response.content.decode()
    assert VpnAccess.objects.count() == 1


def test_a_full_pool_is_a_clear_error(contract_a, operator_a):
    from tests.conftest import make_gateway

    make_gateway("tiny", network="198.18.0.0/30", address="198.18.0.1")
    make_access(contract_a, operator_a, name="only")
    response = create_through_pages(client_for(operator_a), protocol="l2tp", device_name="more")
    assert response.status_code == 200
    assert "アドレスプールに空きがありません" in response.content.decode()
    assert VpnAccess.objects.count() == 1
