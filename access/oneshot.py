"""Hands one-time secrets from the POST that made them to the one GET that shows them.

Post/Redirect/Get needs the secrets to cross one redirect. They wait in the
session, encrypted with the console's field key (the session row is in the
database), and are removed by the first page that shows them, so a reload or the
back button finds nothing.
"""

from __future__ import annotations

import json

from django.conf import settings

from access.provisioning import IssuedSecrets
from vpnconsole import crypto

SESSION_KEY = "vpnconsole.oneshot"
# What made the secrets: only the page of the same purpose shows them, so the
# complete page never shows a reissue's secrets and the detail page's reissue
# dialog never shows a creation's.
CREATED = "created"
REISSUED = "reissued"


def _slot(purpose: str, access_id: str) -> str:
    return f"{purpose}:{access_id}"


def _binding(slot: str) -> str:
    return f"oneshot:{slot}"


def stash(session, issued: IssuedSecrets, *, purpose: str) -> None:
    slot = _slot(purpose, issued.access_id)
    waiting = dict(session.get(SESSION_KEY, {}))
    waiting[slot] = crypto.encrypt(json.dumps(issued.as_dict()), binding=_binding(slot))
    session[SESSION_KEY] = waiting


def take(session, access_id: str, *, purpose: str) -> IssuedSecrets | None:
    slot = _slot(purpose, access_id)
    waiting = dict(session.get(SESSION_KEY, {}))
    ciphertext = waiting.pop(slot, None)
    if ciphertext is None:
        return None
    if waiting:
        session[SESSION_KEY] = waiting
    else:
        session.pop(SESSION_KEY, None)
    try:
        return IssuedSecrets(**json.loads(crypto.decrypt(ciphertext, binding=_binding(slot))))
    except crypto.DecryptionError:
        return None


def rewrap(waiting: dict) -> tuple[dict, int]:
    """The waiting values under the newest encryption key, for key rotation, and how many
    were re-encrypted. A value that no longer decrypts is dropped: its page then says the
    secret is gone, as after any lost one-time value."""
    current = f"{crypto.VERSION}:{crypto.parse_keys(settings.VPNCONSOLE_ENCRYPTION_KEYS)[0].kid}:"
    rewrapped, changed = {}, 0
    for slot, ciphertext in waiting.items():
        if ciphertext.startswith(current):
            rewrapped[slot] = ciphertext
            continue
        try:
            plaintext = crypto.decrypt(ciphertext, binding=_binding(slot))
        except crypto.DecryptionError:
            changed += 1
            continue
        rewrapped[slot] = crypto.encrypt(plaintext, binding=_binding(slot))
        changed += 1
    return rewrapped, changed
