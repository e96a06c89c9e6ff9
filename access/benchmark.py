"""The machinery of ``manage.py benchmark``: fill a scratch database with N
accesses, then time every page through the whole request stack.

The fill spreads N accesses over contracts and gateways the way a provider's
would look (a tenth of the contracts hold a dedicated gateway), with distinct,
ascending creation times, random-looking unique device names and real-shaped
credentials, by ``bulk_create`` in batches so memory stays flat in N. Besides
the N, one more contract owns a gateway with exactly ``CONFIG_PEERS`` peers for
the gateway config API case, whatever N is.

Each case is a function of a signed-in ``django.test.Client`` (middleware,
sessions, templates, all of it) that returns the final response; a check of
that response makes sure the case measured what it says (a cursor the view
ignored would measure the first page again).
"""

from __future__ import annotations

import base64
import ipaddress
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from access.models import AccessStatus, Protocol, VpnAccess
from devices.models import Device
from gateways import tokens
from gateways.models import Gateway, GatewayStatus
from vpnconsole import crypto
from vpnconsole.credentials import wireguard_keypair
from vpnconsole.ids import ALPHABET
from vpnconsole.models import Contract, Membership, Role

BATCH = 5000
CONFIG_PEERS = 10_000
KINDS = ["sensor", "meter", "camera", "plc", "router", "gateway", "logger", "pump"]
SITES = ["tokyo", "osaka", "nagoya", "sapporo", "fukuoka", "sendai", "kobe", "kyoto"]
MISS = "zzqx-no-such-device"


@dataclass
class Fixture:
    """What the cases need to know about the filled data; a few IDs, never N of them."""

    accesses: int = 0
    operator_id: int = 0
    support_id: int = 0
    operator_contract_id: int = 0
    operator_accesses: int = 0
    # Support's list: a cursor half-way down and the access right after it.
    middle_cursor: str = ""
    after_middle: str = ""
    # Operator accesses to open, reissue and delete, and one to find by name.
    samples: list[str] = field(default_factory=list)
    name_target: str = ""
    name_fragment: str = ""
    config_gateway: str = ""
    config_token: str = ""
    config_peers: int = CONFIG_PEERS


def progress(done: int, total: int, started: float, label: str) -> None:
    width = 40
    filled = width * done // max(total, 1)
    elapsed = time.monotonic() - started
    rate = done / elapsed if elapsed else 0
    sys.stderr.write(
        f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} "
        f"{elapsed:6.1f}s {rate:,.0f}/s"
    )
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _name_suffix(i: int) -> str:
    """Six base32 characters, unique for i < 2**30 and unrelated to neighbours."""
    scrambled = (i * 0x2545F491 + 0x9E3779B) % (1 << 30)
    return "".join(ALPHABET[(scrambled >> shift) & 31] for shift in range(25, -5, -5))


def _public_key() -> str:
    # A real key pair per row would cost minutes at a million; the config only relays it.
    return base64.b64encode(os.urandom(32)).decode()


def _make_gateway(name: str, network: str, contract: Contract | None) -> Gateway:
    net = ipaddress.IPv4Network(network)
    gateway = Gateway(
        name=name,
        contract=contract,
        endpoint_host="192.0.2.1",
        tunnel_network=network,
        tunnel_address=str(net.network_address + 1),
        dns_servers=str(net.network_address + 1),
        allowed_ips=network,
        wg_public_key=wireguard_keypair().public_key,
        status=GatewayStatus.ACTIVE,
    )
    gateway.save()
    return gateway


@contextmanager
def _explicit_created_at() -> Iterator[None]:
    """Let bulk_create keep the spread-out creation times instead of stamping now()."""
    fields = [VpnAccess._meta.get_field("created_at"), Device._meta.get_field("created_at")]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True


