"""vpn-gateway-agent: keeps a gateway host's VPN servers in step with the console.

It runs on the gateway host, which has no Django: standard library only, plus
the ``wg`` and ``ip`` tools. It keeps the gateway's WireGuard private key in its
state directory (0600) and tells the console only the public key (``register``),
then polls ``config`` with ``If-None-Match`` (an unchanged poll is a 304),
applies each new revision with the drivers chosen by ``--mode`` and
acknowledges it only after every driver succeeded, which is what turns the
revision's accesses 利用可能 in the console.

While the console is unreachable it backs off with jitter and recovers by
itself. A token the console rejects (401) or a refused registration is fatal:
retrying cannot fix it, so it exits 2 with a message saying what to do.

Secrets (the token, private key, PSK, passwords) are never logged: log lines
name revisions, counts and file paths only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import random
import re
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from gateways import wireguard
from gateways.secretfile import make_private_dir, write_private

log = logging.getLogger("vpn-gateway-agent")

TOKEN_ENV = "VPN_GATEWAY_TOKEN"  # noqa: S105 - a variable name, not a secret
PRIVATE_KEY_FILE = "private.key"
USER_AGENT = "vpn-gateway-agent/1"
EXIT_FATAL = 2
EXIT_ONCE_FAILED = 1
# RFC 6750 b64token: anything else would not survive an Authorization header.
_TOKEN_RE = re.compile(r"[A-Za-z0-9._~+/=-]+")


class Fatal(Exception):
    """Retrying cannot help (bad token, refused registration, bad options): stop."""


class ConsoleUnavailable(Exception):
    """The console did not answer usefully (no connection, 5xx): back off and retry."""


class ApplyFailed(Exception):
    """A driver could not apply a revision; it is not acknowledged."""


# -- the console -------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could carry the bearer token to another host; the API never redirects.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Console:
    """The console's gateway API, as seen by one gateway."""

    def __init__(self, url: str, gateway: str, token: str, *, timeout: float = 30):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise Fatal("--console-url must be an http:// or https:// URL")
        if parts.username is not None or parts.password is not None:
            # It would end up in log lines; the token is the only credential.
            raise Fatal("--console-url must not contain a user name or password")
        self.gateway = gateway
        self.base = f"{url.rstrip('/')}/api/gateways/{gateway}/"
        self._token = token
        self._timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirects)

    def __repr__(self) -> str:
        return f"Console({self.base!r})"

    def _call(
        self, method: str, name: str, body: dict | None = None, headers: dict | None = None
    ) -> tuple[int, bytes]:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.base + name,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
        )
        if body is not None:
            request.add_header("Content-Type", "application/json")
        request.add_unredirected_header("Authorization", f"Bearer {self._token}")
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            status, content = error.code, error.read()
            error.close()
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            reason = getattr(error, "reason", None) or error
            raise ConsoleUnavailable(f"{type(reason).__name__}: {reason}") from None
        if status == 401:
            raise Fatal(
                f"the console rejected the token for {self.gateway} (HTTP 401). Issue a new "
                f"one with 'manage.py gateway_token {self.gateway} --write-to FILE' and give "
                f"it to the agent with --token-file or {TOKEN_ENV}."
            )
        if status >= 500:
            raise ConsoleUnavailable(f"HTTP {status}")
        return status, content

    def register(self, public_key: str) -> None:
        status, content = self._call("POST", "register", {"public_key": public_key})
        if status != 200:
            raise Fatal(f"registration refused (HTTP {status}): {_message(content)}")

    def fetch(self, have_revision: int | None) -> dict | None:
        """The desired config, or None when the console says ``have_revision`` is current."""
        headers = {} if have_revision is None else {"If-None-Match": f'"{have_revision}"'}
        status, content = self._call("GET", "config", headers=headers)
        if status == 304:
            return None
        if status != 200:
            raise Fatal(f"fetching the config failed (HTTP {status}): {_message(content)}")
        try:
            config = json.loads(content)
            int(config["revision"])
        except (ValueError, KeyError, TypeError):
            raise ConsoleUnavailable("the console sent a config that is not valid JSON") from None
        return config

    def ack(self, revision: int) -> bool:
        """Report ``revision`` as applied; False when the console never served it."""
        status, content = self._call("POST", "ack", {"revision": revision})
        if status == 409:
            return False
        if status != 200:
            raise Fatal(f"acknowledging failed (HTTP {status}): {_message(content)}")
        return True


def _message(content: bytes) -> str:
    """The console's own error message (it never holds a secret), or the first bytes."""
    try:
        body = json.loads(content)
        return str(body.get("message") or body.get("error"))
    except (ValueError, AttributeError):
        return content[:200].decode(errors="replace")


# -- drivers -----------------------------------------------------------------


