"""L2TP/IPsec for real: the shown PSK, user name and password bring up a session.

The console's database makes the accesses (access.provisioning), the gateway is
configured only by gateways.l2tp from gateways.config.desired_config, and a second
kernel running as a process (User-mode Linux, tests/uml/) provides the ESP, PPP and
L2TP the host kernel lacks. One boot runs every phase (tests/uml/l2tp_scenario.sh):

- wrong PSK: no SA; L2TP in the clear (no IPsec at all) reaches no one;
- the shown credentials: SA, ppp0 and a ping over ppp0, with only ESP on the wire;
- wrong password: CHAP refuses it;
- 再発行 (reissue): the live session ends, the old password is refused, the new works;
- 削除 (delete): the live session ends and the password is refused;
- a second access (B) keeps its very session (same pppd, same ppp0) and its ping
  through both.

"Only ESP on the wire" is counted by tests/uml/sniff.py on the bridge ports: no
UDP/1701 in the clear in either direction between the gateway and the devices (bar
the deliberate cleartext probe from dev2, which the gateway drops and never answers),
and ESP frames both ways. The devices' ESP byte counters back that up.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tempfile
import time
from pathlib import Path

import pytest

from access import provisioning
from gateways.config import desired_config
from tests import uml
from tests.e2e import require_root, require_tools
from tests.uml import l2tp_files
from vpnconsole.credentials import typable_secret

pytestmark = pytest.mark.e2e

UML_BUDGET = 110  # seconds for every boot together: the whole test stays under 2 minutes
RETRY_NEEDS = 65  # what one boot takes on a busy machine
TOOLS = ("ip", "nsenter", "modprobe", "swanctl", "/usr/lib/ipsec/charon", "xl2tpd", "pppd")


def _results(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key: value for key, value in pairs}


def _report(work: Path, secret_values: list[str]) -> str:
    """What to show when the scenario went wrong: results and log tails, secrets masked."""
    parts = []
    for name in ("result.txt", "wire.json", "scenario.log"):
        path = work / name
        if path.exists():
            parts.append(f"--- {name}\n{path.read_text(errors='replace')[-4000:]}")
    for path in sorted(work.glob("*/*.log")) + sorted(work.glob("*/charon.out")):
        text = path.read_text(errors="replace")
        parts.append(f"--- {path.relative_to(work)}\n{text[-1500:]}")
    console = work / "console.log"
    if console.exists():
        parts.append(f"--- console.log\n{console.read_text(errors='replace')[-2000:]}")
    text = "\n".join(parts)
    for value in secret_values:
        for form in (value, value.encode().hex()):
            text = text.replace(form, "***")
    return text


# One more boot when a phase fails: the scenario's redials race xl2tpd's kernel-mode
# tunnel teardown (a stale gateway tunnel for the device's address can outlive a
# hang-up, and the next dial then finds the line busy), seen in about 1 of 7 full
# runs. A rerun must pass every phase on its own; the report of the failed boot is
# kept in the output.
@pytest.mark.flaky(reruns=1)
def test_shown_l2tp_credentials_work_and_reissue_and_delete_end_them(
    contract_a, operator_a, shared_gateway
):
    require_root()
    require_tools(*TOOLS)
    gateway = shared_gateway
    assert ipaddress.IPv4Network(gateway.tunnel_network).subnet_of(
        ipaddress.IPv4Network("198.18.0.0/15")
    )
    assert gateway.endpoint_host == l2tp_files.GATEWAY

    access_a, shown_a = provisioning.create_access(
        contract=contract_a, actor=operator_a, protocol="l2tp", device_name="l2tp-a"
    )
    access_b, shown_b = provisioning.create_access(
        contract=contract_a, actor=operator_a, protocol="l2tp", device_name="l2tp-b"
    )
    gateway.refresh_from_db()
    psk = gateway.psk  # what the complete and detail pages show as 事前共有鍵
    configs = [desired_config(gateway)]
    access_a, reshown_a = provisioning.reissue_access(access_a, actor=operator_a)
    gateway.refresh_from_db()
    configs.append(desired_config(gateway))
    provisioning.delete_access(access_a, actor=operator_a)
    gateway.refresh_from_db()
    configs.append(desired_config(gateway))
    assert [len(config["l2tp"]["users"]) for config in configs] == [2, 2, 1]

    wrong_psk, wrong_password = typable_secret(), typable_secret()
    # One xl2tpd LAC per dial (see l2tp_scenario.sh), named for its moment.
    name_a, name_b = access_a.l2tp_username, access_b.l2tp_username
    dials = [
        l2tp_files.Dial("dev1", "a", name_a, shown_a.password),
        l2tp_files.Dial("dev1", "a-wrong", name_a, wrong_password),
        l2tp_files.Dial("dev1", "a-online", name_a, shown_a.password),
        l2tp_files.Dial("dev1", "a-old", name_a, shown_a.password),
        l2tp_files.Dial("dev1", "a-new", name_a, reshown_a.password),
        l2tp_files.Dial("dev1", "a-deleted", name_a, reshown_a.password),
        l2tp_files.Dial("dev2", "b-clear", name_b, shown_b.password),
        l2tp_files.Dial("dev2", "b", name_b, shown_b.password),
    ]
    secret_values = [psk, wrong_psk, wrong_password, shown_a.password, reshown_a.password]
    secret_values.append(shown_b.password)

    def run(timeout: float):
        with tempfile.TemporaryDirectory(prefix="vpnconsole-uml-") as tmp:
            work = Path(tmp)
            work.chmod(0o700)
            l2tp_files.write(
                work,
                configs=configs,
                psk=psk,
                wrong_psk=wrong_psk,
                dials=dials,
                gateway_tunnel=gateway.tunnel_address,
            )
            boot = uml.boot(
                work, uml.HERE / "l2tp_scenario.sh", modules=l2tp_files.MODULES, timeout=timeout
            )
            result = _results(work / "result.txt") if (work / "result.txt").exists() else {}
            wire_path = work / "wire.json"
            wire = json.loads(wire_path.read_text()) if wire_path.exists() else {}
            report = _report(work, secret_values)
        assert not work.exists()
        return boot, result, wire, report

    # One boot, and a second only when UML itself crashed (see uml.CRASH_MARKERS)
    # early enough for another to fit the budget.
    started = time.monotonic()
    boots = 0
    while True:
        boots += 1
        boot, result, wire, report = run(UML_BUDGET - (time.monotonic() - started))
        if not boot.crashed or UML_BUDGET - (time.monotonic() - started) < RETRY_NEEDS:
            break
    elapsed = time.monotonic() - started

    assert not boot.crashed, f"User-mode Linux crashed ({boots} boots)\n{report}"
    assert boot.status == 0, report
    expected = {
        "apply1": "applied",
        "wrong_psk.initiate": "failed",
        "wrong_psk.device_sas": "0",
        "wrong_psk.gateway_sas": "0",
        "cleartext.connect": "timeout",
        "up.initiate": "ok",
        "up.connect": "up",
        "up.ping": "3/3",
        "wrong_password.connect": "auth failed",
        "wrong_password.ppp0": "none",
        "b.initiate": "ok",
        "b.connect": "up",
        "b.ping": "3/3",
        "reissue.before": "up",
        "reissue.apply": "applied",
        "reissue.live_session": "ended",
        "reissue.old_password": "auth failed",
        "reissue.new_password": "up",
        "reissue.new_ping": "3/3",
        "reissue.b_session": "kept",
        "reissue.b_ping": "3/3",
        "delete.apply": "applied",
        "delete.live_session": "ended",
        "delete.new_password": "auth failed",
        "delete.b_session": "kept",
        "delete.b_ping": "3/3",
    }
    assert {key: result.get(key) for key in expected} == expected, report
    assert int(result["cleartext.gateway_blocked"]) > 0, report
    assert int(result["up.gateway_sas"]) >= 2, report  # one ESP SA each way

    counts = wire.get("counts", {})
    assert counts, report
    assert wire["foreign"] == {}, report
    for port in ("v-gw", "v-dev1", "v-dev2"):
        for direction in ("from", "to"):
            prefix = f"{port} {direction}"
            assert counts.get(f"{prefix} other", 0) == 0, report
            assert counts.get(f"{prefix} other-ipv4", 0) == 0, report
    # A hang-up can race the SA's removal: the device's kernel then answers a last L2TP
    # packet from the gateway with a cleartext "port unreachable" (seen about once in
    # a few runs). Only from a device, and only a few; L2TP itself never goes clear.
    teardown = {key: n for key, n in counts.items() if key.endswith(" icmp-l2tp-unreachable")}
    assert set(teardown) <= {
        "v-dev1 from icmp-l2tp-unreachable",
        "v-dev2 from icmp-l2tp-unreachable",
        "v-gw to icmp-l2tp-unreachable",
    }, report
    assert all(n <= 4 for n in teardown.values()), report
    # Cleartext L2TP: only dev2's deliberate probe, on its way in; never an answer.
    clear = {key: n for key, n in counts.items() if key.endswith(" l2tp")}
    assert set(clear) <= {"v-dev2 from l2tp", "v-gw to l2tp"}, report
    assert clear.get("v-dev2 from l2tp", 0) > 0, report
    for port in ("v-dev1", "v-dev2"):
        assert counts.get(f"{port} from esp", 0) > 0, report
        assert counts.get(f"{port} to esp", 0) > 0, report
    for device in ("dev1", "dev2"):
        esp_bytes, _, esp_packets, _ = result[f"esp.{device}"].split()
        assert int(esp_bytes) > 0 and int(esp_packets) > 0, report

    assert elapsed < 120, f"the UML test took {elapsed:.0f} s"
    assert re.fullmatch(r"[0-9.]+", result["up.ppp0_uptime"]), report
    print(
        f"\nUML boot+scenario {boot.seconds:.1f} s ({boots} boots, {elapsed:.1f} s); "
        f"ppp0 working {result['up.ppp0_uptime']} s after boot "
        f"(SA+L2TP+PPP {result['up.ppp0_ms']} ms); wire {counts}"
    )
