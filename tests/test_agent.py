"""The gateway agent (vpn-gateway-agent) against a live console, in file mode."""

from __future__ import annotations

import os
import shlex
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings

from access import provisioning
from access.models import AccessStatus
from gateways.agent import Agent, ApplyFailed, Backoff, ConsoleUnavailable
from gateways.tokens import issue_token
from tests.conftest import make_gateway
from tests.e2e import require_tools
from tests.helpers import agent_command

BASE_DIR = Path(settings.BASE_DIR)


def wait_for(condition: Callable[[], object], timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def run_agent(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        agent_command(*args, **kwargs),
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=30,
    )


def private_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def enrolled(transactional_db, tmp_path):
    """An unregistered gateway and a 0600 file holding its token."""
    gateway = make_gateway("新GW", registered=False)
    token = issue_token(gateway)
    gateway.save()
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    return gateway, token, token_file


def test_the_agent_runs_on_the_standard_library_alone():
    # -S: no site-packages at all, as on a gateway host without Django.
    code = (
        "import sys, gateways.agent, gateways.wireguard, gateways.l2tp\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names)"
        " - set(sys.builtin_module_names) - {'__main__'}))"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=BASE_DIR, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['gateways']"


def test_file_mode_registers_and_writes_0600_files_with_every_credential(
    live_server, enrolled, contract_a, operator_a, tmp_path
):
    wg = require_tools("wg")["wg"]
    gateway, token, token_file = enrolled
    state = tmp_path / "state"
    first = run_agent(
        live_server.url, gateway.public_id, token_file, state, "--mode", "file", "--once"
    )
    assert first.returncode == 0, first.stderr

    private_key = (state / "private.key").read_text().strip()
    gateway.refresh_from_db()
    derived = subprocess.run(
        [wg, "pubkey"], input=private_key, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert gateway.wg_public_key == derived
    assert gateway.applied_revision == 1

    wg_access, wg_issued = provisioning.create_access(
        contract=contract_a, actor=operator_a, protocol="wireguard", device_name="sensor-1"
    )
    l2tp_access, l2tp_issued = provisioning.create_access(
        contract=contract_a, actor=operator_a, protocol="l2tp", device_name="plc-1"
    )
    assert wg_access.gateway == gateway
    second = run_agent(
        live_server.url, gateway.public_id, token_file, state, "--mode", "file", "--once"
    )
    assert second.returncode == 0, second.stderr
    for access in (wg_access, l2tp_access):
        access.refresh_from_db()
        assert access.status == AccessStatus.READY

    assert private_mode(state) == 0o700
    assert private_mode(state / "private.key") == 0o600
    wg_file = state / "wg0.conf"
    assert private_mode(wg_file) == 0o600
    assert wg_file.read_text() == (
        "[Interface]\n"
        f"PrivateKey = {private_key}\n"
        "ListenPort = 51820\n"
        "\n"
        "[Peer]\n"
        f"PublicKey = {wg_issued.public_key}\n"
        "AllowedIPs = 198.18.0.2/32\n"
    )

    l2tp_dir = state / "l2tp"
    files = {path.name: path for path in l2tp_dir.iterdir()}
    assert "chap-secrets" in files
    assert all(private_mode(path) == 0o600 for path in files.values())
    # pppd's secrets files quote words like a shell does.
    chap = [
        shlex.split(line, comments=True) for line in files["chap-secrets"].read_text().splitlines()
    ]
    assert [l2tp_access.l2tp_username, "*", l2tp_issued.password, "198.18.0.3"] in chap
    # strongSwan's secrets may spell the key as 0x-hex, which keeps it out of its quoting.
    texts = [path.read_text() for path in files.values()]
    assert any(gateway.psk in text or gateway.psk.encode().hex() in text for text in texts)

    logs = first.stderr + second.stderr
    for secret in (token, private_key, gateway.psk, l2tp_issued.password):
        assert secret not in logs


def test_a_rejected_token_stops_the_agent_with_a_clear_message(live_server, enrolled, tmp_path):
    require_tools("wg")
    gateway, token, token_file = enrolled
    token_file.write_text("vpngw_not-the-right-token\n")
    result = run_agent(
        live_server.url, gateway.public_id, token_file, tmp_path / "state", "--interval", "0.2"
    )
    assert result.returncode == 2
    assert "401" in result.stderr
    assert f"manage.py gateway_token {gateway.public_id}" in result.stderr
    assert "not-the-right-token" not in result.stderr


def test_a_missing_token_stops_the_agent_before_it_calls_anyone(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateways.agent",
            "--console-url",
            "http://127.0.0.1:9",
            "--gateway",
            "gw-aaaaaaaaaa",
            "--state-dir",
            str(tmp_path),
        ],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "VPN_GATEWAY_TOKEN"},
    )
    assert result.returncode == 2
    assert "no token" in result.stderr


def test_an_unknown_mode_is_a_usage_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gateways.agent", "--console-url", "http://127.0.0.1:9"]
        + ["--gateway", "gw-aaaaaaaaaa", "--mode", "wg,carrier-pigeon"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "carrier-pigeon" in result.stderr


# The console going away and coming back needs a console that can be stopped:
# a real runserver process on its own SQLite file.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ConsoleProcess:
    """``manage.py runserver`` on a loopback port against a throwaway SQLite file."""

    def __init__(self, directory: Path):
        self.db = directory / "console.sqlite3"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "vpnconsole.settings",
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{self.db}",
            "VPNCONSOLE_VAR_DIR": str(directory),
        }
        self.server: subprocess.Popen | None = None

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def start(self) -> None:
        self.server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._accepts, 20, "runserver to listen")

    def _accepts(self) -> bool:
        assert self.server.poll() is None, "runserver exited"
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        self.server = None

    def query(self, sql: str, *params) -> list[tuple]:
        with sqlite3.connect(self.db, timeout=20) as connection:
            return connection.execute(sql, params).fetchall()


