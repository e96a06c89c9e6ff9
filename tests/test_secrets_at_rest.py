"""Secrets are sacred: what the pages showed is nowhere in the database file, the
fixture dump, the SQL dump, the audit rows and screen or the logs of a run that
created and reissued both protocols; nor is what was typed at a failed sign-in."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secrets")
    db = tmp / "console.sqlite3"
    log = tmp / "run.log"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    result = subprocess.run(
        [sys.executable, "tests/scripts/secret_flow.py", str(log)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    printed = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "db": db,
        "log": log,
        "dump": Path(f"{log}.dump.json"),
        "sql": Path(f"{log}.dump.sql"),
        "audit_page": Path(f"{log}.audit.html"),
        "shown": printed["shown"],
        "typed": printed["typed"],
        "output": result.stderr,
    }


def test_the_flow_showed_every_kind_of_secret(run):
    assert set(run["shown"]) == {
        "psk",
        "wireguard-created",
        "wireguard-reissued",
        "l2tp-created",
        "l2tp-reissued",
    }
    assert len(set(run["shown"].values())) == 5


def test_no_shown_secret_is_in_the_database_file(run):
    raw = b"".join(path.read_bytes() for path in run["db"].parent.glob("console.sqlite3*"))
    assert len(raw) > 10_000
    for name, value in run["shown"].items():
        assert value.encode() not in raw, name


def test_no_shown_secret_is_in_the_dump_audit_or_logs(run):
    dump = run["dump"].read_text()
    log = run["log"].read_text()
    assert '"model": "vpnconsole.auditevent"' in dump
    assert "created access" in log  # the log really captured the run
    for name, value in run["shown"].items():
        assert value not in dump, name
        assert value not in log, name
        assert value not in run["output"], name


def test_the_audit_rows_record_every_change_without_secrets(run):
    with sqlite3.connect(run["db"]) as connection:
        rows = connection.execute(
            "select action, object_id, detail from vpnconsole_auditevent"
        ).fetchall()
    changes = sorted(action for action, _, _ in rows if action in {"create", "reissue", "delete"})
    assert changes == ["create", "create", "reissue", "reissue"]
    assert {"login", "login_failed"} <= {action for action, _, _ in rows}
    for value in [*run["shown"].values(), *run["typed"].values()]:
        assert all(value not in detail for _, _, detail in rows)


def test_no_secret_or_typed_password_is_in_the_sql_dump_or_the_audit_screen(run):
    sql = run["sql"].read_text()
    page = run["audit_page"].read_text()
    assert 'INSERT INTO "vpnconsole_auditevent"' in sql
    assert 'INSERT INTO "axes_accessattempt"' in sql  # the failed sign-ins were recorded
    assert "再発行" in page and "ログイン失敗" in page and "192.0.2.77" in page
    for name, value in [*run["shown"].items(), *run["typed"].items()]:
        assert value not in sql, name
        assert value not in page, name


def test_what_was_typed_at_a_failed_sign_in_is_nowhere(run):
    raw = b"".join(path.read_bytes() for path in run["db"].parent.glob("console.sqlite3*"))
    for name, value in run["typed"].items():
        assert value.encode() not in raw, name
        assert value not in run["dump"].read_text(), name
        assert value not in run["log"].read_text(), name
        assert value not in run["output"], name
