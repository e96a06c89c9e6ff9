"""What the browser journeys share: signing in, reading the seed's fields, axe-core."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.conftest import PASSWORD
from tests.e2e import require_tools

AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_URL_PATH = "/__browser-tests__/axe.min.js"
# WCAG 2.1 A and AA plus axe's best practices; only these impacts fail a test.
AXE_OPTIONS = {"resultTypes": ["violations"]}
FAILING_IMPACTS = {"serious", "critical"}


def sign_in(page: Page, user, *, heading: str = "VPNアクセス一覧") -> None:
    """Sign in through the login form, as a person does, and land on the list."""
    page.goto("/access/")
    page.get_by_label("ユーザー名").fill(user.username)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()


def settle(page: Page) -> None:
    """Wait until console.js has run on the page now shown; call it once a locator has
    found something on the new page. Before that, 「削除」 and 「再発行」 are still plain
    links to the confirmation pages (the no-JavaScript fallback) and a dialog shown by
    the open attribute is not modal yet."""
    # Not wait_for_function: its polling evaluates a string, which the CSP forbids.
    page.wait_for_load_state("load")


def field(scope: Page | Locator, label: str) -> Locator:
    """The value (dd) that follows the label (dt) of a seed field in a definition list."""
    return scope.locator(f"xpath=.//dt[normalize-space()='{label}']/following-sibling::dd[1]")


def field_text(scope: Page | Locator, label: str) -> str:
    locator = field(scope, label)
    expect(locator).to_have_count(1)
    return locator.inner_text().strip()


def device_name_input(page: Page) -> Locator:
    # crispy-forms ends a required field's label with an asterisk.
    return page.get_by_role("textbox", name=re.compile(r"^デバイス名\*?$"))


def fill_create_form(
    page: Page, *, protocol: str, device_name: str, gateway: str | None = None
) -> None:
    page.get_by_role("radio", name=protocol).check()
    device_name_input(page).fill(device_name)
    if gateway is not None:
        page.get_by_label("VPNゲートウェイ", exact=True).select_option(label=gateway)


def wg_pubkey(private_key: str) -> str:
    wg = require_tools("wg")["wg"]
    result = subprocess.run(
        [wg, "pubkey"], input=private_key + "\n", capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def decode_qr(png: Path) -> str:
    """The text of the QR code in a PNG, by zbar (Debian's zbar-tools)."""
    zbarimg = require_tools("zbarimg")["zbarimg"]
    result = subprocess.run(
        # QR codes only: zbar's 1D decoders can read a false barcode in the QR's modules.
        [
            zbarimg,
            "--raw",
            "--quiet",
            "--nodbus",
            "-Sdisable",
            "-Sqrcode.enable",
            "-Sbinary",
            str(png),
        ],
        capture_output=True,
        check=True,
    )
    # -Sbinary: the symbol's bytes exactly, without a newline or charset guessing.
    return result.stdout.decode()


def axe_failures(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        # The console's CSP allows no inline script, so axe comes as a same-origin
        # file that the browser context serves itself (AXE_URL_PATH, see conftest).
        page.add_script_tag(url=AXE_URL_PATH)
    results = page.evaluate("options => window.axe.run(document, options)", AXE_OPTIONS)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(
            f"    {node['target']}: {node.get('failureSummary', '').replace(chr(10), ' ')}"
            for node in v["nodes"][:5]
        )
        for v in results["violations"]
        if v["impact"] in FAILING_IMPACTS
    ]


def assert_accessible(page: Page, screen: str) -> None:
    """Run axe-core (vendored, no CDN) on the page; fail on serious or critical findings."""
    failures = axe_failures(page)
    assert not failures, f"axe on {screen} ({page.url}):\n" + "\n".join(failures)
