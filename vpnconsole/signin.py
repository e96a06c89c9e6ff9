"""Sign-in events for the 操作履歴: every sign-in and every refused one, with its source.

A failed sign-in names the account only when the user name exists: what someone
typed into the user name field is sometimes their password, so an unknown name
is never stored. Operators see the events of their own contract's accounts.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.crypto import salted_hmac

from vpnconsole import audit
from vpnconsole.models import AuditAction, Membership
from vpnconsole.proxy import client_address


def _existing_user(username):
    if not isinstance(username, str) or not username or "\x00" in username:
        return None
    User = get_user_model()
    return User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()


def lockout_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The name django-axes counts failures under: the user name when such an account
    exists, otherwise a keyed hash of what was typed, which may be a password."""
    field = get_user_model().USERNAME_FIELD
    typed = (credentials or {}).get(field) if credentials else request.POST.get(field)
    if not typed:
        return None
    if _existing_user(typed) is not None:
        return typed
    return (
        "unknown-"
        + salted_hmac("vpnconsole.signin", str(typed), algorithm="sha256").hexdigest()[:24]
    )


def _contract_of(user):
    membership = Membership.objects.filter(user=user).select_related("contract").first()
    return membership.contract if membership else None


@receiver(user_logged_in, dispatch_uid="vpnconsole.signin.record_login")
def record_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    audit.record(
        actor=user,
        action=AuditAction.LOGIN,
        object_id="",
        contract=_contract_of(user),
        source_address=client_address(request),
    )


@receiver(user_login_failed, dispatch_uid="vpnconsole.signin.record_login_failed")
def record_login_failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs):
    user = _existing_user(credentials.get(get_user_model().USERNAME_FIELD))
    # Set by django-axes (its receivers run first) when this attempt met or hit the lockout.
    locked = bool(getattr(request, "axes_locked_out", False))
    audit.record(
        actor=user,
        action=AuditAction.LOGIN_LOCKED if locked else AuditAction.LOGIN_FAILED,
        object_id="",
        contract=_contract_of(user) if user else None,
        source_address=client_address(request),
        detail={"known_user": user is not None},
    )


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """The page django-axes shows instead of the login form for a locked user name."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = render(
        request,
        "registration/locked_out.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes},
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response
