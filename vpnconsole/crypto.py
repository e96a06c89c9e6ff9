"""Authenticated encryption of the secrets a gateway must read back.

Ciphertexts look like ``v1:<kid>:<base64url(nonce || AES-GCM output)>``. The key
id sits beside the ciphertext so keys can rotate: the newest key of
``VPNCONSOLE_ENCRYPTION_KEYS`` encrypts, every listed key decrypts. The
associated data binds a ciphertext to the object and field it belongs to, so a
ciphertext copied into another row does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = "v1"


class DecryptionError(Exception):
    """A ciphertext could not be decrypted (unknown key id, tampering, wrong binding)."""


@dataclass(frozen=True)
class Key:
    kid: str
    aead: AESGCM


def parse_keys(entries: list[str]) -> list[Key]:
    keys = []
    for entry in entries:
        kid, sep, material = entry.partition(":")
        if not sep or not kid or ":" in kid:
            raise ImproperlyConfigured("VPNCONSOLE_ENCRYPTION_KEYS entries must be 'kid:base64key'")
        try:
            raw = base64.urlsafe_b64decode(material + "=" * (-len(material) % 4))
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(f"encryption key {kid!r} is not base64") from None
        if len(raw) != 32:
            raise ImproperlyConfigured(f"encryption key {kid!r} must be 32 bytes")
        keys.append(Key(kid, AESGCM(raw)))
    if not keys:
        raise ImproperlyConfigured("VPNCONSOLE_ENCRYPTION_KEYS is empty")
    if len({key.kid for key in keys}) != len(keys):
        raise ImproperlyConfigured("VPNCONSOLE_ENCRYPTION_KEYS has a repeated key id")
    return keys


def _keys() -> list[Key]:
    return parse_keys(settings.VPNCONSOLE_ENCRYPTION_KEYS)


def new_key_entry(kid: str | None = None) -> str:
    kid = kid or "k" + secrets.token_hex(4)
    return f"{kid}:{base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip('=')}"


def encrypt(plaintext: str, *, binding: str) -> str:
    key = _keys()[0]
    nonce = os.urandom(12)
    sealed = key.aead.encrypt(nonce, plaintext.encode(), binding.encode())
    body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{VERSION}:{key.kid}:{body}"


def key_id(ciphertext: str) -> str:
    return ciphertext.split(":", 2)[1]


def decrypt(ciphertext: str, *, binding: str) -> str:
    try:
        version, kid, body = ciphertext.split(":", 2)
    except ValueError:
        raise DecryptionError("malformed ciphertext") from None
    if version != VERSION:
        raise DecryptionError("unknown ciphertext version")
    key = next((key for key in _keys() if key.kid == kid), None)
    if key is None:
        raise DecryptionError(f"no encryption key with id {kid!r}")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return key.aead.decrypt(raw[:12], raw[12:], binding.encode()).decode()
    except (InvalidTag, binascii.Error, ValueError):
        raise DecryptionError("ciphertext does not decrypt under its key") from None
