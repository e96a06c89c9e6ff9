"""Real WireGuard, end to end: the console, the agent in wg mode, a device, a ping.

Three network namespaces made here: the gateway, the device under test and
another peer that must keep its tunnel while the device's access is created,
reissued and deleted. wireguard-go runs the interfaces; the console runs as a
live server on the host's loopback; the agent runs in the host namespace too
(so it reaches the console) and applies wg/ip commands inside the gateway
namespace with ``--netns``, as a gateway that keeps its management and VPN
planes apart would.

    device 192.0.2.2 ─veth─ 192.0.2.1 gateway 198.51.100.1 ─veth─ 198.51.100.2 peer
    tunnel 198.18.0.0/24: the gateway is 198.18.0.1, accesses get .2, .3, ...
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
import wgconfig
from django.conf import settings

from access import provisioning
from access.models import AccessStatus
from gateways.tokens import issue_token
from tests.conftest import make_gateway
from tests.e2e import require_root, require_tools
from tests.helpers import agent_command

pytestmark = pytest.mark.e2e

PID = os.getpid()
# /var/run/wireguard is shared by every namespace: interface names must differ,
# and stay within 15 characters.
GATEWAY_IF = f"wgtgw{PID}"
DEVICE_IF = f"wgtdev{PID}"
PEER_IF = f"wgtpeer{PID}"
GATEWAY_HOST = "192.0.2.1"
TUNNEL_GATEWAY = "198.18.0.1"
# wg-quick's own keys, which `wg-quick strip` removes before handing the rest to wg.
WG_QUICK_ONLY = {"Address", "DNS", "MTU", "Table", "PreUp", "PostUp", "PreDown", "PostDown"}


def strip_wg_quick(text: str) -> tuple[str, list[str]]:
    """The config as ``wg-quick strip`` prints it, and the addresses it dropped."""
    kept, addresses = [], []
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() in WG_QUICK_ONLY | {"SaveConfig"}:
            if key.strip() == "Address":
                addresses += [item.strip() for item in value.split(",")]
            continue
        kept.append(line)
    return "\n".join(kept) + "\n", addresses


class Netns:
    def __init__(self, name: str):
        self.name = name

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["ip", "netns", "exec", self.name, *command],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} in {self.name}: {result.stderr.strip()}")
        return result

    def ping(self, address: str, *, tries: int = 1, wait: int = 1) -> bool:
        for _ in range(tries):
            if self.run("ping", "-c", "1", "-W", str(wait), address, check=False).returncode == 0:
                return True
        return False

    def latest_handshakes(self, interface: str) -> dict[str, int]:
        out = self.run("wg", "show", interface, "latest-handshakes").stdout
        return {key: int(when) for key, when in (line.split() for line in out.splitlines())}


class Client:
    """A device's WireGuard interface, configured from the config the console showed."""

    def __init__(self, netns: Netns, interface: str, directory: Path):
        self.netns = netns
        self.interface = interface
        self.path = directory / f"{interface}.conf"
        self.routed = False

    def configure(self, shown_config: str) -> None:
        """Load a shown config; setconf also starts the peer's handshake state afresh."""
        stripped, addresses = strip_wg_quick(shown_config)
        self.path.write_text(stripped)
        self.path.chmod(0o600)
        self.netns.run("wg", "setconf", self.interface, str(self.path))
        self.netns.run("ip", "address", "flush", "dev", self.interface)
        for address in addresses:
            self.netns.run("ip", "address", "add", address, "dev", self.interface)
        self.netns.run("ip", "link", "set", "up", "dev", self.interface)
        parsed = wgconfig.WGConfig(str(self.path))
        parsed.read_file()
        for peer in parsed.peers.values():
            for prefix in peer["AllowedIPs"].split(","):
                self.netns.run("ip", "route", "replace", prefix.strip(), "dev", self.interface)

    def handshakes(self) -> list[int]:
        return list(self.netns.latest_handshakes(self.interface).values())


