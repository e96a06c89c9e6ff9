from django.http import HttpRequest

from access.models import VpnAccess
from devices.models import Device
from gateways.models import FreeAddress
from tests.helpers import client_for, make_access
from vpnconsole.models import AuditEvent


def test_delete_removes_the_access_and_device_and_frees_the_address(
    contract_a, operator_a, shared_gateway
):
    access, _ = make_access(contract_a, operator_a, name="old-sensor")
    client = client_for(operator_a)
    response = client.post(f"/access/{access.public_id}/delete/")
    assert response["Location"] == "/access/"
    assert not VpnAccess.objects.exists()
    assert not Device.objects.exists()
    assert FreeAddress.objects.filter(gateway=shared_gateway, address=access.address).exists()
    html = client.get("/access/").content.decode()
    assert f"VPNアクセス {access.public_id}（デバイス名: old-sensor）を削除しました。" in html
    event = AuditEvent.objects.get(action="delete")
    assert event.object_id == access.public_id and event.actor == operator_a


def test_the_freed_address_goes_to_the_next_access(contract_a, operator_a, shared_gateway):
    access, _ = make_access(contract_a, operator_a, name="a")
    make_access(contract_a, operator_a, name="b")
    client_for(operator_a).post(f"/access/{access.public_id}/delete/")
    again, _ = make_access(contract_a, operator_a, name="c")
    assert again.address == access.address


def test_delete_rejects_get(contract_a, operator_a, shared_gateway):
    access, _ = make_access(contract_a, operator_a)
    assert client_for(operator_a).get(f"/access/{access.public_id}/delete/").status_code == 405
    assert VpnAccess.objects.exists()


def test_delete_has_a_confirmation_page_without_javascript(contract_a, operator_a, shared_gateway):
    access, _ = make_access(contract_a, operator_a)
    html = client_for(operator_a).get(f"/access/{access.public_id}/delete/confirm/")
    assert f'action="/access/{access.public_id}/delete/"' in html.content.decode()


def test_another_contract_cannot_delete(contract_a, operator_a, operator_b, shared_gateway):
    access, _ = make_access(contract_a, operator_a)
    assert client_for(operator_b).post(f"/access/{access.public_id}/delete/").status_code == 404
    assert VpnAccess.objects.exists()


def test_delete_needs_csrf(contract_a, operator_a, shared_gateway):
    from django.test import Client

    from tests.conftest import PASSWORD

    client = Client(enforce_csrf_checks=True)
    client.login(request=HttpRequest(), username=operator_a.username, password=PASSWORD)
    access, _ = make_access(contract_a, operator_a)
    response = client.post(f"/access/{access.public_id}/delete/")
    assert response.status_code == 403
    assert "フォームの有効期限が切れました" in response.content.decode()
    assert VpnAccess.objects.exists()
