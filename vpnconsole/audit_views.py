"""The 操作履歴 screen: who created, reissued or deleted which access, sign-ins and
refused sign-ins, gateway registrations and tokens, with time and source address.

Rows come only through ``roles.audit_events_for``. Pages are cut by keyset
(newest first) so an old page costs as much as the first; the cursor is
encrypted, so it tells nothing about row numbers. The detail column shows only
public facts, and drops any key that sounds like a secret in case a future
writer of the trail slips one in.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from access.models import Protocol
from vpnconsole import crypto, roles
from vpnconsole.ids import looks_like_id_prefix
from vpnconsole.models import AuditAction, AuditEvent

MAX_QUERY_LENGTH = 40
CURSOR_BINDING = "audit:cursor"
MAX_CURSOR_LENGTH = 500
SECRET_KEY_PATTERN = re.compile(r"password|passwd|secret|private|psk|token|ciphertext", re.I)

DETAIL_LABELS = {
    "protocol": gettext_lazy("プロトコル"),
    "device": gettext_lazy("デバイスID"),
    "device_name": gettext_lazy("デバイス名"),
    "gateway": gettext_lazy("VPNゲートウェイ"),
    "address": gettext_lazy("IPアドレス"),
    "revision": gettext_lazy("設定リビジョン"),
    "public_key_fingerprint": gettext_lazy("公開鍵フィンガープリント"),
    "public_key": gettext_lazy("公開鍵"),
    "previous_public_key": gettext_lazy("以前の公開鍵"),
    "username": gettext_lazy("ユーザ名"),
    "old": gettext_lazy("旧"),
    "new": gettext_lazy("新"),
    "rotated": gettext_lazy("更新"),
    "reset_key": gettext_lazy("鍵の登録解除"),
    "by": gettext_lazy("実行者（サーバ）"),
    "known_user": gettext_lazy("登録済みのユーザー名"),
    "key_id": gettext_lazy("鍵ID"),
    "reencrypted": gettext_lazy("再暗号化した件数"),
}


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    actor: str
    details: list[tuple[str, str]]


def normalise_query(q: str | None) -> str:
    return (q or "").strip()[:MAX_QUERY_LENGTH]


def _value(value) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return _("はい") if value else _("いいえ")
    if isinstance(value, list | tuple):
        return ", ".join(_value(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def public_details(detail: dict, prefix: str = "") -> list[tuple[str, str]]:
    """(label, text) pairs of an event's detail, nested dicts one level deep, secrets dropped."""
    if not isinstance(detail, dict):
        return []
    pairs = []
    for key, value in detail.items():
        if SECRET_KEY_PATTERN.search(str(key)):
            continue
        label = f"{prefix}{DETAIL_LABELS.get(key, key)}"
        if isinstance(value, dict) and not prefix:
            pairs += public_details(value, prefix=f"{label}: ")
            continue
        if key == "protocol" and value in Protocol.values:
            value = Protocol(value).label
        pairs.append((label, _value(value)))
    return pairs


def _actor(event: AuditEvent) -> str:
    if event.actor_name:
        return event.actor_name
    if event.action in {AuditAction.LOGIN_FAILED, AuditAction.LOGIN_LOCKED}:
        return _("（登録されていないユーザー名）")
    if event.action == AuditAction.GATEWAY_REGISTER:
        return _("VPNゲートウェイ")
    # manage.py commands on the console host: gateway_token, rotate_encryption_key.
    return _("管理者（サーバ）")


def encode_cursor(event: AuditEvent) -> str:
    return crypto.encrypt(
        json.dumps([event.created_at.isoformat(), event.pk]), binding=CURSOR_BINDING
    )


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    """The (created_at, id) a page continues after, or None for a cursor we did not make."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        return None
    try:
        created_at, pk = json.loads(crypto.decrypt(cursor, binding=CURSOR_BINDING))
        moment = parse_datetime(created_at)
    except (crypto.DecryptionError, ValueError, TypeError):
        return None
    if moment is None or not isinstance(pk, int):
        return None
    return moment, pk


def filter_events(events: QuerySet, q: str) -> QuerySet:
    """An access ID, or the start of one (any case); other text matches nothing."""
    if not q:
        return events
    if not looks_like_id_prefix(q):
        return events.none()
    return events.filter(object_id__startswith=q.lower())


def page_after(events: QuerySet, after: tuple[datetime, int] | None, size: int):
    """Up to ``size`` rows older than ``after``, and whether more follow."""
    if after is not None:
        created_at, pk = after
        events = events.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk))
    rows = list(events.order_by("-created_at", "-id")[: size + 1])
    return rows[:size], len(rows) > size


@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    events = roles.audit_events_for(request.user)
    q = normalise_query(request.GET.get("q"))
    cursor = request.GET.get("after", "")
    after = decode_cursor(cursor)
    rows, has_next = page_after(filter_events(events, q), after, settings.VPNCONSOLE_PAGE_SIZE)
    return render(
        request,
        "audit/list.html",
        {
            "q": q,
            "query_is_id": not q or looks_like_id_prefix(q),
            "rows": [
                AuditRow(event, _actor(event), public_details(event.detail)) for event in rows
            ],
            "next_cursor": encode_cursor(rows[-1]) if has_next else "",
            "is_first_page": after is None,
            "bad_cursor": bool(cursor) and after is None,
            "show_contract_column": roles.membership_of(request.user).contract is None,
        },
    )
