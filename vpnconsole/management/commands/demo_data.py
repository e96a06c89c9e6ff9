"""Demo contracts, users, gateways and accesses for ``make run``. Refuses to run with DEBUG off."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from access import provisioning
from access.models import VpnAccess
from gateways.models import Gateway, GatewayStatus
from vpnconsole.credentials import wireguard_keypair
from vpnconsole.models import Contract, Membership, Role

DEMO_PASSWORD = "demo-pass"  # noqa: S105 - the published demo password


class Command(BaseCommand):
    help = "Create demo contracts, users (password demo-pass), gateways and accesses."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-accesses",
            action="store_true",
            help="only contracts, users and gateways (the demo agents register first)",
        )
        parser.add_argument(
            "--self-keyed",
            action="store_true",
            help="give unregistered gateways a key pair kept under var/ (no agent running)",
        )

    def handle(self, *args, no_accesses=False, self_keyed=False, **options):
        if not settings.DEBUG:
            raise CommandError("demo_data only runs with DEBUG=1: it creates known passwords.")
        with transaction.atomic():
            shared, dedicated, with_gw, without_gw = self._base()
        if self_keyed:
            for gateway in (shared, dedicated):
                self._self_key(gateway)
        if not no_accesses:
            self._accesses(shared, dedicated, with_gw, without_gw)
        self.stdout.write("demo users: operator, basic, support (password: demo-pass)")

    def _base(self):
        with_gw, _ = Contract.objects.get_or_create(
            name="サンプル製造株式会社", defaults={"has_gateway_contract": True}
        )
        without_gw, _ = Contract.objects.get_or_create(
            name="ベーシック物流株式会社", defaults={"has_gateway_contract": False}
        )
        shared, _ = Gateway.objects.get_or_create(
            name="共用ゲートウェイ",
            contract=None,
            defaults=dict(
                endpoint_host="127.0.0.1",
                endpoint_port=51820,
                tunnel_network="198.18.0.0/16",
                tunnel_address="198.18.0.1",
                dns_servers="198.18.0.1",
                allowed_ips="198.18.0.0/16",
            ),
        )
        dedicated, _ = Gateway.objects.get_or_create(
            name="本社ゲートウェイ",
            contract=with_gw,
            defaults=dict(
                endpoint_host="127.0.0.1",
                endpoint_port=51821,
                tunnel_network="198.19.0.0/24",
                tunnel_address="198.19.0.1",
                dns_servers="198.19.0.1",
                allowed_ips="198.19.0.0/24",
            ),
        )
        User = get_user_model()
        for username, role, contract in [
            ("operator", Role.OPERATOR, with_gw),
            ("basic", Role.OPERATOR, without_gw),
            ("support", Role.SUPPORT, None),
        ]:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            Membership.objects.update_or_create(
                user=user, defaults={"role": role, "contract": contract}
            )
        admin, created = User.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        return shared, dedicated, with_gw, without_gw

    def _self_key(self, gateway: Gateway) -> None:
        """Without an agent, keep a key pair under var/ so demo configs are consistent."""
        if gateway.is_registered:
            return
        keys = wireguard_keypair()
        key_dir = settings.VAR_DIR / "demo-gateway-keys"
        key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = key_dir / f"{gateway.public_id}.key"
        path.touch(mode=0o600)
        path.write_text(keys.private_key + "\n")
        gateway.wg_public_key = keys.public_key
        gateway.status = GatewayStatus.ACTIVE
        gateway.save(update_fields=["wg_public_key", "status"])

    def _accesses(self, shared, dedicated, with_gw, without_gw) -> None:
        operator = get_user_model().objects.get(username="operator")
        basic = get_user_model().objects.get(username="basic")
        plan = [
            (with_gw, operator, "wireguard", "ライン1-温度センサー", None),
            (with_gw, operator, "l2tp", "ライン1-PLC", None),
            (with_gw, operator, "wireguard", "本社-監視カメラ", dedicated),
            (with_gw, operator, "l2tp", "本社-入退室端末", dedicated),
            (without_gw, basic, "wireguard", "倉庫A-ゲートウェイ", None),
            (without_gw, basic, "l2tp", "倉庫B-ハンディ端末", None),
        ]
        for contract, actor, protocol, name, gateway in plan:
            if VpnAccess.objects.filter(contract=contract, device__name=name).exists():
                continue
            gateway = Gateway.objects.get(pk=(gateway or shared).pk)
            if not gateway.is_registered:
                self.stderr.write(f"skipped {name}: gateway {gateway.name} has not registered")
                continue
            provisioning.create_access(
                contract=contract,
                actor=actor,
                protocol=protocol,
                device_name=name,
                gateway=gateway,
            )
