"""Devices (デバイス): the IoT device a VPN access is for, named by the operator."""

from __future__ import annotations

from functools import partial

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from vpnconsole.ids import new_id
from vpnconsole.models import Contract

DEVICE_NAME_MAX_LENGTH = 64


class Device(models.Model):
    public_id = models.CharField(
        _("デバイスID"), max_length=16, unique=True, editable=False, default=partial(new_id, "dev")
    )
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="devices")
    name = models.CharField(_("デバイス名"), max_length=DEVICE_NAME_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("デバイス")
        verbose_name_plural = _("デバイス")
        constraints = [
            models.UniqueConstraint(
                "contract", Lower("name"), name="%(app_label)s_%(class)s_unique_name_ci"
            )
        ]

    def __str__(self) -> str:
        return self.name
