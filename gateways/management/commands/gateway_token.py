"""Issue (or rotate) a gateway's API token and show it once.

The token goes to stdout, or with ``--write-to`` into a new 0600 file so that it
never passes through a terminal or a command line. Only its hash is stored.
"""

from __future__ import annotations

import getpass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gateways.models import Gateway, GatewayStatus
from gateways.secretfile import write_private
from gateways.tokens import issue_token
from vpnconsole import audit
from vpnconsole.models import AuditAction


class Command(BaseCommand):
    help = "Issue a new API token for a gateway (replacing the old one) and show it once."

    def add_arguments(self, parser):
        parser.add_argument("gateway_id", help="the gateway's ID, e.g. gw-abcdefghij")
        parser.add_argument(
            "--write-to",
            metavar="FILE",
            type=Path,
            help="write the token into FILE (replaced whole, mode 0600) instead of stdout",
        )
        parser.add_argument(
            "--reset-key",
            action="store_true",
            help="also forget the registered WireGuard key, to re-enrol a replaced gateway "
            "host (client configs that pin the old key stop working)",
        )

    def handle(self, *args, gateway_id: str, write_to: Path | None, reset_key: bool, **options):
        try:
            gateway = Gateway.objects.get(public_id=gateway_id)
        except Gateway.DoesNotExist:
            raise CommandError(f"no gateway with ID {gateway_id!r}") from None
        if write_to is not None and not write_to.parent.is_dir():
            raise CommandError(f"directory {write_to.parent} does not exist")
        with transaction.atomic():
            gateway = Gateway.objects.select_for_update().get(pk=gateway.pk)
            rotated = bool(gateway.token_hash)
            token = issue_token(gateway)
            fields = ["token_hash"]
            if reset_key:
                gateway.wg_public_key = ""
                gateway.status = GatewayStatus.AWAITING_REGISTRATION
                fields += ["wg_public_key", "status"]
            gateway.save(update_fields=fields)
            audit.record(
                actor=None,
                action=AuditAction.GATEWAY_TOKEN,
                object_id=gateway.public_id,
                contract=gateway.contract,
                detail={"rotated": rotated, "reset_key": reset_key, "by": _os_user()},
            )
            if write_to is not None:
                # Inside the transaction: if the file cannot be written, the old token stays.
                try:
                    write_private(write_to, token + "\n")
                except OSError as error:
                    raise CommandError(f"cannot write {write_to}: {error.strerror}") from None
        if write_to is None:
            self.stdout.write(token)
            self.stderr.write(
                "Shown only once: give it to the gateway's agent (--token-file or "
                "VPN_GATEWAY_TOKEN). Running this again replaces it."
            )
        else:
            self.stdout.write(f"token for {gateway.public_id} written to {write_to}")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except OSError:
        return ""