class Lab:
    """Three namespaces, two veth links, wireguard-go interfaces; all removed by close()."""

    def __init__(self, tools: dict[str, str]):
        self.tools = tools
        self.gateway, self.device, self.peer = (
            Netns(f"vpnt-{role}-{PID}") for role in ("gw", "dev", "peer")
        )
        self.made: list[Netns] = []
        self.processes: list[subprocess.Popen] = []

    def ip(self, *args: str) -> None:
        subprocess.run([self.tools["ip"], *args], check=True, capture_output=True, timeout=10)

    def build(self) -> None:
        for netns in (self.gateway, self.device, self.peer):
            self.ip("netns", "add", netns.name)
            self.made.append(netns)
            self.ip("-n", netns.name, "link", "set", "lo", "up")
        self._link(self.gateway, "192.0.2.1/24", self.device, "192.0.2.2/24", "d")
        self._link(self.gateway, "198.51.100.1/24", self.peer, "198.51.100.2/24", "p")
        # The peer reaches the gateway's public address through the gateway itself.
        self.ip("-n", self.peer.name, "route", "add", "192.0.2.0/24", "via", "198.51.100.1")
        for netns, interface in (
            (self.gateway, GATEWAY_IF),
            (self.device, DEVICE_IF),
            (self.peer, PEER_IF),
        ):
            self._wireguard_go(netns, interface)

    def _link(self, near: Netns, near_address: str, far: Netns, far_address: str, tag: str):
        near_if, far_if = f"vt{tag}g{PID}", f"vt{tag}x{PID}"
        self.ip(
            "link", "add", near_if, "netns", near.name,
            "type", "veth", "peer", "name", far_if, "netns", far.name,
        )  # fmt: skip
        for netns, interface, address in (
            (near, near_if, near_address),
            (far, far_if, far_address),
        ):
            self.ip("-n", netns.name, "address", "add", address, "dev", interface)
            self.ip("-n", netns.name, "link", "set", "up", "dev", interface)

    def _wireguard_go(self, netns: Netns, interface: str) -> None:
        # -f: stay in the foreground, so the PID we hold is the daemon's.
        process = subprocess.Popen(
            ["ip", "netns", "exec", netns.name, self.tools["wireguard-go"], "-f", interface],
            env={**os.environ, "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.processes.append(process)
        deadline = time.monotonic() + 10
        while netns.run("wg", "show", interface, check=False).returncode != 0:
            assert process.poll() is None, f"wireguard-go {interface} exited"
            assert time.monotonic() < deadline, f"wireguard-go {interface} did not come up"
            time.sleep(0.05)

    def close(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for netns in self.made:
            subprocess.run([self.tools["ip"], "netns", "del", netns.name], capture_output=True)


@pytest.fixture
def lab():
    require_root()
    lab = Lab(require_tools("ip", "wg", "wireguard-go", "ping"))
    try:
        lab.build()
        yield lab
    finally:
        lab.close()


def run_agent(live_server, gateway, token_file: Path, state_dir: Path, netns: Netns):
    result = subprocess.run(
        agent_command(
            live_server.url,
            gateway.public_id,
            token_file,
            state_dir,
            *("--mode", "wg", "--interface", GATEWAY_IF, "--netns", netns.name, "--once"),
        ),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result


def status(access) -> str:
    access.refresh_from_db()
    return access.status


def test_a_shown_config_brings_up_a_real_tunnel_and_follows_reissue_and_delete(
    live_server, transactional_db, lab, contract_a, operator_a, tmp_path
):
    wg = lab.tools["wg"]
    gateway = make_gateway(
        "E2E", registered=False, host=GATEWAY_HOST, network="198.18.0.0/24", address=TUNNEL_GATEWAY
    )
    token = issue_token(gateway)
    gateway.save()
    token_file = tmp_path / "token"
    token_file.write_text(token)
    token_file.chmod(0o600)
    state = tmp_path / "agent"
    logs = []

    def agent() -> None:
        logs.append(run_agent(live_server, gateway, token_file, state, lab.gateway).stderr)

    def create(name: str):
        return provisioning.create_access(
            contract=contract_a,
            actor=operator_a,
            protocol="wireguard",
            device_name=name,
            gateway=gateway,
        )

    # The agent registers the key it made and keeps, and brings the interface up.
    agent()
    gateway.refresh_from_db()
    private_key = (state / "private.key").read_text().strip()
    derived = subprocess.run(
        [wg, "pubkey"], input=private_key, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert gateway.wg_public_key == derived
    assert lab.gateway.run("wg", "show", GATEWAY_IF, "public-key").stdout.strip() == derived
    assert lab.gateway.run("wg", "show", GATEWAY_IF, "listen-port").stdout.strip() == "51820"

    # Another peer: 準備中 and no tunnel until the agent has applied and acked.
    other, other_issued = create("other-peer")
    peer = Client(lab.peer, PEER_IF, tmp_path)
    peer.configure(other_issued.client_config)
    assert status(other) == AccessStatus.PREPARING
    assert not lab.peer.ping(TUNNEL_GATEWAY)
    agent()
    assert status(other) == AccessStatus.READY
    peer.configure(other_issued.client_config)  # skip the 5 s handshake retry timer
    assert lab.peer.ping(TUNNEL_GATEWAY, tries=5)
    [other_handshake] = [
        when
        for key, when in lab.gateway.latest_handshakes(GATEWAY_IF).items()
        if key == other_issued.public_key
    ]
    assert other_handshake > 0

    def other_peer_kept_its_session() -> None:
        assert lab.peer.ping(TUNNEL_GATEWAY, tries=3)
        # syncconf left the peer alone: setconf would have dropped its session.
        handshakes = lab.gateway.latest_handshakes(GATEWAY_IF)
        assert handshakes[other_issued.public_key] == other_handshake

    # The device under test, with the config the complete page showed.
    access, issued = create("sensor-1")
    assert status(access) == AccessStatus.PREPARING
    agent()
    assert status(access) == AccessStatus.READY
    device = Client(lab.device, DEVICE_IF, tmp_path)
    device.configure(issued.client_config)
    assert lab.device.ping(TUNNEL_GATEWAY, tries=5)
    other_peer_kept_its_session()

    # 再発行: the old key gets no handshake, the new config works.
    access, reissued = provisioning.reissue_access(access, actor=operator_a)
    assert status(access) == AccessStatus.PREPARING
    agent()
    assert status(access) == AccessStatus.READY
    device.configure(issued.client_config)
    assert not lab.device.ping(TUNNEL_GATEWAY, wait=2)
    assert device.handshakes() == [0]
    device.configure(reissued.client_config)
    assert lab.device.ping(TUNNEL_GATEWAY, tries=5)
    other_peer_kept_its_session()

    # 削除: the device gets no handshake any more.
    provisioning.delete_access(access, actor=operator_a)
    agent()
    device.configure(reissued.client_config)
    assert not lab.device.ping(TUNNEL_GATEWAY, wait=2)
    assert device.handshakes() == [0]
    other_peer_kept_its_session()

    assert oct((state / f"{GATEWAY_IF}.conf").stat().st_mode & 0o777) == "0o600"
    secrets = [token, private_key, reissued.private_key, issued.private_key, gateway.psk]
    assert not [secret for secret in secrets if any(secret in log for log in logs)]
