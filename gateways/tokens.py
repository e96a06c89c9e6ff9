"""Per-gateway bearer tokens for the gateway API.

A token is 256 random bits, shown once by ``manage.py gateway_token`` and stored
only as its SHA-256: with that much entropy a slow password hash buys nothing,
and a plain digest keeps every poll cheap. Rotating replaces the hash, so the old
token stops working at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from gateways.models import Gateway

# A recognisable prefix lets secret scanners spot a leaked token.
TOKEN_PREFIX = "vpngw_"  # noqa: S105 - a public prefix, not a secret
TOKEN_BYTES = 32


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(gateway: Gateway) -> str:
    """Give the gateway a new token, replacing any old one; the caller saves the gateway."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    gateway.token_hash = hash_token(token)
    return token


# Compared against when the gateway is unknown or has no token, so such a
# request costs the same as a wrong token.
_NO_MATCH = hash_token(secrets.token_urlsafe(TOKEN_BYTES))


def token_matches(gateway: Gateway | None, token: str) -> bool:
    expected = gateway.token_hash if gateway is not None and gateway.token_hash else _NO_MATCH
    matched = hmac.compare_digest(hash_token(token), expected)
    return matched and expected is not _NO_MATCH
