"""Tools the end-to-end tests need: missing ones skip locally, fail in CI."""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE_E2E = os.environ.get("VPNCONSOLE_REQUIRE_E2E") == "1"


def missing(reason: str):
    """Skip, or fail when VPNCONSOLE_REQUIRE_E2E=1 (CI must not quietly skip)."""
    if REQUIRE_E2E:
        pytest.fail(f"VPNCONSOLE_REQUIRE_E2E=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def require_tools(*names: str) -> dict[str, str]:
    found = {}
    for name in names:
        path = shutil.which(name) or (name if os.path.exists(name) else None)
        if path is None:
            missing(f"{name} is not installed")
        found[name] = path
    return found


def require_root() -> None:
    if os.geteuid() != 0:
        missing("network namespaces need root")
