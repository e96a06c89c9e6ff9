import ipaddress
import subprocess

import pytest
import wgconfig

from access import provisioning
from access.models import VpnAccess
from devices.models import Device
from gateways.pool import PoolExhausted
from tests.conftest import make_gateway
from tests.e2e import require_tools


def test_wg_pubkey_of_the_private_key_equals_the_stored_public_key(
    contract_a, operator_a, shared_gateway
):
    wg = require_tools("wg")["wg"]
    access, issued = provisioning.create_access(
        contract=contract_a, actor=operator_a, protocol="wireguard", device_name="sensor-1"
    )
    derived = subprocess.run(
        [wg, "pubkey"],
        input=issued.private_key + "\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    access.refresh_from_db()
    assert derived == access.wg_public_key == issued.public_key


def test_client_config_parses_with_wgconfig(contract_a, operator_a, shared_gateway, tmp_path):
    access, issued = provisioning.create_access(
        contract=contract_a, actor=operator_a, protocol="wireguard", device_name="sensor-1"
    )
    path = tmp_path / "wg0.conf"
    path.write_text(issued.client_config)
    config = wgconfig.WGConfig(str(path))
    config.read_file()
    assert config.interface["PrivateKey"] == issued.private_key
    assert config.interface["Address"] == f"{access.ip_address}/32"
    peer = config.peers[shared_gateway.wg_public_key]
    assert peer["Endpoint"] == "192.0.2.1:51820"
    assert peer["AllowedIPs"] == "198.18.0.0/24"
    assert int(peer["PersistentKeepalive"]) == 25


def test_l2tp_access_gets_a_username_and_an_encrypted_password(
    contract_a, operator_a, shared_gateway
):
    access, issued = provisioning.create_access(
        contract=contract_a, actor=operator_a, protocol="l2tp", device_name="plc-1"
    )
    access.refresh_from_db()
    assert access.l2tp_username == access.public_id
    assert len(issued.password) >= 23
    assert issued.password not in access.password_ciphertext
    assert access.password == issued.password


def test_first_addresses_skip_network_and_gateway(contract_a, operator_a, shared_gateway):
    first, _ = provisioning.create_access(
        contract=contract_a, actor=operator_a, protocol="wireguard", device_name="d1"
    )
    second, _ = provisioning.create_access(
        contract=contract_a, actor=operator_a, protocol="l2tp", device_name="d2"
    )
    assert first.ip_address == "198.18.0.2"
    assert second.ip_address == "198.18.0.3"


def test_a_thousand_accesses_get_distinct_addresses_in_the_pool(contract_a, operator_a):
    gateway = make_gateway("big", network="198.18.0.0/22", address="198.18.0.1")
    for n in range(1000):
        provisioning.create_access(
            contract=contract_a,
            actor=operator_a,
            protocol="wireguard" if n % 2 else "l2tp",
            device_name=f"dev-{n}",
            gateway=None,
        )
    addresses = list(VpnAccess.objects.filter(gateway=gateway).values_list("address", flat=True))
    network = ipaddress.IPv4Network("198.18.0.0/22")
    assert len(addresses) == len(set(addresses)) == 1000
    for address in addresses:
        ip = ipaddress.IPv4Address(address)
        assert ip in network
        assert ip not in {
            network.network_address,
            network.broadcast_address,
            ipaddress.IPv4Address("198.18.0.1"),
        }


def test_a_full_pool_raises_a_clear_error_and_creates_nothing(contract_a, operator_a):
    make_gateway("tiny", network="198.18.0.0/30", address="198.18.0.1")
    provisioning.create_access(
        contract=contract_a, actor=operator_a, protocol="wireguard", device_name="only"
    )
    devices_before = Device.objects.count()
    with pytest.raises(PoolExhausted, match="アドレスプールに空きがありません"):
        provisioning.create_access(
            contract=contract_a, actor=operator_a, protocol="l2tp", device_name="one-too-many"
        )
    assert Device.objects.count() == devices_before
    assert not Device.objects.filter(name="one-too-many").exists()
    assert VpnAccess.objects.count() == 1


def test_a_deleted_access_address_is_reused(contract_a, operator_a, shared_gateway):
    made = [
        provisioning.create_access(
            contract=contract_a, actor=operator_a, protocol="wireguard", device_name=f"d{n}"
        )[0]
        for n in range(3)
    ]
    provisioning.delete_access(made[1], actor=operator_a)
    again, _ = provisioning.create_access(
        contract=contract_a, actor=operator_a, protocol="l2tp", device_name="again"
    )
    assert again.address == made[1].address
    after, _ = provisioning.create_access(
        contract=contract_a, actor=operator_a, protocol="l2tp", device_name="after"
    )
    assert after.ip_address == "198.18.0.5"


def test_device_names_are_unique_per_contract_ignoring_case(
    contract_a, contract_b, operator_a, operator_b, shared_gateway
):
    provisioning.create_access(
        contract=contract_a, actor=operator_a, protocol="wireguard", device_name="Sensor"
    )
    with pytest.raises(provisioning.DeviceNameTaken):
        provisioning.create_access(
            contract=contract_a, actor=operator_a, protocol="l2tp", device_name="sensor"
        )
    # Another contract may use the same name.
    provisioning.create_access(
        contract=contract_b, actor=operator_b, protocol="l2tp", device_name="sensor"
    )


def test_the_database_enforces_unique_device_names_ignoring_case(contract_a):
    from django.db import IntegrityError, transaction

    Device.objects.create(contract=contract_a, name="Pump")
    with pytest.raises(IntegrityError), transaction.atomic():
        Device.objects.create(contract=contract_a, name="PUMP")


def test_an_unregistered_gateway_is_refused(contract_a, operator_a):
    gateway = make_gateway("new", contract=contract_a, registered=False)
    with pytest.raises(provisioning.GatewayUnavailable, match="まだ登録されていません"):
        provisioning.create_access(
            contract=contract_a,
            actor=operator_a,
            protocol="wireguard",
            device_name="x",
            gateway=gateway,
        )
    assert not Device.objects.exists()


def test_another_contracts_gateway_is_refused(contract_b, operator_b, dedicated_gateway):
    with pytest.raises(provisioning.GatewayUnavailable):
        provisioning.create_access(
            contract=contract_b,
            actor=operator_b,
            protocol="wireguard",
            device_name="x",
            gateway=dedicated_gateway,
        )


def test_every_change_bumps_the_gateway_revision(contract_a, operator_a, shared_gateway):
    start = shared_gateway.revision
    access, _ = provisioning.create_access(
        contract=contract_a, actor=operator_a, protocol="wireguard", device_name="d"
    )
    provisioning.reissue_access(access, actor=operator_a)
    provisioning.delete_access(access, actor=operator_a)
    shared_gateway.refresh_from_db()
    assert shared_gateway.revision == start + 3


def test_reissue_replaces_the_key_and_sets_preparing(contract_a, operator_a, shared_gateway):
    access, first = provisioning.create_access(
        contract=contract_a, actor=operator_a, protocol="wireguard", device_name="d"
    )
    VpnAccess.objects.filter(pk=access.pk).update(status="ready")
    access.refresh_from_db()
    access, second = provisioning.reissue_access(access, actor=operator_a)
    access.refresh_from_db()
    assert second.private_key != first.private_key
    assert access.wg_public_key == second.public_key != first.public_key
    assert access.status == "preparing"
    assert not VpnAccess.objects.filter(wg_public_key=first.public_key).exists()
