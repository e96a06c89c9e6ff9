"""The gateway API: register, config and ack, each behind the gateway's bearer token."""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import os
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from access import provisioning
from access.models import AccessStatus, VpnAccess
from devices.models import Device
from gateways.models import GatewayStatus
from gateways.tokens import issue_token
from tests.conftest import make_gateway
from vpnconsole.credentials import wireguard_keypair
from vpnconsole.models import AuditAction, AuditEvent


def give_token(gateway) -> str:
    token = issue_token(gateway)
    gateway.save(update_fields=["token_hash"])
    return token


def call(client, gateway, name, token=None, body=None, **headers):
    url = reverse(f"gateway_api:{name}", args=[gateway.public_id])
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    if name == "config":
        return client.get(url, headers=headers)
    return client.post(
        url,
        data=json.dumps({} if body is None else body),
        content_type="application/json",
        headers=headers,
    )


def create(contract, actor, protocol="wireguard", name="sensor-1", gateway=None):
    access, issued = provisioning.create_access(
        contract=contract, actor=actor, protocol=protocol, device_name=name, gateway=gateway
    )
    return access, issued


@pytest.fixture
def new_gateway(db):
    return make_gateway("新GW", registered=False)


# register


def test_register_stores_the_public_key_and_activates_the_gateway(client, new_gateway):
    token = give_token(new_gateway)
    key = wireguard_keypair().public_key
    response = call(client, new_gateway, "register", token, {"public_key": key})
    assert response.status_code == 200
    assert response.json() == {
        "gateway": new_gateway.public_id,
        "public_key": key,
        "status": "active",
    }
    new_gateway.refresh_from_db()
    assert new_gateway.wg_public_key == key
    assert new_gateway.status == GatewayStatus.ACTIVE
    assert new_gateway.registered_at is not None


def test_register_is_audited_with_the_source_address(client, new_gateway):
    token = give_token(new_gateway)
    key = wireguard_keypair().public_key
    call(client, new_gateway, "register", token, {"public_key": key})
    event = AuditEvent.objects.get(action=AuditAction.GATEWAY_REGISTER)
    assert event.object_id == new_gateway.public_id
    assert event.source_address == "127.0.0.1"
    assert event.detail == {"public_key": key, "previous_public_key": None}


