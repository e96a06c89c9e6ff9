"""VPN gateways (VPNゲートウェイ): where accesses terminate.

The shared gateway (共用, no contract) serves every contract; a contract with a
VPNゲートウェイ契約 also owns dedicated ones (専有). A gateway's WireGuard private
key stays on the gateway host; the console only learns the public key when the
gateway's agent registers. The IPsec pre-shared key is the gateway's (IKEv1
Main Mode picks it before it knows the client) and is stored encrypted.
"""

from __future__ import annotations

import ipaddress
from functools import partial

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vpnconsole import crypto
from vpnconsole.credentials import typable_secret
from vpnconsole.ids import new_id
from vpnconsole.models import Contract


class GatewayStatus(models.TextChoices):
    AWAITING_REGISTRATION = "awaiting", _("登録待ち")
    ACTIVE = "active", _("稼働中")


class Gateway(models.Model):
    public_id = models.CharField(
        _("ID"), max_length=16, unique=True, editable=False, default=partial(new_id, "gw")
    )
    name = models.CharField(_("VPNゲートウェイ名"), max_length=100)
    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="gateways",
        help_text=_("空欄は共用ゲートウェイ"),
    )
    status = models.CharField(
        _("ステータス"),
        max_length=16,
        choices=GatewayStatus.choices,
        default=GatewayStatus.AWAITING_REGISTRATION,
    )
    endpoint_host = models.CharField(_("接続先ホスト"), max_length=253)
    endpoint_port = models.PositiveIntegerField(_("WireGuardポート"), default=51820)
    wg_public_key = models.CharField(_("サーバ公開鍵"), max_length=44, blank=True)
    tunnel_network = models.CharField(_("トンネルサブネット"), max_length=43)
    tunnel_address = models.GenericIPAddressField(_("ゲートウェイアドレス"), protocol="IPv4")
    dns_servers = models.CharField(_("DNSサーバ"), max_length=200, blank=True)
    allowed_ips = models.CharField(_("Allowed IPs"), max_length=500)
    serves_wireguard = models.BooleanField(_("WireGuard"), default=True)
    serves_l2tp = models.BooleanField(_("L2TP/IPsec"), default=True)
    psk_ciphertext = models.TextField(editable=False, blank=True)
    # Every change of a peer bumps revision; the agent fetches (served) and
    # applies (applied) revisions; accesses at or below applied are 利用可能.
    revision = models.BigIntegerField(default=1, editable=False)
    served_revision = models.BigIntegerField(default=0, editable=False)
    applied_revision = models.BigIntegerField(default=0, editable=False)
    # High-water mark of the address pool; freed addresses below it live in FreeAddress.
    next_address = models.BigIntegerField(default=0, editable=False)
    token_hash = models.CharField(max_length=128, blank=True, editable=False)
    registered_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("VPNゲートウェイ")
        verbose_name_plural = _("VPNゲートウェイ")
        ordering = ["contract_id", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(endpoint_port__gte=1) & Q(endpoint_port__lte=65535),
                name="%(app_label)s_%(class)s_port_range",
            ),
            models.CheckConstraint(
                condition=Q(serves_wireguard=True) | Q(serves_l2tp=True),
                name="%(app_label)s_%(class)s_serves_something",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.psk_ciphertext:
            self.new_psk()
        if not self.next_address:
            self.next_address = int(self.network.network_address) + 1
        super().save(*args, **kwargs)

    @property
    def is_dedicated(self) -> bool:
        return self.contract_id is not None

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.tunnel_network)

    @property
    def endpoint(self) -> str:
        return f"{self.endpoint_host}:{self.endpoint_port}"

    @property
    def dns_list(self) -> list[str]:
        return [item.strip() for item in self.dns_servers.split(",") if item.strip()]

    @property
    def allowed_ips_list(self) -> list[str]:
        return [item.strip() for item in self.allowed_ips.split(",") if item.strip()]

    @property
    def protocol_labels(self) -> list[str]:
        labels = []
        if self.serves_wireguard:
            labels.append("WireGuard")
        if self.serves_l2tp:
            labels.append("L2TP/IPsec")
        return labels

    @property
    def is_registered(self) -> bool:
        return bool(self.wg_public_key)

    def clean(self) -> None:
        try:
            network = ipaddress.IPv4Network(self.tunnel_network)
        except ValueError:
            raise ValidationError(
                {"tunnel_network": _("IPv4のサブネットを指定してください。")}
            ) from None
        if network.prefixlen > 30:
            raise ValidationError({"tunnel_network": _("/30 より広いサブネットが必要です。")})
        if self.tunnel_address and ipaddress.IPv4Address(self.tunnel_address) not in network:
            raise ValidationError(
                {"tunnel_address": _("トンネルサブネット内のアドレスが必要です。")}
            )

    # The pre-shared key. Made once per gateway, rotated by an administrator.

    def _psk_binding(self) -> str:
        return f"gateway:{self.public_id}:psk"

    def new_psk(self) -> str:
        psk = typable_secret()
        self.psk_ciphertext = crypto.encrypt(psk, binding=self._psk_binding())
        return psk

    @property
    def psk(self) -> str:
        if not self.psk_ciphertext:
            return ""
        return crypto.decrypt(self.psk_ciphertext, binding=self._psk_binding())


class FreeAddress(models.Model):
    """An address below the gateway's high-water mark that was freed by a delete."""

    gateway = models.ForeignKey(Gateway, on_delete=models.CASCADE, related_name="free_addresses")
    address = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "address"], name="%(app_label)s_%(class)s_unique_address"
            )
        ]

    def __str__(self) -> str:
        return f"{self.gateway_id}:{self.address}"
