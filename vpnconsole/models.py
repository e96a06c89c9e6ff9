"""Contracts (契約), the role of each console user, and the audit trail."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vpnconsole.ids import new_id


class Contract(models.Model):
    public_id = models.CharField(
        _("契約ID"), max_length=16, unique=True, editable=False, default=partial(new_id, "ct")
    )
    name = models.CharField(_("契約名"), max_length=100)
    has_gateway_contract = models.BooleanField(_("VPNゲートウェイ契約"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("契約")
        verbose_name_plural = _("契約")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OPERATOR = "operator", _("オペレーター")
    SUPPORT = "support", _("サポート")


class Membership(models.Model):
    """What a console user may do: operate one contract, or support all of them read-only."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    role = models.CharField(_("ロール"), max_length=16, choices=Role.choices)
    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, null=True, blank=True, related_name="members"
    )

    class Meta:
        verbose_name = _("ロール")
        verbose_name_plural = _("ロール")
        constraints = [
            models.CheckConstraint(
                condition=(Q(role=Role.OPERATOR) & Q(contract__isnull=False))
                | (Q(role=Role.SUPPORT) & Q(contract__isnull=True)),
                name="%(app_label)s_%(class)s_role_contract",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class AuditAction(models.TextChoices):
    CREATE = "create", _("作成")
    REISSUE = "reissue", _("再発行")
    DELETE = "delete", _("削除")
    GATEWAY_REGISTER = "gateway_register", _("ゲートウェイ登録")
    GATEWAY_TOKEN = "gateway_token", _("ゲートウェイトークン発行")
    LOGIN = "login", _("ログイン")
    LOGIN_FAILED = "login_failed", _("ログイン失敗")
    LOGIN_LOCKED = "login_locked", _("ログインロック")
    KEY_ROTATE = "key_rotate", _("暗号鍵の切替")


class AuditEvent(models.Model):
    """Who changed what, and when. Never holds a secret: only IDs and public facts."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    actor_name = models.CharField(max_length=150, blank=True)
    contract = models.ForeignKey(Contract, on_delete=models.SET_NULL, null=True, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    object_id = models.CharField(max_length=32, db_index=True)
    detail = models.JSONField(default=dict, blank=True)
    source_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("操作履歴")
        verbose_name_plural = _("操作履歴")
        ordering = ["-created_at", "-id"]
        # The 操作履歴 screen's keyset pages: one contract's, or everyone's for support.
        indexes = [
            models.Index(fields=["contract", "-created_at", "-id"], name="audit_list_contract"),
            models.Index(fields=["-created_at", "-id"], name="audit_list_all"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.object_id}"
        )
