"""The main journeys once in English, chosen with the header's language switch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from access.models import VpnAccess
from gateways import config
from tests.browser.pages import assert_accessible, field_text, settle, sign_in, wg_pubkey
from tests.e2e import missing

pytestmark = pytest.mark.browser

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.mo"
JAPANESE = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]+")
# Data, not UI: the language's own name, and the fixtures' contract and gateway names.
DATA = ("日本語", "契約A", "専有GW-1", "共用ゲートウェイ")


def assert_no_japanese_left(page: Page) -> None:
    """Every UI string on the page, attributes and closed dialogs included, is English."""
    html = page.content()
    for data in DATA:
        html = html.replace(data, "")
    assert JAPANESE.findall(html) == [], page.url


@pytest.fixture
def english_page(page: Page, operator_a) -> Page:
    if not CATALOGUE.exists():
        missing("msgfmt (Debian's gettext) is not installed: the English catalogue is not compiled")
    sign_in(page, operator_a)
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.get_by_label("表示言語").select_option(label="English")
    page.get_by_role("button", name="切替").click()
    expect(page.get_by_role("heading", name="VPN accesses", level=1)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    return page


def create(page: Page, *, protocol: str, device_name: str, gateway: str) -> VpnAccess:
    page.get_by_role("link", name="Create VPN access").click()
    expect(page.get_by_role("heading", name="Create VPN access", level=1)).to_be_visible()
    page.get_by_role("radio", name=protocol).check()
    device = page.get_by_role("textbox", name=re.compile(r"^Device name\*?$"))
    device.fill(device_name)
    page.get_by_label("VPN gateway", exact=True).select_option(label=gateway)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Confirm creation", level=1)).to_be_visible()
    assert field_text(page, "Device name") == device_name
    assert_no_japanese_left(page)
    page.get_by_role("link", name="Back").click()
    expect(device).to_have_value(device_name)
    assert_no_japanese_left(page)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="VPN access created", level=1)).to_be_visible()
    return VpnAccess.objects.get(device__name=device_name)


def test_an_operator_creates_reissues_and_deletes_in_english(
    english_page: Page, settings, dedicated_gateway, shared_gateway
):
    settings.VPNCONSOLE_STATUS_POLL_MS = 200
    page = english_page
    gateway = f"{dedicated_gateway.name} ({dedicated_gateway.public_id})"
    access = create(page, protocol="WireGuard", device_name="camera-en", gateway=gateway)

    details = page.get_by_role("region", name="VPN access details")
    assert field_text(details, "Status") == "… Preparing"
    assert field_text(details, "Protocol") == "WireGuard"
    assert field_text(details, "IP address") == access.ip_address
    assert field_text(details, "DNS server") == "198.18.1.1"
    assert field_text(details, "Endpoint address") == "192.0.2.2:51820"
    assert field_text(details, "Server public key") == dedicated_gateway.wg_public_key
    private_key = field_text(details, "Client private key")
    assert wg_pubkey(private_key) == field_text(details, "Client public key")
    expect(page.get_by_role("region", name="VPN gateway details")).to_be_visible()
    assert field_text(page.get_by_role("region", name="Device details"), "Device name") == (
        "camera-en"
    )
    config_section = page.get_by_role("region", name="WireGuard client configuration")
    config_section.get_by_role("button", name="Copy").click()
    expect(config_section.get_by_role("status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == (
        page.get_by_test_id("client-config").text_content()
    )
    assert_accessible(page, "VPN access created (English)")
    assert_no_japanese_left(page)

    page.get_by_role("link", name="Back to list").click()
    row = page.get_by_role("row", name=re.compile(access.public_id))
    expect(row.get_by_role("cell", name="Dedicated", exact=True)).to_be_visible()
    dedicated_gateway.refresh_from_db()
    config.mark_served(dedicated_gateway, dedicated_gateway.revision)
    config.mark_applied(dedicated_gateway, dedicated_gateway.revision)
    expect(row.locator(".status-badge")).to_have_text("✓ Available")
    assert_accessible(page, "VPN accesses (English)")
    assert_no_japanese_left(page)

    row.get_by_role("link", name=f"Details of {access.public_id}").click()
    expect(page.get_by_role("heading", name="VPN access details", level=1)).to_be_visible()
    assert_no_japanese_left(page)
    settle(page)
    page.get_by_role("link", name="Reissue", exact=True).click()
    page.get_by_role("dialog", name="Reissue").get_by_role("button", name="Yes").click()
    expect(page.locator(".messages")).to_have_text("The private key / password has been reissued.")
    secrets = page.get_by_role("dialog", name="Reissued private key / password")
    expect(secrets).to_be_visible()
    settle(page)
    new_key = field_text(secrets, "Client private key")
    assert new_key != private_key
    assert wg_pubkey(new_key) == field_text(secrets, "Client public key")
    assert_no_japanese_left(page)
    secrets.get_by_role("button", name="Close").click()
    expect(secrets).to_be_hidden()

    page.get_by_role("link", name="Delete", exact=True).click()
    dialog = page.get_by_role("dialog", name="Delete")
    expect(dialog).to_contain_text(
        f"Delete VPN access {access.public_id} (device name: camera-en)?"
    )
    dialog.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Deleted VPN access {access.public_id} (device name: camera-en)."
    )
    expect(page.get_by_role("row", name=re.compile(access.public_id))).to_have_count(0)


def test_an_l2tp_access_and_search_in_english(english_page: Page, shared_gateway):
    page = english_page
    access = create(
        page, protocol="L2TP/IPsec", device_name="router-en", gateway="None (shared gateway)"
    )
    assert field_text(page, "Pre-shared key") == shared_gateway.psk
    assert field_text(page, "User name") == access.l2tp_username
    assert field_text(page, "Password") == access.password
    expect(page.get_by_role("alert")).to_contain_text("shown on this screen only")

    page.get_by_role("link", name="Back to list").click()
    page.get_by_role("searchbox", name="Search VPN accesses").fill(access.public_id[:5].upper())
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("row", name=re.compile(access.public_id))).to_be_visible()
    page.get_by_role("searchbox", name="Search VPN accesses").fill("nothing-like-this")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_text('No VPN access matches "nothing-like-this".')).to_be_visible()
    assert_no_japanese_left(page)

    page.goto("/gateways/")
    expect(page.get_by_role("heading", name="VPN gateway", level=1)).to_be_visible()
    expect(page.get_by_role("columnheader", name="VPN gateway name")).to_be_visible()
    assert_accessible(page, "VPN gateway (English)")
    assert_no_japanese_left(page)
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    assert_no_japanese_left(page)

    # And back to Japanese with the same switch.
    page.get_by_label("Display language").select_option(label="日本語")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", name="操作履歴", level=1)).to_be_visible()