class Filler:
    def __init__(self, total: int, seed: int):
        self.total = total
        self.random = random.Random(seed)
        # Every row one second apart, the newest a minute ago.
        self.start_time = timezone.now() - timedelta(seconds=total + CONFIG_PEERS * 2 + 60)
        self.next_address: dict[int, int] = {}
        self.made = 0

    def _address(self, gateway: Gateway) -> int:
        address = self.next_address.get(gateway.pk) or int(gateway.network.network_address) + 2
        self.next_address[gateway.pk] = address + 1
        return address

    def insert(self, rows: list[tuple[Contract, Gateway, str]]) -> list[VpnAccess]:
        """One batch: (contract, gateway, device name) → devices and their accesses."""
        when = [self.start_time + timedelta(seconds=self.made + n) for n in range(len(rows))]
        self.made += len(rows)
        devices = Device.objects.bulk_create(
            [
                Device(contract=contract, name=name, created_at=at)
                for (contract, _, name), at in zip(rows, when, strict=True)
            ]
        )
        accesses = []
        for n, ((contract, gateway, _), device, at) in enumerate(
            zip(rows, devices, when, strict=True)
        ):
            access = VpnAccess(
                contract=contract,
                device=device,
                gateway=gateway,
                protocol=Protocol.WIREGUARD if n % 2 else Protocol.L2TP,
                status=AccessStatus.READY,
                address=self._address(gateway),
                revision=1,
                created_at=at,
            )
            if access.protocol == Protocol.WIREGUARD:
                access.wg_public_key = _public_key()
            else:
                access.l2tp_username = access.public_id
                access.password_ciphertext = crypto.encrypt(
                    base64.b32encode(os.urandom(15)).decode(),
                    binding=f"access:{access.public_id}:password",
                )
            accesses.append(access)
        return VpnAccess.objects.bulk_create(accesses)


def fill(
    total: int, *, seed: int = 7, config_peers: int = CONFIG_PEERS, show_progress: bool = True
) -> Fixture:
    """N accesses over 10 + N/10,000 contracts, plus the config gateway's 10,000 peers."""
    fixture = Fixture(accesses=total, config_peers=config_peers)
    filler = Filler(total, seed)
    User = get_user_model()
    contracts_n = 10 + total // 10_000
    with transaction.atomic():
        contracts = [
            Contract(name=f"契約{n:04d}", has_gateway_contract=n % 10 == 0)
            for n in range(contracts_n)
        ]
        for contract in contracts:
            contract.save()
        shared = _make_gateway("共用ゲートウェイ", "100.64.0.0/10", None)
        dedicated = {
            contract.pk: _make_gateway(f"専有-{n:04d}", f"10.{n // 10}.0.0/16", contract)
            for n, contract in enumerate(contracts)
            if contract.has_gateway_contract
        }
        operator = User.objects.create_user("bench-operator", password=None)
        Membership.objects.create(user=operator, role=Role.OPERATOR, contract=contracts[0])
        support = User.objects.create_user("bench-support", password=None)
        Membership.objects.create(user=support, role=Role.SUPPORT)
    fixture.operator_id, fixture.support_id = operator.pk, support.pk
    fixture.operator_contract_id = contracts[0].pk

    started = time.monotonic()
    middle = total // 2
    sample_every = max(1, total // contracts_n // 200)
    operator_seen = 0
    for first in range(0, total, BATCH):
        rows = []
        for i in range(first, min(first + BATCH, total)):
            contract = contracts[i % contracts_n]
            gateway = dedicated.get(contract.pk) if i % 2 else None
            name = f"{KINDS[i % 8]}-{SITES[(i // 8) % 8]}-{_name_suffix(i)}"
            rows.append((contract, gateway or shared, name))
        with transaction.atomic():
            made = filler.insert(rows)
        for offset, access in enumerate(made):
            i = first + offset
            # The list is newest first: the middle cursor is row ``middle`` from the top.
            if i == total - 1 - middle:
                fixture.middle_cursor = access.public_id
            if i == total - 2 - middle:
                fixture.after_middle = access.public_id
            if i % contracts_n == 0:
                if operator_seen % sample_every == 0 and len(fixture.samples) < 400:
                    fixture.samples.append(access.public_id)
                operator_seen += 1
        if show_progress:
            progress(min(first + BATCH, total), total, started, "accesses")

    fixture.operator_accesses = operator_seen
    # The name to find: one operator device from the middle of the fill.
    target = fixture.samples[len(fixture.samples) // 2]
    access = VpnAccess.objects.select_related("device").get(public_id=target)
    fixture.name_target = target
    fixture.name_fragment = access.device.name.rsplit("-", 1)[1]
    fixture.samples.remove(target)
    for cursor in (fixture.middle_cursor, fixture.after_middle):
        if cursor in fixture.samples:  # must survive the delete case
            fixture.samples.remove(cursor)
    fixture.samples.reverse()  # newest first, as someone working the list would pick

    with transaction.atomic():
        owner = Contract.objects.create(name="設定ベンチ契約", has_gateway_contract=True)
        gateway = _make_gateway("10k-peers", "172.16.0.0/18", owner)
        fixture.config_token = tokens.issue_token(gateway)
        gateway.save(update_fields=["token_hash"])
    fixture.config_gateway = gateway.public_id
    started = time.monotonic()
    for first in range(0, config_peers, BATCH):
        count = min(BATCH, config_peers - first)
        with transaction.atomic():
            filler.insert(
                [(owner, gateway, f"peer-{_name_suffix(first + n)}") for n in range(count)]
            )
        if show_progress:
            progress(first + count, config_peers, started, "config  ")
    for gw_pk, next_address in filler.next_address.items():
        Gateway.objects.filter(pk=gw_pk).update(next_address=next_address, revision=2)
    return fixture


# Measuring.


@dataclass
class Result:
    name: str
    timings_ms: list[float]
    ok: bool
    note: str = ""

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.timings_ms)

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.timings_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "p50_ms": round(self.p50_ms, 3),
            "p95_ms": round(self.p95_ms, 3),
            "n": len(self.timings_ms),
            "ok": self.ok,
            "note": self.note,
        }


