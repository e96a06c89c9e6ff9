import re

import pytest

from access.models import AccessStatus, VpnAccess
from tests.helpers import client_for, make_access
from vpnconsole.models import AuditEvent


@pytest.mark.parametrize("protocol", ["wireguard", "l2tp"])
def test_reissue_shows_new_secrets_once_in_a_dialog(
    contract_a, operator_a, shared_gateway, protocol
):
    access, old = make_access(contract_a, operator_a, protocol, "d")
    VpnAccess.objects.filter(pk=access.pk).update(status=AccessStatus.READY)
    client = client_for(operator_a)
    response = client.post(f"/access/{access.public_id}/reissue/")
    assert response["Location"] == f"/access/{access.public_id}/"
    html = client.get(response["Location"]).content.decode()
    assert 'id="reissued-dialog" open' in html
    access.refresh_from_db()
    assert access.status == AccessStatus.PREPARING
    if protocol == "wireguard":
        new_private = re.search(r'data-secret="private-key">([^<]+)<', html).group(1)
        assert new_private != old.private_key
        assert access.wg_public_key != old.public_key
        assert not VpnAccess.objects.filter(wg_public_key=old.public_key).exists()
    else:
        new_password = re.search(r'data-secret="password">([^<]+)<', html).group(1)
        assert new_password != old.password
        assert access.password == new_password
    again = client.get(response["Location"]).content.decode()
    assert "reissued-dialog" not in again
    assert 'data-secret="' not in again


def test_reissue_is_audited_without_secrets(contract_a, operator_a, shared_gateway):
    access, old = make_access(contract_a, operator_a, "wireguard", "d")
    client_for(operator_a).post(f"/access/{access.public_id}/reissue/")
    event = AuditEvent.objects.get(action="reissue")
    assert event.actor == operator_a
    assert event.object_id == access.public_id
    assert "public_key_fingerprint" in event.detail["old"]
    assert old.private_key not in str(event.detail)


def test_reissue_rejects_get(contract_a, operator_a, shared_gateway):
    access, _ = make_access(contract_a, operator_a)
    assert client_for(operator_a).get(f"/access/{access.public_id}/reissue/").status_code == 405


def test_reissue_has_a_confirmation_page_without_javascript(contract_a, operator_a, shared_gateway):
    access, _ = make_access(contract_a, operator_a)
    html = client_for(operator_a).get(f"/access/{access.public_id}/reissue/confirm/")
    html = html.content.decode()
    assert f'action="/access/{access.public_id}/reissue/"' in html
    assert "はい" in html and "いいえ" in html


def test_support_cannot_reissue(contract_a, operator_a, support, shared_gateway):
    access, _ = make_access(contract_a, operator_a)
    assert client_for(support).post(f"/access/{access.public_id}/reissue/").status_code == 403
    assert not AuditEvent.objects.filter(action="reissue").exists()


def test_the_detail_page_never_shows_the_creation_secrets(operator_a, shared_gateway):
    from tests.helpers import create_through_pages

    client = client_for(operator_a)
    response = create_through_pages(client, protocol="l2tp", device_name="d")
    access = VpnAccess.objects.get()
    detail = client.get(f"/access/{access.public_id}/").content.decode()
    assert "reissued-dialog" not in detail
    assert 'data-secret="' not in detail
    # They still wait for the complete page the redirect pointed to.
    assert 'data-secret="password"' in client.get(response["Location"]).content.decode()


def test_the_complete_page_never_shows_a_reissues_secrets(contract_a, operator_a, shared_gateway):
    access, _ = make_access(contract_a, operator_a, "wireguard", "d")
    client = client_for(operator_a)
    client.post(f"/access/{access.public_id}/reissue/")
    complete = client.get(f"/access/{access.public_id}/complete/").content.decode()
    assert 'data-secret="' not in complete
    assert (
        'data-secret="private-key"' in client.get(f"/access/{access.public_id}/").content.decode()
    )


def test_the_language_switch_is_hidden_while_secrets_are_shown(
    contract_a, operator_a, shared_gateway
):
    access, _ = make_access(contract_a, operator_a, "wireguard", "d")
    client = client_for(operator_a)
    client.post(f"/access/{access.public_id}/reissue/")
    with_secrets = client.get(f"/access/{access.public_id}/").content.decode()
    assert 'data-secret="private-key"' in with_secrets
    assert 'name="language"' not in with_secrets
    assert 'name="language"' in client.get(f"/access/{access.public_id}/").content.decode()
