"""Many app servers creating accesses on one gateway at once: 8 separate processes
× 50 creates end with every address distinct and no create lost, and a pool too
small for everyone fails cleanly (PoolExhausted, nothing half-made).

On SQLite the processes share the test database file (BEGIN IMMEDIATE queues
the writers); under ``pytest --postgres`` they share the throwaway server's
test database, where the gateway row lock serialises allocation.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from access.models import VpnAccess
from devices.models import Device
from gateways.models import Gateway
from gateways.pool import capacity
from tests.conftest import make_gateway
from vpnconsole.models import AuditAction, AuditEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PROCESSES = 8
CREATES = 50
ON_SMALL_POOL = 20
SCRIPT = Path(__file__).parent / "scripts" / "concurrent_creates.py"


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


def run_workers(tmp_path: Path, contract, user, plan: list[list]) -> list[dict]:
    start = tmp_path / "start"
    env = {**os.environ, "DATABASE_URL": database_url()}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                str(SCRIPT),
                str(start),
                contract.public_id,
                user.username,
                str(n),
                json.dumps(plan),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=Path(__file__).parent.parent,
        )
        for n in range(PROCESSES)
    ]
    time.sleep(0.5)  # let every process import Django, then start them together
    start.touch()
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_concurrent_creates_get_distinct_addresses_and_a_full_pool_fails_cleanly(
    contract_a, operator_a, tmp_path
):
    big = make_gateway("big", network="198.18.0.0/23", address="198.18.0.1")
    small = make_gateway("small", network="198.18.4.0/25", address="198.18.4.1")
    plan = [[big.public_id, CREATES], [small.public_id, ON_SMALL_POOL]]

    results = run_workers(tmp_path, contract_a, operator_a, plan)

    assert [r["errors"] for r in results] == [[]] * PROCESSES
    reported = {tuple(row) for r in results for row in r["created"]}
    stored = set(VpnAccess.objects.values_list("public_id", "gateway__public_id", "address"))
    assert reported == stored  # nothing lost, nothing extra

    for gateway, attempts in [(big, PROCESSES * CREATES), (small, PROCESSES * ON_SMALL_POOL)]:
        gateway.refresh_from_db()
        addresses = list(gateway.accesses.values_list("address", flat=True))
        assert len(addresses) == len(set(addresses)) == min(attempts, capacity(gateway))
        reserved = {gateway.network.network_address, gateway.network.broadcast_address}
        reserved.add(ipaddress.IPv4Address(gateway.tunnel_address))
        for address in map(ipaddress.IPv4Address, addresses):
            assert address in gateway.network and address not in reserved
        # Each create bumped the revision exactly once, failed ones not at all.
        assert gateway.revision == 1 + len(addresses)

    assert sum(r["exhausted"] for r in results) == PROCESSES * ON_SMALL_POOL - capacity(small)
    assert sum(len(r["created"]) for r in results) == PROCESSES * CREATES + capacity(small)
    # A failed create leaves no device, access or audit record behind.
    assert Device.objects.count() == VpnAccess.objects.count() == len(stored)
    assert AuditEvent.objects.filter(action=AuditAction.CREATE).count() == len(stored)
    assert not Gateway.objects.get(pk=small.pk).free_addresses.exists()
