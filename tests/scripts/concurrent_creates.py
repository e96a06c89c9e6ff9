"""One of the processes of tests/test_concurrency.py: creates accesses through
access.provisioning, as an app server would, and prints what happened as JSON.

Usage: concurrent_creates.py START_FILE CONTRACT_ID USERNAME WORKER PLAN_JSON
where PLAN_JSON is [[gateway public id, count], ...]. Every process imports
Django first and then waits for START_FILE, so that all of them create at once.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from access import provisioning  # noqa: E402
from gateways.models import Gateway  # noqa: E402
from gateways.pool import PoolExhausted  # noqa: E402
from vpnconsole.models import Contract  # noqa: E402


def main(start_file: str, contract_id: str, username: str, worker: str, plan: str) -> None:
    contract = Contract.objects.get(public_id=contract_id)
    actor = get_user_model().objects.get(username=username)
    gateways = [(Gateway.objects.get(public_id=gw), count) for gw, count in json.loads(plan)]
    deadline = time.monotonic() + 60
    while not Path(start_file).exists():
        if time.monotonic() > deadline:
            raise SystemExit("start signal never came")
        time.sleep(0.005)
    result = {"created": [], "exhausted": 0, "errors": []}
    for gateway, count in gateways:
        for n in range(count):
            try:
                access, _ = provisioning.create_access(
                    contract=contract,
                    actor=actor,
                    protocol="wireguard" if n % 2 else "l2tp",
                    device_name=f"w{worker}-{gateway.public_id}-{n}",
                    gateway=gateway,
                )
            except PoolExhausted:
                result["exhausted"] += 1
            except Exception as error:  # noqa: BLE001 - reported to the test, which fails
                result["errors"].append(f"{type(error).__name__}: {error}")
            else:
                result["created"].append([access.public_id, gateway.public_id, access.address])
    print(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:])
