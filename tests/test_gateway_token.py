"""manage.py gateway_token: a gateway's API token, shown once, stored as a hash."""

from __future__ import annotations

import logging
import stat
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from gateways.models import GatewayStatus
from gateways.tokens import token_matches
from vpnconsole.models import AuditAction, AuditEvent


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("gateway_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_prints_a_token_that_only_its_gateway_accepts(shared_gateway, dedicated_gateway):
    out, _ = run(shared_gateway.public_id)
    token = out.strip()
    shared_gateway.refresh_from_db()
    dedicated_gateway.refresh_from_db()
    assert token.startswith("vpngw_") and len(token) > 40
    assert token_matches(shared_gateway, token)
    assert not token_matches(dedicated_gateway, token)
    assert shared_gateway.token_hash != token


def test_running_it_again_rotates_the_token(shared_gateway):
    old = run(shared_gateway.public_id)[0].strip()
    new = run(shared_gateway.public_id)[0].strip()
    shared_gateway.refresh_from_db()
    assert old != new
    assert not token_matches(shared_gateway, old)
    assert token_matches(shared_gateway, new)


def test_it_is_audited_without_the_token(shared_gateway):
    token = run(shared_gateway.public_id)[0].strip()
    run(shared_gateway.public_id)
    events = AuditEvent.objects.filter(action=AuditAction.GATEWAY_TOKEN).order_by("id")
    assert [e.detail["rotated"] for e in events] == [False, True]
    assert all(e.object_id == shared_gateway.public_id for e in events)
    assert token not in str([e.detail for e in events])


def test_it_writes_the_token_to_a_0600_file_and_not_to_stdout(shared_gateway, tmp_path):
    path = tmp_path / "token"
    path.write_text("old\n")
    path.chmod(0o644)
    out, _ = run(shared_gateway.public_id, "--write-to", str(path))
    token = path.read_text().strip()
    shared_gateway.refresh_from_db()
    assert token_matches(shared_gateway, token)
    assert token not in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_it_never_logs_the_token(shared_gateway, caplog):
    caplog.set_level(logging.DEBUG)
    token = run(shared_gateway.public_id)[0].strip()
    assert token not in caplog.text


def test_reset_key_forgets_the_registered_key(shared_gateway):
    run(shared_gateway.public_id, "--reset-key")
    shared_gateway.refresh_from_db()
    assert shared_gateway.wg_public_key == ""
    assert shared_gateway.status == GatewayStatus.AWAITING_REGISTRATION


def test_it_rejects_an_unknown_gateway(db):
    with pytest.raises(CommandError, match="no gateway"):
        run("gw-aaaaaaaaaa")
