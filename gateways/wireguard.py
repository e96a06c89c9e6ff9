"""The gateway's WireGuard server, driven with the ``wg`` and ``ip`` tools.

Standard library only: this runs on the gateway host, which has no Django. The
private key never appears on a command line: it goes to ``wg`` on stdin or in a
0600 file.

``prefix`` is prepended to every command, e.g. ``("ip", "netns", "exec", "gw")``
to drive an interface inside a network namespace while the agent itself talks
to the console from the host's namespace.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

# Whatever a tool prints about a bad line could quote a key; never pass that on.
_KEY_LIKE = re.compile(r"[A-Za-z0-9+/]{42,43}=")


class WireGuardError(Exception):
    """A ``wg`` or ``ip`` command failed; the message names the command, never a key."""


def _run(command: Sequence[str], *, prefix: Sequence[str] = (), stdin: str | None = None) -> str:
    try:
        result = subprocess.run(
            [*prefix, *command], input=stdin, capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise WireGuardError(f"{command[0]} {command[1]}: {error}") from None
    if result.returncode != 0:
        detail = _KEY_LIKE.sub("<key>", result.stderr.strip())
        raise WireGuardError(f"{' '.join(command[:2])} failed ({result.returncode}): {detail}")
    return result.stdout


def generate_private_key(*, prefix: Sequence[str] = ()) -> str:
    return _run(["wg", "genkey"], prefix=prefix).strip()


def public_key(private_key: str, *, prefix: Sequence[str] = ()) -> str:
    return _run(["wg", "pubkey"], prefix=prefix, stdin=private_key + "\n").strip()


def render(config: dict, private_key: str) -> str:
    """The ``wg setconf`` file for the console's config JSON (see gateways.config)."""
    wireguard = config["wireguard"]
    lines = [
        "[Interface]",
        f"PrivateKey = {private_key}",
        f"ListenPort = {int(wireguard['listen_port'])}",
    ]
    for peer in wireguard["peers"] if wireguard.get("enabled", True) else []:
        lines += [
            "",
            "[Peer]",
            f"PublicKey = {_one_line(peer['public_key'])}",
            f"AllowedIPs = {', '.join(_one_line(ip) for ip in peer['allowed_ips'])}",
        ]
    return "\n".join(lines) + "\n"


def _one_line(value: str) -> str:
    # A newline in a value from the console would smuggle a directive into the file.
    if "\n" in value or "\r" in value:
        raise ValueError("config value contains a line break")
    return value


def apply(interface: str, conf_path: Path, address: str, *, prefix: Sequence[str] = ()) -> None:
    """Sync ``interface`` to ``conf_path`` and make sure it has ``address`` and is up.

    ``wg syncconf`` changes only what differs, so peers that stay keep their
    sessions; ``setconf`` would drop and re-handshake every peer.
    """
    try:
        _run(["ip", "link", "show", "dev", interface], prefix=prefix)
    except WireGuardError:
        raise WireGuardError(
            f"interface {interface} does not exist (create it, e.g. "
            f"'ip link add {interface} type wireguard' or wireguard-go {interface})"
        ) from None
    _run(["wg", "syncconf", interface, str(conf_path)], prefix=prefix)
    wanted = ipaddress.IPv4Interface(address)
    present = _run(["ip", "-4", "-o", "addr", "show", "dev", interface], prefix=prefix)
    if not any(ipaddress.IPv4Interface(word) == wanted for word in _inet_words(present)):
        _run(["ip", "addr", "add", str(wanted), "dev", interface], prefix=prefix)
    _run(["ip", "link", "set", "up", "dev", interface], prefix=prefix)


def _inet_words(ip_output: str) -> list[str]:
    words = ip_output.split()
    return [words[i + 1] for i, word in enumerate(words[:-1]) if word == "inet"]
