"""The open list page turns 準備中 into 利用可能 by itself once the gateway has applied
a configuration that contains the access.

The gateway is the real agent (gateways/agent.py) in file mode, as ``make run``
starts it: it registers, fetches its config from the live server, writes the
WireGuard and L2TP/IPsec files and acknowledges the revision over HTTP on loopback.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Page, expect

from gateways.models import Gateway
from gateways.tokens import issue_token
from tests.browser.pages import sign_in
from tests.e2e import require_tools
from tests.helpers import agent_command, make_access

pytestmark = pytest.mark.browser


def write_private(path: Path, text: str) -> None:
    path.touch(mode=0o600)
    path.write_text(text)


@pytest.fixture
def start_agent(live_server, tmp_path) -> Iterator[Callable[[Gateway], Path]]:
    """Starts a gateway agent in file mode against the live server; returns its state dir."""
    require_tools("wg")
    running: list[tuple[subprocess.Popen, Path]] = []

    def start(gateway: Gateway) -> Path:
        state = tmp_path / gateway.public_id
        state.mkdir(mode=0o700)
        # The key the gateway is registered with, so that registering again is a no-op.
        write_private(state / "private.key", gateway.test_private_key + "\n")
        token = issue_token(gateway)
        gateway.save(update_fields=["token_hash"])
        write_private(state / "token", token)
        log = state.with_suffix(".log")
        with log.open("w") as output:
            agent = subprocess.Popen(
                agent_command(
                    live_server.url,
                    gateway.public_id,
                    state / "token",
                    state,
                    *("--mode", "file", "--interval", "0.2"),
                ),
                cwd=django_settings.BASE_DIR,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        running.append((agent, log))
        return state

    yield start
    for agent, log in running:
        agent.terminate()
        agent.wait(timeout=10)
        # Shown with a failing test's captured output.
        print(f"--- {log.name} (exit {agent.returncode})\n{log.read_text()}")


def badge(page: Page, access):
    return page.get_by_role("row", name=re.compile(access.public_id)).locator(".status-badge")


def test_the_list_shows_available_without_a_reload(
    page: Page, settings, start_agent, contract_a, operator_a, shared_gateway, dedicated_gateway
):
    settings.VPNCONSOLE_STATUS_POLL_MS = 200
    camera, _ = make_access(contract_a, operator_a, name="camera")
    router, _ = make_access(contract_a, operator_a, protocol="l2tp", name="router")
    sensor, _ = make_access(contract_a, operator_a, name="sensor", gateway=dedicated_gateway)
    sign_in(page, operator_a)
    for access in (camera, router, sensor):
        expect(badge(page, access)).to_have_text("… 準備中")
    page.evaluate("window.sameDocument = true")

    state = start_agent(shared_gateway)

    expect(badge(page, camera)).to_have_text("✓ 利用可能")
    expect(badge(page, router)).to_have_text("✓ 利用可能")
    # Status is words and a symbol; the colour only repeats it.
    expect(badge(page, camera)).to_have_class(re.compile(r"\btext-bg-success\b"))
    # No agent runs for the dedicated gateway: its access is still being prepared.
    expect(badge(page, sensor)).to_have_text("… 準備中")
    assert page.evaluate("window.sameDocument") is True
    # What turned it 利用可能 is a config the agent really wrote.
    assert camera.wg_public_key in (state / "wg0.conf").read_text()

    page.get_by_role("link", name=f"{sensor.public_id} の詳細").click()
    expect(page.locator(".status-badge")).to_have_text("… 準備中")
    start_agent(dedicated_gateway)
    expect(page.locator(".status-badge")).to_have_text("✓ 利用可能")