@dataclass
class Case:
    name: str
    user: str  # "operator" or "support"
    run: Callable[[Client, int], object]  # (client, iteration) -> response
    check: Callable[[object], bool]
    note: str = ""
    runs: int | None = None  # fewer for cases that use up data


def _body(response) -> str:
    return response.content.decode(errors="replace")


def _get(path: str, **extra) -> Callable[[Client, int], object]:
    return lambda client, n: client.get(path, **extra)


def cases(fx: Fixture, runs: int) -> list[Case]:
    samples = fx.samples
    deletable = samples[: len(samples) // 2]
    reissuable = samples[len(samples) // 2 :]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {fx.config_token}"}
    config_path = f"/api/gateways/{fx.config_gateway}/config"
    etag: dict[str, str] = {}

    def contains(*texts: str) -> Callable[[object], bool]:
        return lambda r: r.status_code == 200 and all(t in _body(r) for t in texts)

    def full_page(response) -> bool:
        # Creates and deletes run between the rounds, so check the shape, not the IDs.
        rows = _body(response).count('href="/access/va-')
        return response.status_code == 200 and rows >= min(50, fx.operator_accesses)

    def create_chain(client: Client, n: int):
        client.get("/access/new/")
        client.post(
            "/access/new/",
            {"protocol": "wireguard", "device_name": f"bench-new-{n}", "gateway": ""},
        )
        client.get("/access/new/confirm/")
        token = client.session["vpnconsole.create_draft"]["token"]
        return client.post("/access/new/confirm/", {"token": token}, follow=True)

    def reissue(client: Client, n: int):
        access = reissuable[n % len(reissuable)]
        return client.post(f"/access/{access}/reissue/", follow=True)

    def delete(client: Client, n: int):
        return client.post(f"/access/{deletable[n]}/delete/")

    def config_full(client: Client, n: int):
        response = client.get(config_path, **auth)
        etag["value"] = response.headers.get("ETag", "")
        return response

    def config_full_check(response) -> bool:
        if response.status_code != 200:
            return False
        body = response.json()
        peers = len(body["wireguard"]["peers"]) + len(body["l2tp"]["users"])
        return peers == fx.config_peers

    return [
        Case("floor", "operator", _get("/bench/floor/"), contains("</html>")),
        Case("list first page", "operator", _get("/access/"), full_page),
        Case("list first page (support)", "support", _get("/access/"), full_page),
        Case(
            "list deep page (support, middle)",
            "support",
            _get(f"/access/?after={fx.middle_cursor}"),
            contains(fx.after_middle),
            note="?after=<cursor>",
        ),
        Case(
            "search full ID (support)",
            "support",
            _get(f"/access/?q={fx.name_target}"),
            contains(fx.name_target),
        ),
        Case(
            "search ID prefix (support)",
            "support",
            _get(f"/access/?q={fx.name_target[:7].upper()}"),
            contains(fx.name_target),
        ),
        Case(
            "search name hit",
            "operator",
            _get(f"/access/?q={fx.name_fragment}"),
            contains(fx.name_target),
        ),
        Case(
            "search name hit (support)",
            "support",
            _get(f"/access/?q={fx.name_fragment}"),
            contains(fx.name_target),
        ),
        Case(
            "search name miss (support)",
            "support",
            _get(f"/access/?q={MISS}"),
            lambda r: r.status_code == 200 and "<table" not in _body(r),
        ),
        Case("detail", "operator", _get(f"/access/{fx.name_target}/"), contains(fx.name_target)),
        Case(
            "create chain (form→confirm→create→complete)",
            "operator",
            create_chain,
            contains("PrivateKey"),
        ),
        Case(
            "reissue (+ detail with secrets)",
            "operator",
            reissue,
            lambda r: r.status_code == 200 and bool(r.redirect_chain),
        ),
        Case(
            "delete",
            "operator",
            delete,
            lambda r: r.status_code == 302,
            runs=min(runs, len(deletable) - 3),  # the warm-up deletes two more
        ),
        Case(
            f"gateway config {fx.config_peers:,} peers", "support", config_full, config_full_check
        ),
        Case(
            f"gateway config {fx.config_peers:,} peers, 304",
            "support",
            lambda client, n: client.get(config_path, HTTP_IF_NONE_MATCH=etag["value"], **auth),
            lambda r: r.status_code == 304,
        ),
    ]


def measure(fx: Fixture, *, runs: int, warmup: int = 2) -> list[Result]:
    """Time every case ``runs`` times, round-robin: one request of each case per
    round, so a burst of load from elsewhere on the machine hits all cases alike
    rather than whichever happened to be running."""
    User = get_user_model()
    clients = {}
    for role, pk in [("operator", fx.operator_id), ("support", fx.support_id)]:
        client = Client()
        client.force_login(User.objects.get(pk=pk))
        clients[role] = client
    plan = cases(fx, runs)
    timings: dict[str, list[float]] = {case.name: [] for case in plan}
    ok = dict.fromkeys(timings, True)
    for iteration in range(warmup + runs):
        for case in plan:
            if iteration >= (case.runs or runs) + warmup:
                continue
            started = time.perf_counter()
            response = case.run(clients[case.user], iteration)
            elapsed = (time.perf_counter() - started) * 1000
            ok[case.name] = case.check(response) and ok[case.name]
            if iteration >= warmup:
                timings[case.name].append(elapsed)
    return [Result(case.name, timings[case.name], ok[case.name], case.note) for case in plan]


def ensure_connection_is_fresh() -> None:
    """Drop the fill's connection (and its relaxed pragmas) before measuring."""
    connection.close()
