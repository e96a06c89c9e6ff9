"""Public IDs: a kind prefix and random lowercase base32, e.g. ``va-k3m9q2xw4d``.

Random rather than sequential, so an ID reveals nothing about how many objects
exist; base32 (a-z, 2-7) so it reads well over the phone. Ten characters are 50
bits: collisions are vanishingly rare and the unique constraint catches them.
"""

from __future__ import annotations

import base64
import os
import re

ID_LENGTH = 10
ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def new_id(prefix: str) -> str:
    body = base64.b32encode(os.urandom(7)).decode().lower()[:ID_LENGTH]
    return f"{prefix}-{body}"


def id_pattern(prefix: str) -> str:
    return rf"{prefix}-[{ALPHABET}]{{{ID_LENGTH}}}"


def looks_like_id_prefix(text: str) -> bool:
    """True for text that could begin a public ID of any kind (case-insensitive)."""
    return bool(re.fullmatch(rf"[a-z]{{1,3}}(-[a-z2-7]{{0,{ID_LENGTH}}})?", text.lower()))
