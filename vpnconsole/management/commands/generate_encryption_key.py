"""Print a new entry for VPNCONSOLE_ENCRYPTION_KEYS: ``kid:base64url(32 random bytes)``.

It goes to stdout only, for the operator to put into the secret store; nothing is
stored or logged. Works without keys configured: ``DEBUG=1 manage.py
generate_encryption_key`` on a machine that has none yet.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from vpnconsole import crypto

# The list is comma-separated and an entry is kid:key, so a key id has neither.
KID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,16}")


class Command(BaseCommand):
    help = "Print a new 'kid:base64key' entry for VPNCONSOLE_ENCRYPTION_KEYS."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--kid", help="key id (letters, digits, - and _; default random)")

    def handle(self, *args, kid: str | None, **options):
        if kid is not None and not KID_PATTERN.fullmatch(kid):
            raise CommandError("--kid: 1 to 16 letters, digits, '-' or '_'")
        configured = {entry.partition(":")[0] for entry in settings.VPNCONSOLE_ENCRYPTION_KEYS}
        entry = crypto.new_key_entry(kid)
        if entry.partition(":")[0] in configured:
            raise CommandError(f"key id {kid!r} is already in VPNCONSOLE_ENCRYPTION_KEYS")
        self.stdout.write(entry)
        self.stderr.write(
            "Put it first in VPNCONSOLE_ENCRYPTION_KEYS (comma-separated, newest first), "
            "keep the old keys after it, restart every app server, then run "
            "'manage.py rotate_encryption_key'."
        )