SETUP = """
from django.contrib.auth import get_user_model
from gateways.models import Gateway
from gateways.tokens import issue_token
from gateways.secretfile import write_private
from pathlib import Path
from vpnconsole.models import Contract, Membership, Role

contract = Contract.objects.create(name="契約A")
user = get_user_model().objects.create_user(username="operator")
Membership.objects.create(user=user, role=Role.OPERATOR, contract=contract)
gateway = Gateway(name="共用", endpoint_host="192.0.2.1", tunnel_network="198.18.0.0/24",
                  tunnel_address="198.18.0.1", dns_servers="198.18.0.1",
                  allowed_ips="198.18.0.0/24")
token = issue_token(gateway)
gateway.save()
write_private(Path({token_file!r}), token + "\\n")
print(gateway.public_id)
"""

CREATE = """
from django.contrib.auth import get_user_model
from access import provisioning
from vpnconsole.models import Contract

access, _ = provisioning.create_access(
    contract=Contract.objects.get(), actor=get_user_model().objects.get(),
    protocol="wireguard", device_name="sensor-1")
print(access.public_id)
"""


@pytest.fixture
def console(tmp_path):
    console = ConsoleProcess(tmp_path)
    console.manage("migrate", "--noinput", "-v0")
    yield console
    console.stop()


def test_the_agent_keeps_going_while_the_console_is_down_and_catches_up(console, tmp_path):
    require_tools("wg")
    token_file = tmp_path / "token"
    gateway_id = console.manage(
        "shell", "-v", "0", "-c", SETUP.format(token_file=str(token_file))
    ).strip()
    console.start()
    agent = subprocess.Popen(
        agent_command(
            console.url,
            gateway_id,
            token_file,
            tmp_path / "state",
            "--mode",
            "file",
            "--interval",
            "0.2",
            "--max-backoff",
            "1",
        ),
        cwd=BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(
            lambda: (
                console.query("SELECT applied_revision FROM gateways_gateway")[0][0] == 1
                or agent.poll() is not None
            ),
            15,
            "the agent to register and apply revision 1",
        )
        assert agent.poll() is None, agent.communicate()[1]
        console.stop()
        access_id = console.manage("shell", "-v", "0", "-c", CREATE).strip()

        def status() -> str:
            sql = "SELECT status FROM access_vpnaccess WHERE public_id = ?"
            return console.query(sql, access_id)[0][0]

        assert status() == AccessStatus.PREPARING
        time.sleep(2)  # several failed polls and backoffs
        assert agent.poll() is None, "the agent gave up while the console was down"
        assert status() == AccessStatus.PREPARING

        console.start()
        wait_for(lambda: status() == AccessStatus.READY, 15, "the access to turn 利用可能")
        peers = (tmp_path / "state" / "wg0.conf").read_text()
        assert "[Peer]" in peers
    finally:
        agent.terminate()
        _, stderr = agent.communicate(timeout=10)
    assert "console unreachable" in stderr
    assert "console reachable again" in stderr
    assert token_file.read_text().strip() not in stderr


# The loop's rules, with a console and drivers that are stand-ins.


class FakeConsole:
    gateway = "gw-aaaaaaaaaa"

    def __init__(self, configs):
        self.configs = list(configs)
        self.calls: list[tuple] = []

    def register(self, public_key):
        self.calls.append(("register", public_key))

    def fetch(self, have_revision):
        self.calls.append(("fetch", have_revision))
        config = self.configs[0]
        return None if config["revision"] == have_revision else config

    def ack(self, revision):
        self.calls.append(("ack", revision))
        return True


class FlakyDriver:
    def __init__(self, failures: int):
        self.failures = failures
        self.applied: list[int] = []

    def apply(self, config):
        if self.failures:
            self.failures -= 1
            raise OSError("disk full")
        self.applied.append(config["revision"])


def test_a_revision_is_acknowledged_only_after_every_driver_applied_it():
    console = FakeConsole([{"revision": 7}])
    good, flaky = FlakyDriver(0), FlakyDriver(1)
    agent = Agent(console, {"wg": good, "file": flaky}, "public-key")
    with pytest.raises(ApplyFailed, match="file: revision 7: OSError"):
        agent.step()
    assert ("ack", 7) not in console.calls
    agent.step()
    assert console.calls[-1] == ("ack", 7)
    assert flaky.applied == [7]
    agent.step()  # unchanged: a 304, nothing applied again
    assert console.calls[-1] == ("fetch", 7)
    assert flaky.applied == [7]


def test_an_ack_lost_while_the_console_was_down_is_sent_before_the_next_fetch():
    console = FakeConsole([{"revision": 3}])
    agent = Agent(console, {}, "public-key")

    def down(revision):
        raise ConsoleUnavailable("connection refused")

    console.ack = down
    with pytest.raises(ConsoleUnavailable):
        agent.step()
    del console.ack
    agent.step()
    assert console.calls[-2:] == [("ack", 3), ("fetch", 3)]


def test_backoff_grows_with_jitter_up_to_its_cap():
    backoff = Backoff(1, 8)
    delays = [backoff.next() for _ in range(6)]
    assert 0.5 <= delays[0] <= 1
    assert 1 <= delays[1] <= 2
    assert all(4 <= delay <= 8 for delay in delays[3:])
    backoff.reset()
    assert backoff.next() <= 1