@dataclass(frozen=True)
class Host:
    """What the drivers know about this gateway host."""

    state_dir: Path
    interface: str
    private_key: str = field(repr=False)
    # Prepended to wg/ip commands: applies inside --netns while HTTP stays outside.
    command_prefix: tuple[str, ...] = ()

    @property
    def wireguard_file(self) -> Path:
        return self.state_dir / f"{self.interface}.conf"


class Driver(Protocol):
    def apply(self, config: dict) -> None: ...


def _write_wireguard_file(host: Host, config: dict) -> Path:
    write_private(host.wireguard_file, wireguard.render(config, host.private_key))
    return host.wireguard_file


class WireGuardDriver:
    """``wg``: write the ``wg setconf`` file and sync the live interface to it."""

    def __init__(self, host: Host):
        self.host = host

    def apply(self, config: dict) -> None:
        path = _write_wireguard_file(self.host, config)
        wireguard.apply(
            self.host.interface,
            path,
            config["wireguard"]["address"],
            prefix=self.host.command_prefix,
        )


class FileDriver:
    """``file``: write the WireGuard and L2TP/IPsec files for another tool to apply."""

    def __init__(self, host: Host):
        self.host = host

    def apply(self, config: dict) -> None:
        from gateways import l2tp  # only the modes that serve L2TP/IPsec need it

        _write_wireguard_file(self.host, config)
        directory = self.host.state_dir / "l2tp"
        make_private_dir(directory)
        for name, content in l2tp.render(config).items():
            if Path(name).name != name or name.startswith("."):
                raise ValueError(f"l2tp.render returned an unsafe file name {name!r}")
            write_private(directory / name, content)


def _l2tp_driver(host: Host) -> Driver:
    from gateways import l2tp

    return l2tp.L2tpDriver(host.state_dir)


DRIVERS: dict[str, Callable[[Host], Driver]] = {
    "wg": WireGuardDriver,
    "file": FileDriver,
    "l2tp": _l2tp_driver,
}


def summary(config: dict) -> str:
    """What a revision holds, for the log: counts only, never a credential."""
    peers = len(config.get("wireguard", {}).get("peers", []))
    users = len(config.get("l2tp", {}).get("users", []))
    return f"{peers} WireGuard peers, {users} L2TP/IPsec users"


# -- the loop ----------------------------------------------------------------


class Backoff:
    """Exponential backoff with jitter, so gateways do not return in lockstep."""

    def __init__(self, base: float, cap: float):
        self.base = base
        self.cap = max(cap, base)
        self.failures = 0

    def next(self) -> float:
        ceiling = min(self.cap, self.base * 2**self.failures)
        self.failures += 1
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0


class Agent:
    def __init__(self, console: Console, drivers: dict[str, Driver], public_key: str):
        self.console = console
        self.drivers = drivers
        self.public_key = public_key
        self.registered = False
        self.applied: int | None = None  # what this process applied; None: fetch in full
        self.unacked: int | None = None

    def step(self) -> None:
        """Register once, then fetch, apply and acknowledge whatever changed."""
        if not self.registered:
            self.console.register(self.public_key)
            self.registered = True
            log.info("registered %s with the console", self.console.gateway)
        if self.unacked is not None:
            self._ack(self.unacked)
        config = self.console.fetch(self.applied)
        if config is None:
            log.debug("revision %s is current", self.applied)
            return
        revision = int(config["revision"])
        for name, driver in self.drivers.items():
            try:
                driver.apply(config)
            except Exception as error:
                raise ApplyFailed(
                    f"{name}: revision {revision}: {type(error).__name__}: {error}"
                ) from None
        self.applied = self.unacked = revision
        log.info("applied revision %s (%s)", revision, summary(config))
        self._ack(revision)

    def _ack(self, revision: int) -> None:
        if not self.console.ack(revision):
            # The console does not know it (restored from a backup?): start afresh.
            log.warning("the console never served revision %s; fetching in full", revision)
            self.applied = None
        self.unacked = None

    def run(self, *, once: bool, interval: float, max_backoff: float) -> int:
        backoff = Backoff(interval, max_backoff)
        while True:
            try:
                self.step()
            except (ConsoleUnavailable, ApplyFailed) as error:
                if once:
                    log.error("%s", error)
                    return EXIT_ONCE_FAILED
                delay = backoff.next()
                if isinstance(error, ConsoleUnavailable):
                    log.warning("console unreachable (%s); retrying in %.1f s", error, delay)
                else:
                    log.error("not acknowledged: %s; retrying in %.1f s", error, delay)
                time.sleep(delay)
                continue
            if backoff.failures:
                log.info("console reachable again")
                backoff.reset()
            if once:
                return 0
            time.sleep(interval)


# -- start-up ----------------------------------------------------------------


