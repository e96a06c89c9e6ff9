"""L2TP/IPsec on a gateway host: render strongSwan, xl2tpd and pppd files, and apply them.

Standard library only: this module runs inside the gateway agent on hosts that have
no Django and none of the console's modules.

``render(config)`` turns the console's desired config (``gateways.config``, the whole
document or only its ``"l2tp"`` part) into file name -> content:

- ``swanctl.conf``: the IKEv1/PSK connection (ESP transport mode for L2TP's UDP 1701)
  and a drop shunt for L2TP that arrives without IPsec;
- ``secrets.conf``: the gateway's pre-shared key (0600);
- ``xl2tpd.conf``: the ``[lns default]`` section;
- ``options.xl2tpd``: pppd's options for xl2tpd's sessions (CHAP only, DNS);
- ``chap-secrets``: one ``"user" * "password" address`` line per access (0600).

Each access has a fixed address, so pppd (not xl2tpd) assigns it: a single address on
a chap-secrets line is the address pppd gives that peer.

``L2tpDriver.apply(config)`` writes those files, reloads strongSwan's credentials and
connections without touching established SAs, and ends the PPP session of every user
that was deleted or got a new password since the previous apply.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import ipaddress
import json
import os
import secrets
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

CONNECTION = "vpnconsole-l2tp"
CHILD = "l2tp"
SHUNT_CONNECTION = "vpnconsole-l2tp-cleartext"
SHUNT_CHILD = "drop-cleartext-l2tp"
PPP_OPTIONS_PATH = "/etc/ppp/options.xl2tpd"
PPP_MTU = 1280

# IKEv1 has no AEAD for IKE itself. Modern groups first; modp1024 and SHA-1 stay at the
# end because older Android and Windows L2TP clients offer nothing better.
IKE_PROPOSALS = (
    "aes256-sha256-modp3072",
    "aes256-sha256-modp2048",
    "aes128-sha256-modp2048",
    "aes256-sha1-modp2048",
    "aes128-sha1-modp2048",
    "aes256-sha1-modp1024",
    "aes128-sha1-modp1024",
)
ESP_PROPOSALS = (
    "aes256gcm16",
    "aes128gcm16",
    "aes256-sha256",
    "aes128-sha256",
    "aes256-sha1",
    "aes128-sha1",
)

SECRET_FILES = frozenset({"secrets.conf", "chap-secrets"})
FILE_NAMES = ("swanctl.conf", "secrets.conf", "xl2tpd.conf", "options.xl2tpd", "chap-secrets")

HEADER = "Managed by the vpnconsole gateway agent ({gateway}); local edits are overwritten."


class L2tpApplyError(RuntimeError):
    """The host did not take the configuration; the agent must not acknowledge it."""


def _section(config: dict) -> dict:
    return config.get("l2tp", config)


def _check_text(what: str, value: object, *, secret: bool = False) -> str:
    # Messages name the field, never the value: secrets must not reach a log line.
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ValueError(f"{what} contains a control character")
    if not secret and any(ch.isspace() for ch in value):
        raise ValueError(f"{what} contains white space")
    return value


def _ppp_word(value: str) -> str:
    """Quote a word for pppd's secrets files (pppd's getword() honours \\ and \")."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _users(section: dict, network: ipaddress.IPv4Network, local: ipaddress.IPv4Address):
    seen_names: set[str] = set()
    seen_addresses: set[ipaddress.IPv4Address] = set()
    users = []
    for user in section.get("users", []):
        name = _check_text("user name", user.get("username"))
        # "*" is pppd's wildcard even when quoted; it would let anyone in.
        if name == "*":
            raise ValueError("user name '*' is reserved")
        password = _check_text(f"password of {name}", user.get("password"), secret=True)
        # pppd reads a secret that starts with "@" as the name of a file.
        if password.startswith("@"):
            raise ValueError(f"password of {name} must not start with '@'")
        address = ipaddress.IPv4Address(user.get("address"))
        if address not in network or address in (local, network.network_address):
            raise ValueError(f"address of {name} is not a peer address in {network}")
        if name in seen_names or address in seen_addresses:
            raise ValueError(f"user {name} or its address appears twice")
        seen_names.add(name)
        seen_addresses.add(address)
        users.append((name, password, address))
    return users