def test_register_again_with_the_same_key_is_a_no_op(client, new_gateway):
    token = give_token(new_gateway)
    key = wireguard_keypair().public_key
    call(client, new_gateway, "register", token, {"public_key": key})
    response = call(client, new_gateway, "register", token, {"public_key": key})
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.GATEWAY_REGISTER).count() == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"public_key": ""}, {"public_key": "not-base64!"}, {"public_key": "AAAA"}, ["x"]],
)
def test_register_rejects_a_malformed_key(client, new_gateway, body):
    token = give_token(new_gateway)
    response = call(client, new_gateway, "register", token, body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_public_key"
    new_gateway.refresh_from_db()
    assert not new_gateway.is_registered


def test_register_may_change_the_key_while_no_access_uses_it(client, new_gateway):
    token = give_token(new_gateway)
    first, second = wireguard_keypair().public_key, wireguard_keypair().public_key
    call(client, new_gateway, "register", token, {"public_key": first})
    response = call(client, new_gateway, "register", token, {"public_key": second})
    assert response.status_code == 200
    new_gateway.refresh_from_db()
    assert new_gateway.wg_public_key == second


def test_register_refuses_another_key_once_accesses_pin_the_old_one(
    client, contract_a, operator_a, shared_gateway
):
    create(contract_a, operator_a)
    token = give_token(shared_gateway)
    old_key = shared_gateway.wg_public_key
    response = call(
        client, shared_gateway, "register", token, {"public_key": wireguard_keypair().public_key}
    )
    assert response.status_code == 409
    assert response.json()["error"] == "key_change_refused"
    assert "--reset-key" in response.json()["message"]
    shared_gateway.refresh_from_db()
    assert shared_gateway.wg_public_key == old_key


# config


def test_config_holds_every_peer_the_psk_and_the_decrypted_l2tp_password(
    client, contract_a, operator_a, shared_gateway
):
    wg_access, wg_issued = create(contract_a, operator_a, "wireguard", "sensor-1")
    l2tp_access, l2tp_issued = create(contract_a, operator_a, "l2tp", "plc-1")
    token = give_token(shared_gateway)
    response = call(client, shared_gateway, "config", token)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    config = response.json()
    assert config["gateway"] == shared_gateway.public_id
    assert config["revision"] == 3
    assert config["wireguard"] == {
        "enabled": True,
        "listen_port": 51820,
        "address": "198.18.0.1/24",
        "peers": [
            {
                "access": wg_access.public_id,
                "public_key": wg_issued.public_key,
                "allowed_ips": ["198.18.0.2/32"],
            }
        ],
    }
    assert config["l2tp"] == {
        "enabled": True,
        "psk": shared_gateway.psk,
        "local_address": "198.18.0.1",
        "network": "198.18.0.0/24",
        "dns": ["198.18.0.1"],
        "users": [
            {
                "access": l2tp_access.public_id,
                "username": l2tp_access.public_id,
                "password": l2tp_issued.password,
                "address": "198.18.0.3",
            }
        ],
    }


def test_config_is_never_cached_and_carries_the_revision_as_etag(client, shared_gateway):
    token = give_token(shared_gateway)
    response = call(client, shared_gateway, "config", token)
    assert response["ETag"] == '"1"'
    assert response["Cache-Control"] == "no-store"


def test_an_unchanged_poll_is_a_304_without_building_the_config(
    client, shared_gateway, monkeypatch, django_assert_max_num_queries
):
    token = give_token(shared_gateway)
    call(client, shared_gateway, "config", token)

    def must_not_build(gateway):
        raise AssertionError("a 304 must not build the config")

    monkeypatch.setattr("gateways.api.desired_config", must_not_build)
    with django_assert_max_num_queries(1):
        response = call(client, shared_gateway, "config", token, if_none_match='"1"')
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == '"1"'


def test_a_poll_after_a_change_gets_the_new_revision(
    client, contract_a, operator_a, shared_gateway
):
    token = give_token(shared_gateway)
    call(client, shared_gateway, "config", token)
    create(contract_a, operator_a)
    response = call(client, shared_gateway, "config", token, if_none_match='"1"')
    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    assert len(response.json()["wireguard"]["peers"]) == 1


def test_serving_a_config_records_the_served_revision(client, shared_gateway):
    token = give_token(shared_gateway)
    call(client, shared_gateway, "config", token)
    shared_gateway.refresh_from_db()
    assert shared_gateway.served_revision == 1
    assert shared_gateway.last_seen_at is not None


def test_config_accepts_only_get(client, shared_gateway):
    token = give_token(shared_gateway)
    url = reverse("gateway_api:config", args=[shared_gateway.public_id])
    response = client.post(url, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 405


# ack


def test_ack_makes_accesses_ready_only_up_to_the_acked_revision(
    client, contract_a, operator_a, shared_gateway
):
    token = give_token(shared_gateway)
    first, _ = create(contract_a, operator_a, name="d1")
    call(client, shared_gateway, "config", token)  # serves revision 2
    second, _ = create(contract_a, operator_a, name="d2")  # revision 3

    response = call(client, shared_gateway, "ack", token, {"revision": 2})
    assert response.status_code == 200
    assert response.json() == {"revision": 2, "ready": 1}
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == AccessStatus.READY
    assert second.status == AccessStatus.PREPARING

    call(client, shared_gateway, "config", token)
    call(client, shared_gateway, "ack", token, {"revision": 3})
    second.refresh_from_db()
    assert second.status == AccessStatus.READY


def test_a_reissued_access_is_preparing_until_its_new_revision_is_acked(
    client, contract_a, operator_a, shared_gateway
):
    token = give_token(shared_gateway)
    access, _ = create(contract_a, operator_a)
    call(client, shared_gateway, "config", token)
    call(client, shared_gateway, "ack", token, {"revision": 2})
    access, _ = provisioning.reissue_access(access, actor=operator_a)
    assert access.status == AccessStatus.PREPARING
    call(client, shared_gateway, "ack", token, {"revision": 2})
    access.refresh_from_db()
    assert access.status == AccessStatus.PREPARING


def test_ack_of_a_revision_never_served_is_rejected(client, contract_a, operator_a, shared_gateway):
    token = give_token(shared_gateway)
    access, _ = create(contract_a, operator_a)  # revision 2, not served yet
    response = call(client, shared_gateway, "ack", token, {"revision": 2})
    assert response.status_code == 409
    assert response.json()["error"] == "unknown_revision"
    access.refresh_from_db()
    assert access.status == AccessStatus.PREPARING


@pytest.mark.parametrize("body", [{}, {"revision": "2"}, {"revision": True}, {"revision": 1.5}])
def test_ack_rejects_a_malformed_revision(client, shared_gateway, body):
    token = give_token(shared_gateway)
    response = call(client, shared_gateway, "ack", token, body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_revision"


# tokens


@pytest.mark.parametrize("name", ["register", "config", "ack"])
def test_it_requires_the_gateways_own_token(client, shared_gateway, dedicated_gateway, name):
    own = give_token(shared_gateway)
    others = give_token(dedicated_gateway)
    for token in [None, "", "vpngw_wrong", own + "x", others]:
        response = call(client, shared_gateway, name, token, {"revision": 1})
        assert response.status_code == 401, token
        assert response.json()["error"] == "unauthorized"
        assert response["WWW-Authenticate"].startswith("Bearer")
    response = call(client, shared_gateway, name, authorization=f"Basic {own}")
    assert response.status_code == 401


def test_a_gateway_without_a_token_accepts_none(client, shared_gateway):
    assert shared_gateway.token_hash == ""
    assert call(client, shared_gateway, "config", "").status_code == 401


def test_an_unknown_gateway_looks_like_a_wrong_token(client, shared_gateway):
    token = give_token(shared_gateway)
    response = client.get(
        "/api/gateways/gw-aaaaaaaaaa/config", headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401


def test_a_rotated_token_replaces_the_old_one(client, shared_gateway):
    old = give_token(shared_gateway)
    new = give_token(shared_gateway)
    assert call(client, shared_gateway, "config", old).status_code == 401
    assert call(client, shared_gateway, "config", new).status_code == 200


def test_the_token_is_stored_only_as_a_hash(shared_gateway):
    token = give_token(shared_gateway)
    shared_gateway.refresh_from_db()
    assert shared_gateway.token_hash
    assert token not in shared_gateway.token_hash
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    assert token not in dump.getvalue()


def test_it_needs_no_console_login_and_no_csrf_token(shared_gateway):
    client = Client(enforce_csrf_checks=True)
    token = give_token(shared_gateway)
    assert call(client, shared_gateway, "config", token).status_code == 200
    assert call(client, shared_gateway, "ack", token, {"revision": 1}).status_code == 200


def test_no_secret_reaches_the_logs(client, contract_a, operator_a, shared_gateway, caplog):
    caplog.set_level(logging.DEBUG)
    token = give_token(shared_gateway)
    _, l2tp_issued = create(contract_a, operator_a, "l2tp", "plc-1")
    call(client, shared_gateway, "config", token)
    call(client, shared_gateway, "ack", token, {"revision": 2})
    call(client, shared_gateway, "ack", token, {"revision": 99})
    call(client, shared_gateway, "config", token + "x")
    call(client, shared_gateway, "config", "vpngw_someone-elses-guess")
    rejected = [r for r in caplog.records if "rejected token" in r.getMessage()]
    assert len(rejected) == 2
    assert shared_gateway.public_id in rejected[0].getMessage()
    assert "127.0.0.1" in rejected[0].getMessage()
    for secret in [token, "someone-elses-guess", shared_gateway.psk, l2tp_issued.password]:
        assert secret not in caplog.text


def test_creating_an_access_on_an_unregistered_gateway_is_refused(
    contract_a, operator_a, new_gateway
):
    with pytest.raises(provisioning.GatewayUnavailable, match="まだ登録されていません"):
        create(contract_a, operator_a, gateway=new_gateway)
    assert not VpnAccess.objects.exists()


def test_a_config_with_10000_peers_takes_a_fixed_number_of_queries(
    client, contract_a, shared_gateway, django_assert_max_num_queries
):
    shared_gateway.tunnel_network = "198.18.0.0/16"
    shared_gateway.save()
    devices = Device.objects.bulk_create(
        Device(contract=contract_a, name=f"d{n}") for n in range(10_000)
    )
    accesses = []
    for n, device in enumerate(devices):
        access = VpnAccess(
            contract=contract_a,
            device=device,
            gateway=shared_gateway,
            address=int(ipaddress.IPv4Address("198.18.0.2")) + n,
            protocol="wireguard" if n % 2 else "l2tp",
        )
        if n % 2:
            access.wg_public_key = base64.b64encode(os.urandom(32)).decode()
        else:
            access.l2tp_username = access.public_id
            access.set_password(f"password-{n}")
        accesses.append(access)
    VpnAccess.objects.bulk_create(accesses, batch_size=1000)
    token = give_token(shared_gateway)
    with django_assert_max_num_queries(4):
        response = call(client, shared_gateway, "config", token)
    config = response.json()
    assert len(config["wireguard"]["peers"]) == 5_000
    assert len(config["l2tp"]["users"]) == 5_000
    assert config["l2tp"]["users"][-1]["password"] == "password-9998"
