"""Settings come from the environment and refuse to start insecurely with DEBUG off."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from vpnconsole.env import env_bool, parse_database_url

ROOT = Path(__file__).resolve().parent.parent


def check(env: dict) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "VPNCONSOLE_ENCRYPTION_KEYS", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**clean, "DJANGO_SETTINGS_MODULE": "vpnconsole.settings", **env},
        timeout=60,
    )


def test_debug_off_refuses_a_missing_secret_key():
    result = check({"DEBUG": "0", "VPNCONSOLE_ENCRYPTION_KEYS": "k:" + "A" * 43})
    assert result.returncode != 0
    assert "SECRET_KEY is missing" in result.stderr


def test_debug_off_refuses_the_development_encryption_key():
    from vpnconsole.settings import DEV_ENCRYPTION_KEY

    result = check(
        {"DEBUG": "0", "SECRET_KEY": "x" * 50, "VPNCONSOLE_ENCRYPTION_KEYS": DEV_ENCRYPTION_KEY}
    )
    assert result.returncode != 0
    assert "VPNCONSOLE_ENCRYPTION_KEYS" in result.stderr


def test_debug_on_starts_with_development_keys(tmp_path):
    result = check({"DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})
    assert result.returncode == 0, result.stderr


def test_a_typo_in_a_boolean_is_an_error(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "ture")
    with pytest.raises(ImproperlyConfigured):
        env_bool("SOME_FLAG", default=False)


def test_database_urls():
    sqlite = parse_database_url("sqlite:///var/x.sqlite3", ROOT)
    assert sqlite["ENGINE"].endswith("sqlite3") and sqlite["NAME"] == ROOT / "var/x.sqlite3"
    pg = parse_database_url("postgres://u:p%40ss@127.0.0.1:5433/console?sslmode=disable", ROOT)
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "u",
        "p@ss",
        "127.0.0.1",
        "5433",
        "console",
    )
    assert pg["OPTIONS"] == {"sslmode": "disable"}
    with pytest.raises(ImproperlyConfigured):
        parse_database_url("mysql://x/y", ROOT)
