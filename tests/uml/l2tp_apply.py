"""Apply one desired config with gateways.l2tp.L2tpDriver, as the agent would.

Runs inside UML in the gateway's namespaces under ``python3 -I -S``: no site-packages,
so it also proves that gateways/l2tp.py needs nothing beyond the standard library.

    l2tp_apply.py <repo>/gateways/l2tp.py <driver-options.json> <config.json>

Prints ``applied`` or ``failed: <error>`` (the driver's errors carry no secrets).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path


def main() -> int:
    module_path, options_path, config_path = sys.argv[1:4]
    spec = importlib.util.spec_from_file_location("l2tp", module_path)
    l2tp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(l2tp)
    if "django" in sys.modules:
        print("failed: gateways.l2tp imported Django")
        return 1
    options = json.loads(Path(options_path).read_text())
    driver = l2tp.L2tpDriver(Path(options.pop("state_dir")), **options)
    try:
        driver.apply(json.loads(Path(config_path).read_text()))
    except Exception as exc:  # the scenario records it; the test asserts on it
        print(f"failed: {exc.__class__.__name__}: {exc}")
        return 1
    print("applied")
    return 0


if __name__ == "__main__":
    sys.exit(main())
