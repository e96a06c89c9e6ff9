"""Test settings: production-like (DEBUG off) with throwaway keys and a fast hasher."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ.setdefault(
    "VPNCONSOLE_ENCRYPTION_KEYS", "t2:dGVzdC1rZXktMi0zMi1ieXRlcy1sb25nLXh4eHh4eHg"
)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("VPNCONSOLE_SECURE_COOKIES", "0")
os.environ.setdefault("VPNCONSOLE_VAR_DIR", tempfile.mkdtemp(prefix="vpnconsole-test-var-"))

from vpnconsole.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
