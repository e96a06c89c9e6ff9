"""Secrets are sacred: what the pages showed is nowhere in the database file, the
fixture dump, the audit rows or the logs of a run that created and reissued both
protocols."""

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
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "db": db,
        "log": log,
        "dump": Path(f"{log}.dump.json"),
        "shown": shown,
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
    assert sorted(action for action, _, _ in rows) == ["create", "create", "reissue", "reissue"]
    for value in run["shown"].values():
        assert all(value not in detail for _, _, detail in rows)
