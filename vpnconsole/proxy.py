"""The client's address behind a reverse proxy.

The audit trail and the sign-in lockout read ``REMOTE_ADDR``. Behind a proxy that
is the proxy's address, so with ``VPNCONSOLE_TRUSTED_PROXIES`` = N the address
comes from the N-th entry from the right of ``X-Forwarded-For``: each trusted
proxy appends the peer it saw, and whatever a client wrote to the left of those
entries is ignored, so a forged header cannot pick the recorded address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def forwarded_address(forwarded_for: str, trusted_proxies: int) -> str | None:
    """The address the outermost trusted proxy saw, or None when the header is unusable."""
    if trusted_proxies <= 0:
        return None
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    if len(hops) < trusted_proxies:
        return None
    candidate = hops[-trusted_proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


class TrustedProxyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.trusted_proxies = settings.VPNCONSOLE_TRUSTED_PROXIES

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.trusted_proxies > 0:
            address = forwarded_address(
                request.META.get("HTTP_X_FORWARDED_FOR", ""), self.trusted_proxies
            )
            if address is not None:
                request.META["REMOTE_ADDR"] = address
        return self.get_response(request)


def client_address(request: HttpRequest | None) -> str | None:
    """The client's IP address for the audit trail and django-axes (None when unknown)."""
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
