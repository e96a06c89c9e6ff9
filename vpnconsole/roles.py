"""Who may see and change what. Every view gets its objects through here.

An operator sees only its own contract: another contract's object is a 404, as
if it did not exist. Support staff see every contract and change nothing: a
write is a 403. A signed-in user with no role (an administrator who only uses
the Django admin) gets a 403 on the console's pages.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from vpnconsole.models import AuditEvent, Contract, Membership, Role


def membership_of(user) -> Membership | None:
    if not user.is_authenticated:
        return None
    try:
        return user.membership
    except Membership.DoesNotExist:
        return None


def _membership_or_403(user) -> Membership:
    membership = membership_of(user)
    if membership is None:
        raise PermissionDenied("このユーザーにはコンソールのロールがありません。")
    return membership


def can_write(user) -> bool:
    membership = membership_of(user)
    return membership is not None and membership.role == Role.OPERATOR


def operator_contract(user) -> Contract:
    """The contract a write acts on; 403 for support staff and users without a role."""
    membership = _membership_or_403(user)
    if membership.role != Role.OPERATOR:
        raise PermissionDenied("サポートは参照のみ可能です。")
    return membership.contract


def accesses_for(user) -> QuerySet:
    from access.models import VpnAccess

    membership = _membership_or_403(user)
    accesses = VpnAccess.objects.select_related("device", "gateway", "contract")
    if membership.role == Role.SUPPORT:
        return accesses
    return accesses.filter(contract_id=membership.contract_id)


def get_access_for_user(user, public_id: str):
    accesses = accesses_for(user)
    try:
        return accesses.get(public_id=public_id)
    except accesses.model.DoesNotExist:
        raise Http404("VPNアクセスが見つかりません。") from None


def get_rw_access_for_user(user, public_id: str):
    """The access for a change: 404 when it is not visible, then 403 for read-only roles.

    The provisioning service locks the rows it changes; this only decides who may."""
    access = get_access_for_user(user, public_id)
    operator_contract(user)
    return access


def gateways_for(user) -> QuerySet:
    """Gateways a user may see: the shared one and the contract's dedicated ones."""
    from gateways.models import Gateway

    membership = _membership_or_403(user)
    if membership.role == Role.SUPPORT:
        return Gateway.objects.select_related("contract")
    return Gateway.objects.select_related("contract").filter(
        Q(contract__isnull=True) | Q(contract_id=membership.contract_id)
    )


def audit_events_for(user) -> QuerySet:
    """操作履歴 rows a user may read: the own contract's, or every row for support."""
    membership = _membership_or_403(user)
    events = AuditEvent.objects.select_related("contract")
    if membership.role == Role.SUPPORT:
        return events
    return events.filter(contract_id=membership.contract_id)


def context_processor(request) -> dict:
    membership = membership_of(request.user)
    return {
        "membership": membership,
        "console_contract": membership.contract if membership else None,
        "is_support": membership is not None and membership.role == Role.SUPPORT,
        "can_write": membership is not None and membership.role == Role.OPERATOR,
        "poll_ms": settings.VPNCONSOLE_STATUS_POLL_MS,
    }