def render(config: dict) -> dict[str, str]:
    """File name -> content for this gateway's strongSwan, xl2tpd and pppd."""
    section = _section(config)
    enabled = bool(section.get("enabled", True))
    gateway = _check_text("gateway id", config.get("gateway", "gateway"))
    network = ipaddress.IPv4Network(section["network"])
    local = ipaddress.IPv4Address(section["local_address"])
    if local not in network:
        raise ValueError("the local address is outside the tunnel network")
    # IPCP hands out IPv4 DNS servers only; an IPv6 one has no place in pppd's options.
    dns = [
        address
        for address in map(ipaddress.ip_address, section.get("dns", []))
        if address.version == 4
    ]
    users = _users(section, network, local) if enabled else []
    header = HEADER.format(gateway=gateway)

    if enabled:
        psk = _check_text("pre-shared key", section.get("psk"), secret=True)
        connections = _swanctl_connections()
        # Hex keeps any character of the key out of strongSwan's quoting rules.
        secret_block = f"    ike-{CONNECTION} {{\n        secret = 0x{psk.encode().hex()}\n    }}\n"
    else:
        connections = ""
        secret_block = ""

    return {
        "swanctl.conf": f"# {header}\nconnections {{\n{connections}}}\n",
        "secrets.conf": f"# {header}\nsecrets {{\n{secret_block}}}\n",
        "xl2tpd.conf": _xl2tpd_conf(header, network, local),
        "options.xl2tpd": _ppp_options(header, dns),
        "chap-secrets": _chap_secrets(header, users),
    }


def _swanctl_connections() -> str:
    proposals = ", ".join(IKE_PROPOSALS)
    esp_proposals = ", ".join(ESP_PROPOSALS)
    return f"""\
    {CONNECTION} {{
        version = 1
        proposals = {proposals}
        # Devices behind different NATs can share a private address, hence an IKE
        # identity; replacing "duplicate" SAs would drop one device for another.
        unique = never
        dpd_delay = 30s
        send_certreq = no
        local {{
            auth = psk
        }}
        remote {{
            auth = psk
        }}
        children {{
            {CHILD} {{
                mode = transport
                local_ts = dynamic[udp/1701]
                # Clients pick their source port (Windows 1701, Apple a random one).
                remote_ts = dynamic[udp]
                esp_proposals = {esp_proposals}
                dpd_action = clear
            }}
        }}
    }}
    # Without this, xl2tpd would also answer L2TP that arrives in the clear: a
    # device without the pre-shared key could skip IPsec and still log in. Each
    # SA's own policies are more specific and win over this one.
    {SHUNT_CONNECTION} {{
        children {{
            {SHUNT_CHILD} {{
                mode = drop
                local_ts = 0.0.0.0/0[udp/1701]
                remote_ts = 0.0.0.0/0[udp]
                start_action = trap
            }}
        }}
    }}
"""


def _xl2tpd_conf(header: str, network: ipaddress.IPv4Network, local: ipaddress.IPv4Address) -> str:
    return f"""\
; {header}
[global]
port = 1701
access control = no

[lns default]
; Pool {network}: each user's fixed address is on its chap-secrets line and pppd
; assigns it, so xl2tpd hands out no addresses of its own.
local ip = {local}
assign ip = no
require authentication = yes
require chap = yes
refuse pap = yes
name = vpnconsole
pppoptfile = {PPP_OPTIONS_PATH}
length bit = yes
"""


