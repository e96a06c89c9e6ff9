"""The cast every test needs: contract A (with a VPNゲートウェイ契約) and its operator,
contract B (without) and its operator, a support user, the shared gateway and A's
dedicated gateway, both registered with real WireGuard keys."""

from __future__ import annotations

import contextlib
import shutil

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from gateways.models import Gateway, GatewayStatus
from vpnconsole.credentials import wireguard_keypair
from vpnconsole.models import Contract, Membership, Role

PASSWORD = "test-pass-123"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the English catalogue: its .mo is generated, never committed.

    Before collection, so that no catalogue is cached untranslated. compilemessages
    leaves a .mo that is newer than its .po alone, so this costs nothing most runs.
    Without gettext's msgfmt the English tests skip, or fail in CI (tests/e2e.py).
    """
    if shutil.which("msgfmt") is None:
        return
    with contextlib.chdir(settings.BASE_DIR):
        call_command(
            "compilemessages",
            locale=["en"],
            ignore_patterns=[".*", "var", "staticfiles", "node_modules"],
            verbosity=0,
        )


def make_user(username: str, role: str, contract: Contract | None = None):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    Membership.objects.create(user=user, role=role, contract=contract)
    return user


def make_gateway(
    name: str,
    *,
    contract=None,
    network="198.18.0.0/24",
    address="198.18.0.1",
    host="192.0.2.1",
    port=51820,
    registered=True,
    **extra,
) -> Gateway:
    keys = wireguard_keypair()
    gateway = Gateway(
        name=name,
        contract=contract,
        endpoint_host=host,
        endpoint_port=port,
        tunnel_network=network,
        tunnel_address=address,
        dns_servers=address,
        allowed_ips=network,
        **extra,
    )
    if registered:
        gateway.wg_public_key = keys.public_key
        gateway.status = GatewayStatus.ACTIVE
    gateway.save()
    gateway.test_private_key = keys.private_key  # the gateway host's half, for e2e tests
    return gateway


@pytest.fixture
def contract_a(db):
    return Contract.objects.create(name="契約A", has_gateway_contract=True)


@pytest.fixture
def contract_b(db):
    return Contract.objects.create(name="契約B", has_gateway_contract=False)


@pytest.fixture
def operator_a(contract_a):
    return make_user("operator-a", Role.OPERATOR, contract_a)


@pytest.fixture
def operator_b(contract_b):
    return make_user("operator-b", Role.OPERATOR, contract_b)


@pytest.fixture
def support(db):
    return make_user("support", Role.SUPPORT)


@pytest.fixture
def shared_gateway(db):
    return make_gateway("共用ゲートウェイ")


@pytest.fixture
def dedicated_gateway(contract_a):
    return make_gateway(
        "専有GW-1",
        contract=contract_a,
        network="198.18.1.0/24",
        address="198.18.1.1",
        host="192.0.2.2",
    )
