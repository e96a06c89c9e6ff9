"""Re-encrypt every stored secret under the newest key of VPNCONSOLE_ENCRYPTION_KEYS.

Run it after putting a new key first in the list and restarting the console, so
every app server already encrypts new secrets under it. Rows go in batches by
primary key, each batch in its own transaction; a row is written only if its
ciphertext is still the one that was read, so a concurrent reissue wins and the
row is simply skipped. Rows already under the newest key are never touched, so
an interrupted run is resumed by running it again. Once it reports nothing left
under an old key (and the one-time values waiting in sessions are rewrapped),
the old key can leave the list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.utils import timezone

from access import oneshot
from access.models import VpnAccess
from gateways.models import Gateway
from vpnconsole import audit, crypto
from vpnconsole.models import AuditAction


@dataclass(frozen=True)
class SealedField:
    """A model field holding ciphertext, and the associated data its rows are bound to."""

    model: type[models.Model]
    field: str
    binding: Callable[[models.Model], str]

    @property
    def label(self) -> str:
        return f"{self.model.__name__}.{self.field}"


SEALED_FIELDS = [
    SealedField(Gateway, "psk_ciphertext", lambda gateway: gateway._psk_binding()),
    SealedField(VpnAccess, "password_ciphertext", lambda access: access._password_binding()),
]


@dataclass
class Tally:
    reencrypted: int = 0
    current: int = 0
    changed_meanwhile: int = 0
    failed: list[str] = field(default_factory=list)


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the newest VPNCONSOLE_ENCRYPTION_KEYS key."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=200, help="rows per transaction (default 200)"
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="count what would be re-encrypted, change nothing",
        )

    def handle(self, *args, batch_size: int, dry_run: bool, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        newest = crypto.parse_keys(settings.VPNCONSOLE_ENCRYPTION_KEYS)[0].kid
        prefix = f"{crypto.VERSION}:{newest}:"
        self.stdout.write(f"newest key: {newest}{' (dry run)' if dry_run else ''}")
        failed: list[str] = []
        total = 0
        for sealed in SEALED_FIELDS:
            tally = self._rotate(sealed, prefix, batch_size, dry_run)
            total += tally.reencrypted
            failed += tally.failed
            self.stdout.write(
                f"{sealed.label}: {tally.reencrypted} re-encrypted, {tally.current} already "
                f"under {newest}, {tally.changed_meanwhile} changed meanwhile, "
                f"{len(tally.failed)} failed"
            )
        sessions = self._rotate_sessions(batch_size, dry_run)
        if sessions is None:
            self.stdout.write(
                "sessions: not stored in the database; one-time values expire with them "
                "(VPNCONSOLE_SESSION_MINUTES): keep the old key listed until then"
            )
        else:
            total += sessions
            self.stdout.write(f"sessions: {sessions} waiting one-time values rewrapped")
        if total and not dry_run:
            audit.record(
                actor=None,
                action=AuditAction.KEY_ROTATE,
                object_id=newest[:32],
                detail={"key_id": newest, "reencrypted": total},
            )
        if failed:
            # Public IDs only: which rows, never what they hold.
            raise CommandError(
                f"{len(failed)} row(s) do not decrypt under any listed key: {', '.join(failed)}"
            )

    def _rotate(self, sealed: SealedField, prefix: str, batch_size: int, dry_run: bool) -> Tally:
        manager = sealed.model._default_manager
        column = sealed.field
        tally = Tally(current=manager.filter(**{f"{column}__startswith": prefix}).count())
        stale = manager.exclude(**{column: ""}).exclude(**{f"{column}__startswith": prefix})
        last_pk = 0
        while True:
            batch = list(
                stale.filter(pk__gt=last_pk)
                .order_by("pk")
                .only("pk", "public_id", column)[:batch_size]
            )
            if not batch:
                return tally
            last_pk = batch[-1].pk
            with transaction.atomic():
                for row in batch:
                    old = getattr(row, column)
                    try:
                        plaintext = crypto.decrypt(old, binding=sealed.binding(row))
                    except crypto.DecryptionError:
                        tally.failed.append(row.public_id)
                        continue
                    if dry_run:
                        tally.reencrypted += 1
                        continue
                    new = crypto.encrypt(plaintext, binding=sealed.binding(row))
                    if manager.filter(pk=row.pk, **{column: old}).update(**{column: new}):
                        tally.reencrypted += 1
                    else:
                        tally.changed_meanwhile += 1

    def _rotate_sessions(self, batch_size: int, dry_run: bool) -> int | None:
        """Rewrap the one-time values that wait in sessions (create → complete, reissue)."""
        store_class = import_module(settings.SESSION_ENGINE).SessionStore
        if not issubclass(store_class, DatabaseSessionStore):
            return None
        model = store_class.get_model_class()
        store = store_class()
        changed = 0
        live = model.objects.filter(expire_date__gt=timezone.now()).order_by("session_key")
        last_key = ""
        while True:
            batch = list(live.filter(session_key__gt=last_key)[:batch_size])
            if not batch:
                return changed
            last_key = batch[-1].session_key
            for session in batch:
                data = store.decode(session.session_data)
                waiting = data.get(oneshot.SESSION_KEY)
                if not waiting:
                    continue
                rewrapped, count = oneshot.rewrap(waiting)
                if not count:
                    continue
                changed += count
                if dry_run:
                    continue
                if rewrapped:
                    data[oneshot.SESSION_KEY] = rewrapped
                else:
                    data.pop(oneshot.SESSION_KEY)
                # Only if the session was not saved meanwhile; a request that saves it
                # later writes back values that still decrypt while the old key is listed.
                model.objects.filter(
                    session_key=session.session_key, session_data=session.session_data
                ).update(session_data=store.encode(data))