def _ppp_options(header: str, dns: list) -> str:
    # pppd takes at most two ms-dns options.
    dns_lines = "".join(f"ms-dns {address}\n" for address in dns[:2])
    return f"""\
# {header}
auth
require-chap
refuse-pap
refuse-mschap
refuse-mschap-v2
refuse-eap
{dns_lines}noipv6
noccp
nobsdcomp
nodeflate
nodefaultroute
noproxyarp
mtu {PPP_MTU}
mru {PPP_MTU}
lcp-echo-interval 30
lcp-echo-failure 4
hide-password
"""


def _chap_secrets(header: str, users) -> str:
    lines = [f"# {header}", "# client\tserver\tsecret\taddress"]
    for name, password, address in users:
        lines.append(f"{_ppp_word(name)}\t*\t{_ppp_word(password)}\t{address}")
    return "\n".join(lines) + "\n"


# --- applying -------------------------------------------------------------------------

ARPHRD_PPP = 512
SIOCGIFADDR = 0x8915
SIOCGIFDSTADDR = 0x8917
STATE_FILE = "l2tp-state.json"


def _write_atomic(path: Path, content: str, mode: int) -> None:
    """Replace ``path`` in one rename; pppd re-reads chap-secrets at every login."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        # mkstemp creates 0600 already; chmod before any byte is written.
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _digest(salt: str, name: str, password: str) -> str:
    return hashlib.sha256(f"{salt}\0{name}\0{password}".encode()).hexdigest()


def _ifreq_ipv4(sock: socket.socket, request: int, ifname: str) -> ipaddress.IPv4Address | None:
    try:
        result = fcntl.ioctl(sock.fileno(), request, struct.pack("16s24x", ifname.encode()))
    except OSError as exc:
        if exc.errno in (errno.EADDRNOTAVAIL, errno.ENODEV, errno.ENXIO):
            return None
        raise
    return ipaddress.IPv4Address(result[20:24])


class L2tpDriver:
    """Applies the rendered files to this host's strongSwan (charon), xl2tpd and pppd.

    ``state_dir`` keeps what the previous apply installed: per user a salted SHA-256
    of name and password and the address (0600, never a password), so the next apply
    knows whose live session to end.

    Options, with the Debian defaults:

    - ``swanctl="swanctl"``: the swanctl command.
    - ``swanctl_uri=None``: vici URI of charon (None: swanctl's default socket).
    - ``swanctl_file=None``: the swanctl.conf passed as ``--file`` (None: swanctl's
      default ``/etc/swanctl/swanctl.conf``); it must include ``swanctl_conf_dir``
      (Debian's does: ``include conf.d/*.conf``). Note ``--load-conns`` unloads
      connections that this file no longer defines.
    - ``swanctl_conf_dir="/etc/swanctl/conf.d"``: receives ``vpnconsole-l2tp.conf``
      and ``vpnconsole-l2tp-secrets.conf`` (0600).
    - ``ppp_dir="/etc/ppp"``: the directory pppd reads as /etc/ppp; receives
      ``chap-secrets`` (0600) and ``options.xl2tpd``.
    - ``xl2tpd_conf="/etc/xl2tpd/xl2tpd.conf"``.
    - ``xl2tpd_restart=("systemctl", "restart", "xl2tpd")``: run only when
      xl2tpd.conf changed (that drops every session; it changes only with the
      gateway's tunnel address). None: never restart.
    - ``pid_dir="/run"``: where pppd writes ``<ifname>.pid``.
    - ``sys_class_net="/sys/class/net"``, ``proc="/proc"``.
    - ``session_end_timeout=10.0``: seconds to wait for a pppd to exit after SIGTERM
      before SIGKILL.
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        swanctl: str = "swanctl",
        swanctl_uri: str | None = None,
        swanctl_file: str | os.PathLike | None = None,
        swanctl_conf_dir: str | os.PathLike = "/etc/swanctl/conf.d",
        ppp_dir: str | os.PathLike = "/etc/ppp",
        xl2tpd_conf: str | os.PathLike = "/etc/xl2tpd/xl2tpd.conf",
        xl2tpd_restart: Sequence[str] | None = ("systemctl", "restart", "xl2tpd"),
        pid_dir: str | os.PathLike = "/run",
        sys_class_net: str | os.PathLike = "/sys/class/net",
        proc: str | os.PathLike = "/proc",
        session_end_timeout: float = 10.0,
    ):
        self.state_dir = Path(state_dir)
        self.swanctl = swanctl
        self.swanctl_uri = swanctl_uri
        self.swanctl_file = swanctl_file
        conf_dir = Path(swanctl_conf_dir)
        ppp = Path(ppp_dir)
        self.paths = {
            "swanctl.conf": conf_dir / f"{CONNECTION}.conf",
            "secrets.conf": conf_dir / f"{CONNECTION}-secrets.conf",
            "xl2tpd.conf": Path(xl2tpd_conf),
            "options.xl2tpd": ppp / "options.xl2tpd",
            "chap-secrets": ppp / "chap-secrets",
        }
        self.xl2tpd_restart = list(xl2tpd_restart) if xl2tpd_restart else None
        self.pid_dir = Path(pid_dir)
        self.sys_class_net = Path(sys_class_net)
        self.proc = Path(proc)
        self.session_end_timeout = session_end_timeout

    # The one entry point.

    def apply(self, config: dict) -> None:
        files = render(config)  # validates everything before the host is touched
        section = _section(config)
        secret_values = self._secret_values(section)
        previous = self._load_state()
        salt = previous.get("salt") or secrets.token_hex(16)
        enabled = bool(section.get("enabled", True))
        current = {}
        if enabled:
            for user in section.get("users", []):
                current[user["username"]] = {
                    "digest": _digest(salt, user["username"], user["password"]),
                    "address": str(ipaddress.IPv4Address(user["address"])),
                }

        # Compared with what the last successful apply installed, not with the file on
        # disk: an apply that failed after writing it must still restart xl2tpd later.
        xl2tpd_digest = hashlib.sha256(files["xl2tpd.conf"].encode()).hexdigest()
        xl2tpd_changed = previous.get("xl2tpd_conf") != xl2tpd_digest
        for name in FILE_NAMES:
            _write_atomic(self.paths[name], files[name], 0o600 if name in SECRET_FILES else 0o644)

        # Credentials first: a connection loaded before its key would fail logins.
        self._swanctl("--load-creds", "--noprompt", redact=secret_values)
        self._swanctl("--load-conns", redact=secret_values)
        if xl2tpd_changed and self.xl2tpd_restart:
            self._run(self.xl2tpd_restart, redact=secret_values)

        revoked = {
            entry["address"]
            for name, entry in previous.get("users", {}).items()
            if current.get(name) != entry
        }
        live = {entry["address"] for entry in current.values()}
        self._end_sessions(str(ipaddress.IPv4Address(section["local_address"])), revoked, live)
        self._save_state({"salt": salt, "users": current, "xl2tpd_conf": xl2tpd_digest})

    # strongSwan and commands.

    def _swanctl(self, *args: str, redact: list[str]) -> None:
        command = [self.swanctl, *args]
        if self.swanctl_uri:
            command += ["--uri", self.swanctl_uri]
        if self.swanctl_file:
            command += ["--file", str(self.swanctl_file)]
        self._run(command, redact=redact)

    def _run(self, command: list[str], *, redact: list[str]) -> None:
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise L2tpApplyError(f"{' '.join(command[:2])}: {exc.__class__.__name__}") from None
        if result.returncode != 0:
            output = (result.stderr.strip() or result.stdout.strip()).splitlines()[-3:]
            detail = _redact(" | ".join(output), redact)
            raise L2tpApplyError(
                f"{' '.join(command[:2])} exited with {result.returncode}: {detail}"
            )

    @staticmethod
    def _secret_values(section: dict) -> list[str]:
        values = [section.get("psk") or ""]
        values += [user.get("password") or "" for user in section.get("users", [])]
        values = [value for value in values if value]
        return values + [value.encode().hex() for value in values]

    # PPP sessions.

    def _end_sessions(self, local: str, revoked: set[str], live: set[str]) -> None:
        """SIGTERM the pppd of each of our sessions whose peer lost its right to be there.

        A session is ours when its local address is the gateway's tunnel address (the
        host may have other PPP links). It goes when its peer address belonged to a
        revoked user, or belongs to no current user at all (deleted before this agent
        kept state).
        """
        victims = []
        for ifname, peer in self._ppp_sessions(local):
            if peer in revoked or peer not in live:
                process = self._pppd(ifname)
                if process:
                    victims.append((ifname, process))
        for _ifname, process in victims:
            self._signal(process, signal.SIGTERM)
        deadline = time.monotonic() + self.session_end_timeout
        for ifname, process in victims:
            if not self._wait_gone(process, deadline):
                self._signal(process, signal.SIGKILL)
                if not self._wait_gone(process, time.monotonic() + 2):
                    raise L2tpApplyError(f"pppd {process[0]} on {ifname} did not exit")

    def _ppp_sessions(self, local: str):
        try:
            names = sorted(os.listdir(self.sys_class_net))
        except FileNotFoundError:
            return []
        sessions = []
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for ifname in names:
                if self._read(self.sys_class_net / ifname / "type").strip() != str(ARPHRD_PPP):
                    continue
                # An interface still authenticating has no addresses yet; its peer
                # will be checked against the chap-secrets just written.
                if str(_ifreq_ipv4(sock, SIOCGIFADDR, ifname)) != local:
                    continue
                peer = _ifreq_ipv4(sock, SIOCGIFDSTADDR, ifname)
                if peer is not None:
                    sessions.append((ifname, str(peer)))
        return sessions

    def _pppd(self, ifname: str) -> tuple[int, str] | None:
        """The pppd behind ``ifname`` as (pid, start time), None if the link went away.

        The start time tells the process from a later one that reuses its PID.
        """
        text = self._read(self.pid_dir / f"{ifname}.pid").split()
        pid = int(text[0]) if text and text[0].isdigit() else 0
        if pid and self._read(self.proc / str(pid) / "comm").strip() == "pppd":
            fields = self._stat(pid)
            if len(fields) > 19:
                return pid, fields[19]  # field 22 of /proc/<pid>/stat: start time
        if not (self.sys_class_net / ifname).exists():
            return None  # the session ended by itself meanwhile
        raise L2tpApplyError(f"cannot find the pppd of {ifname}")

    def _stat(self, pid: int) -> list[str]:
        """/proc/<pid>/stat from the state field on ([] when the process is gone)."""
        return self._read(self.proc / str(pid) / "stat").rpartition(")")[2].split()

    def _alive(self, process: tuple[int, str]) -> bool:
        fields = self._stat(process[0])
        # A zombie has exited; reaping it is its parent's (xl2tpd's) business.
        return len(fields) > 19 and fields[19] == process[1] and fields[0] != "Z"

    def _signal(self, process: tuple[int, str], signum: int) -> None:
        if self._alive(process):
            with contextlib.suppress(ProcessLookupError):
                os.kill(process[0], signum)

    def _wait_gone(self, process: tuple[int, str], deadline: float) -> bool:
        while self._alive(process):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    # State and files.

    @staticmethod
    def _read(path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError, ProcessLookupError):
            return ""

    def _load_state(self) -> dict:
        text = self._read(self.state_dir / STATE_FILE)
        if not text:
            return {}
        try:
            state = json.loads(text)
        except ValueError:
            raise L2tpApplyError(f"{self.state_dir / STATE_FILE} is not valid JSON") from None
        return state if isinstance(state, dict) else {}

    def _save_state(self, state: dict) -> None:
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_atomic(self.state_dir / STATE_FILE, json.dumps(state, sort_keys=True), 0o600)


def _redact(text: str, secret_values: list[str]) -> str:
    for value in sorted(secret_values, key=len, reverse=True):
        text = text.replace(value, "***")
    return text
