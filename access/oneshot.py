"""Hands one-time secrets from the POST that made them to the one GET that shows them.

Post/Redirect/Get needs the secrets to cross one redirect. They wait in the
session, encrypted with the console's field key (the session row is in the
database), and are removed by the first page that shows them, so a reload or the
back button finds nothing.
"""

from __future__ import annotations

import json

from access.provisioning import IssuedSecrets
from vpnconsole import crypto

SESSION_KEY = "vpnconsole.oneshot"


def _binding(access_id: str) -> str:
    return f"oneshot:{access_id}"


def stash(session, issued: IssuedSecrets) -> None:
    waiting = dict(session.get(SESSION_KEY, {}))
    waiting[issued.access_id] = crypto.encrypt(
        json.dumps(issued.as_dict()), binding=_binding(issued.access_id)
    )
    session[SESSION_KEY] = waiting


def take(session, access_id: str) -> IssuedSecrets | None:
    waiting = dict(session.get(SESSION_KEY, {}))
    ciphertext = waiting.pop(access_id, None)
    if ciphertext is None:
        return None
    if waiting:
        session[SESSION_KEY] = waiting
    else:
        session.pop(SESSION_KEY, None)
    try:
        return IssuedSecrets(**json.loads(crypto.decrypt(ciphertext, binding=_binding(access_id))))
    except crypto.DecryptionError:
        return None
