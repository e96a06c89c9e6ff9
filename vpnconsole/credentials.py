"""Secrets a person types: L2TP passwords and IPsec pre-shared keys; WireGuard key pairs."""

from __future__ import annotations

import base64
import math
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

# No 0/O, 1/l/I, i, o: the characters people misread when copying from a screen.
TYPABLE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ"
MIN_ENTROPY_BITS = 128
SECRET_LENGTH = math.ceil(MIN_ENTROPY_BITS / math.log2(len(TYPABLE_ALPHABET)))


def typable_secret(length: int = SECRET_LENGTH) -> str:
    return "".join(secrets.choice(TYPABLE_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class WireGuardKeyPair:
    private_key: str
    public_key: str


def wireguard_keypair() -> WireGuardKeyPair:
    private = X25519PrivateKey.generate()
    private_raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public_raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return WireGuardKeyPair(
        private_key=base64.b64encode(private_raw).decode(),
        public_key=base64.b64encode(public_raw).decode(),
    )


def is_wireguard_key(text: str) -> bool:
    try:
        return len(base64.b64decode(text, validate=True)) == 32 and len(text) == 44
    except ValueError:
        return False
