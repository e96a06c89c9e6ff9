"""VPN accesses (VPNアクセス): a device's credentials on one gateway."""

from __future__ import annotations

import ipaddress
from functools import partial

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from devices.models import Device
from gateways.models import Gateway
from vpnconsole import crypto
from vpnconsole.ids import new_id
from vpnconsole.models import Contract


class Protocol(models.TextChoices):
    WIREGUARD = "wireguard", "WireGuard"
    L2TP = "l2tp", "L2TP/IPsec"


class AccessStatus(models.TextChoices):
    PREPARING = "preparing", _("準備中")
    READY = "ready", _("利用可能")


class VpnAccess(models.Model):
    public_id = models.CharField(
        _("ID"), max_length=16, unique=True, editable=False, default=partial(new_id, "va")
    )
    # Denormalised from the device so that scoping and the list's indexes need no join.
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="accesses")
    device = models.OneToOneField(Device, on_delete=models.PROTECT, related_name="access")
    gateway = models.ForeignKey(Gateway, on_delete=models.PROTECT, related_name="accesses")
    protocol = models.CharField(_("プロトコル"), max_length=16, choices=Protocol.choices)
    status = models.CharField(
        _("ステータス"),
        max_length=16,
        choices=AccessStatus.choices,
        default=AccessStatus.PREPARING,
    )
    address = models.BigIntegerField(_("IPアドレス"))
    wg_public_key = models.CharField(_("クライアント公開鍵"), max_length=44, blank=True)
    l2tp_username = models.CharField(_("ユーザ名"), max_length=64, blank=True)
    password_ciphertext = models.TextField(blank=True, editable=False)
    # The gateway revision that first contains this access's current credentials.
    revision = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("VPNアクセス")
        verbose_name_plural = _("VPNアクセス")
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "address"], name="%(app_label)s_%(class)s_unique_address"
            ),
            models.CheckConstraint(
                condition=(Q(protocol="wireguard") & ~Q(wg_public_key=""))
                | (Q(protocol="l2tp") & ~Q(l2tp_username="") & ~Q(password_ciphertext="")),
                name="%(app_label)s_%(class)s_credentials_match_protocol",
            ),
        ]
        indexes = [
            models.Index(fields=["contract", "-created_at", "-id"], name="access_list_contract"),
            models.Index(fields=["-created_at", "-id"], name="access_list_all"),
            models.Index(fields=["gateway", "status", "revision"], name="access_gateway_status"),
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def ip_address(self) -> str:
        return str(ipaddress.IPv4Address(self.address))

    @property
    def is_ready(self) -> bool:
        return self.status == AccessStatus.READY

    def _password_binding(self) -> str:
        return f"access:{self.public_id}:password"

    def set_password(self, password: str) -> None:
        self.password_ciphertext = crypto.encrypt(password, binding=self._password_binding())

    @property
    def password(self) -> str:
        return crypto.decrypt(self.password_ciphertext, binding=self._password_binding())