def read_token(args: argparse.Namespace) -> str:
    if args.token_file is not None:
        try:
            token = args.token_file.read_text().strip()
        except OSError as error:
            raise Fatal(f"cannot read the token file {args.token_file}: {error.strerror}") from None
        if args.token_file.stat().st_mode & 0o077:
            log.warning("token file %s is readable by others; chmod 600 it", args.token_file)
    else:
        token = args.token or os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise Fatal(f"no token: give --token-file FILE or set {TOKEN_ENV}")
    if not _TOKEN_RE.fullmatch(token):
        raise Fatal("the token contains characters a bearer token cannot have")
    return token


def load_private_key(state_dir: Path) -> str:
    """The gateway's private key, made with ``wg genkey`` on first start."""
    path = state_dir / PRIVATE_KEY_FILE
    if path.exists():
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
            log.warning("%s was readable by others; made it 0600", path)
        key = path.read_text().strip()
        if not key:
            raise Fatal(f"{path} is empty; remove it to make a new key")
        return key
    key = wireguard.generate_private_key()
    write_private(path, key + "\n")
    log.info("made a new WireGuard private key in %s", path)
    return key


def _modes(text: str) -> list[str]:
    modes = [mode.strip() for mode in text.split(",") if mode.strip()]
    unknown = [mode for mode in modes if mode not in DRIVERS]
    if unknown or not modes:
        raise argparse.ArgumentTypeError(
            f"unknown mode {', '.join(unknown) or '(none)'}; choose from {', '.join(DRIVERS)}"
        )
    return list(dict.fromkeys(modes))


def _gateway_id(text: str) -> str:
    # It becomes part of the API's URL path.
    if not re.fullmatch(r"gw-[a-z0-9]+", text):
        raise argparse.ArgumentTypeError("a gateway ID looks like gw-abcdefghij")
    return text


def _interface(text: str) -> str:
    # Linux interface names; the name is also a file name in the state directory.
    if not re.fullmatch(r"[A-Za-z0-9_.=+-]{1,15}", text) or text in {".", ".."}:
        raise argparse.ArgumentTypeError("not a network interface name (at most 15 characters)")
    return text


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="vpn-gateway-agent",
        description="Apply the console's configuration to this gateway's VPN servers.",
        epilog=f"Exit status: 0 done (--once), {EXIT_ONCE_FAILED} --once could not finish, "
        f"{EXIT_FATAL} bad token, refused registration or bad options.",
    )
    parser.add_argument("--console-url", required=True, help="e.g. https://console.example")
    parser.add_argument(
        "--gateway", type=_gateway_id, required=True, help="this gateway's ID (gw-...)"
    )
    token = parser.add_mutually_exclusive_group()
    token.add_argument("--token-file", type=Path, help="file holding the gateway token")
    token.add_argument(
        "--token",
        help=f"the token itself (visible to other users in ps: prefer --token-file or {TOKEN_ENV})",
    )
    parser.add_argument(
        "--interface", type=_interface, default="wg0", help="WireGuard interface (default wg0)"
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path("/var/lib/vpn-gateway-agent"),
        help="private key and generated files (default /var/lib/vpn-gateway-agent)",
    )
    parser.add_argument(
        "--mode",
        type=_modes,
        default=["wg"],
        help=f"comma list of drivers: {', '.join(DRIVERS)} (default wg)",
    )
    parser.add_argument(
        "--netns",
        help="apply wg/ip commands inside this network namespace (ip netns exec), while "
        "the agent talks to the console from its own",
    )
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="apply once and exit")
    when.add_argument(
        "--interval", type=_positive, default=2.0, help="seconds between polls (default 2)"
    )
    parser.add_argument(
        "--max-backoff",
        type=_positive,
        default=30.0,
        help="longest wait between retries while the console is down (default 30)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log each poll")
    return parser.parse_args(argv)


def _stop(signum, frame) -> None:
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    signal.signal(signal.SIGTERM, _stop)
    try:
        token = read_token(args)
        make_private_dir(args.state_dir)
        private_key = load_private_key(args.state_dir)
        host = Host(
            state_dir=args.state_dir,
            interface=args.interface,
            private_key=private_key,
            command_prefix=("ip", "netns", "exec", args.netns) if args.netns else (),
        )
        drivers = {mode: DRIVERS[mode](host) for mode in args.mode}
        agent = Agent(
            Console(args.console_url, args.gateway, token),
            drivers,
            wireguard.public_key(private_key),
        )
        log.info(
            "gateway %s: polling %s every %s s, modes %s",
            args.gateway,
            agent.console.base,
            args.interval,
            ",".join(args.mode),
        )
        return agent.run(once=args.once, interval=args.interval, max_backoff=args.max_backoff)
    except Fatal as error:
        log.error("%s", error)
        return EXIT_FATAL
    except wireguard.WireGuardError as error:
        log.error("%s", error)
        return EXIT_FATAL
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
