"""Test settings: production-like (DEBUG off) with throwaway keys and a fast hasher."""

import atexit
import os
import shutil
import tempfile


def _own_temp_dir(variable: str, prefix: str) -> None:
    """A throwaway dir for this test run, removed at exit by the process that made it.

    Processes the tests start inherit the variable and share the dir."""
    if not os.environ.get(variable):
        path = tempfile.mkdtemp(prefix=prefix)
        os.environ[variable] = path
        atexit.register(shutil.rmtree, path, ignore_errors=True)


os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ.setdefault(
    "VPNCONSOLE_ENCRYPTION_KEYS", "t2:dGVzdC1rZXktMi0zMi1ieXRlcy1sb25nLXh4eHh4eHg"
)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("VPNCONSOLE_SECURE_COOKIES", "0")
# The test client speaks plain HTTP and the tests run without collectstatic.
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("VPNCONSOLE_STATIC_MANIFEST", "0")
_own_temp_dir("VPNCONSOLE_STATIC_ROOT", "vpnconsole-test-static-")
_own_temp_dir("VPNCONSOLE_VAR_DIR", "vpnconsole-test-var-")

from vpnconsole.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not :memory:, so that tests can start other processes on the same
    # database (tests/test_concurrency.py); it lives in the throwaway VAR_DIR.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}  # noqa: F405
