"""The gateway API: what a gateway's agent calls (see ``gateways.agent``).

Every view is authenticated by the gateway's bearer token (``gateways.tokens``),
not by a console login, and is exempt from CSRF: the agent is not a browser and
sends no cookies, so there is no ambient credential to forge a request with.

A re-registration with a *different* WireGuard key is refused (409) once any
access exists on the gateway: every client config shown so far pins the old
server key, so a silent key change would cut off every device, and a stolen
token must not be enough to do that. Re-registering the same key is a no-op (an
agent restart). A replaced gateway host is re-enrolled on purpose with
``manage.py gateway_token <id> --reset-key``.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils import timezone
from django.utils.http import parse_etags
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from gateways.config import UnknownRevision, desired_config, mark_applied, mark_served
from gateways.models import Gateway, GatewayStatus
from gateways.tokens import token_matches
from vpnconsole import audit
from vpnconsole.credentials import is_wireguard_key
from vpnconsole.models import AuditAction

log = logging.getLogger(__name__)

# Polls come every few seconds; writing last_seen_at on each would turn every
# unchanged poll into a database write.
LAST_SEEN_RESOLUTION = timedelta(seconds=30)


def _error(status: int, code: str, message: str, **headers: str) -> JsonResponse:
    return JsonResponse({"error": code, "message": message}, status=status, headers=headers)


def _source_address(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _json_body(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def gateway_api(view):
    """Authenticate the gateway by its token and pass it to ``view`` instead of its ID.

    An unknown gateway is a 401 like a wrong token, so the API does not tell a
    caller without a token which gateway IDs exist.
    """

    @login_not_required
    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, gateway_id: str) -> HttpResponse:
        gateway = Gateway.objects.filter(public_id=gateway_id).first()
        if not token_matches(gateway, _bearer_token(request)):
            log.warning(
                "gateway api: rejected token for %s from %s",
                gateway_id,
                _source_address(request),
            )
            return _error(
                401,
                "unauthorized",
                "missing or wrong gateway token",
                **{"WWW-Authenticate": 'Bearer realm="gateway"'},
            )
        return view(request, gateway)

    return wrapper


def _registration(gateway: Gateway) -> dict:
    return {
        "gateway": gateway.public_id,
        "public_key": gateway.wg_public_key,
        "status": gateway.status,
    }


@gateway_api
@require_POST
def register(request: HttpRequest, gateway: Gateway) -> HttpResponse:
    public_key = _json_body(request).get("public_key")
    if not isinstance(public_key, str) or not is_wireguard_key(public_key):
        return _error(
            400, "invalid_public_key", "public_key must be a base64 WireGuard key (32 bytes)"
        )
    with transaction.atomic():
        gateway = Gateway.objects.select_for_update().get(pk=gateway.pk)
        if gateway.wg_public_key == public_key and gateway.status == GatewayStatus.ACTIVE:
            return JsonResponse(_registration(gateway))
        changing = bool(gateway.wg_public_key) and gateway.wg_public_key != public_key
        if changing and gateway.accesses.exists():
            log.warning(
                "gateway api: %s tried to change its registered key from %s",
                gateway.public_id,
                _source_address(request),
            )
            return _error(
                409,
                "key_change_refused",
                "this gateway is registered with another WireGuard key that its "
                "accesses' client configs use; an administrator must re-enrol it with "
                f"'manage.py gateway_token {gateway.public_id} --reset-key'",
            )
        previous = gateway.wg_public_key
        now = timezone.now()
        gateway.wg_public_key = public_key
        gateway.status = GatewayStatus.ACTIVE
        gateway.registered_at = now
        gateway.last_seen_at = now
        gateway.save(update_fields=["wg_public_key", "status", "registered_at", "last_seen_at"])
        audit.record(
            actor=None,
            action=AuditAction.GATEWAY_REGISTER,
            object_id=gateway.public_id,
            contract=gateway.contract,
            source_address=_source_address(request),
            detail={"public_key": public_key, "previous_public_key": previous or None},
        )
    log.info("gateway %s registered from %s", gateway.public_id, _source_address(request))
    return JsonResponse(_registration(gateway))


def _etag(revision: int) -> str:
    return f'"{revision}"'


def _client_has(request: HttpRequest, revision: int) -> bool:
    tags = parse_etags(request.headers.get("If-None-Match", ""))
    # If-None-Match uses the weak comparison (RFC 9110 13.1.2).
    return "*" in tags or _etag(revision) in {tag.removeprefix("W/") for tag in tags}


def _touch(gateway: Gateway) -> None:
    now = timezone.now()
    if gateway.last_seen_at is None or now - gateway.last_seen_at >= LAST_SEEN_RESOLUTION:
        Gateway.objects.filter(pk=gateway.pk).update(last_seen_at=now)


@gateway_api
@require_GET
def config(request: HttpRequest, gateway: Gateway) -> HttpResponse:
    # The config holds the PSK and L2TP passwords: no cache may keep a copy.
    headers = {"ETag": _etag(gateway.revision), "Cache-Control": "no-store"}
    _touch(gateway)
    if _client_has(request, gateway.revision):
        return HttpResponseNotModified(headers=headers)
    # ``gateway`` was read before the peers are, so a change committed meanwhile
    # can only add to this revision, never be missing from a revision the agent
    # acks: such an access carries a higher revision and stays 準備中 until then.
    body = desired_config(gateway)
    if gateway.served_revision < gateway.revision:
        mark_served(gateway, gateway.revision)
    return JsonResponse(body, headers=headers)


@gateway_api
@require_POST
def ack(request: HttpRequest, gateway: Gateway) -> HttpResponse:
    # An optional "peers" list (per-peer last handshakes) is accepted for later use.
    revision = _json_body(request).get("revision")
    if not isinstance(revision, int) or isinstance(revision, bool):
        return _error(400, "invalid_revision", "revision must be an integer")
    try:
        ready = mark_applied(gateway, revision)
    except UnknownRevision:
        log.warning("gateway api: %s acked unknown revision %s", gateway.public_id, revision)
        return _error(
            409, "unknown_revision", f"revision {revision} was never served to this gateway"
        )
    if ready:
        log.info("gateway %s applied revision %s: %s ready", gateway.public_id, revision, ready)
    return JsonResponse({"revision": revision, "ready": ready})
