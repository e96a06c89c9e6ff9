"""The create journey, reissue and delete with the keyboard alone: Tab to move, Enter
and Space to press, Escape to close a dialog, and focus back on what opened it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from access.models import VpnAccess
from tests.browser.pages import device_name_input, settle
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def is_focused(locator: Locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def tab_to(page: Page, locator: Locator, *, limit: int = 60) -> None:
    """Press Tab until ``locator`` has the focus, as a keyboard user would."""
    expect(locator).to_be_visible()
    for _ in range(limit):
        if is_focused(locator):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {locator}")


def focus_is_inside(dialog: Locator) -> bool:
    return dialog.evaluate("dialog => dialog.contains(document.activeElement)")


def test_it_creates_reissues_and_deletes_without_a_mouse(
    page: Page, operator_a, shared_gateway, dedicated_gateway
):
    page.goto("/access/")
    expect(page.get_by_label("ユーザー名")).to_be_focused()  # autofocus
    page.keyboard.type(operator_a.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="VPNアクセス一覧", level=1)).to_be_visible()

    tab_to(page, page.get_by_role("link", name="VPNアクセス作成"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="VPNアクセス作成", level=1)).to_be_visible()
    wireguard = page.get_by_role("radio", name="WireGuard")
    tab_to(page, wireguard)
    page.keyboard.press("Space")
    expect(wireguard).to_be_checked()
    page.keyboard.press("Tab")
    expect(device_name_input(page)).to_be_focused()
    page.keyboard.type("kb-camera")
    page.keyboard.press("Tab")
    gateway = page.get_by_label("VPNゲートウェイ", exact=True)
    expect(gateway).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(gateway).to_have_value(dedicated_gateway.public_id)
    tab_to(page, page.get_by_role("button", name="確認"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="作成確認", level=1)).to_be_visible()
    tab_to(page, page.get_by_role("button", name="作成"))
    page.keyboard.press("Space")
    expect(page.get_by_role("heading", name="作成完了", level=1)).to_be_visible()
    access = VpnAccess.objects.get(device__name="kb-camera")
    assert access.gateway_id == dedicated_gateway.pk

    copy = page.get_by_role("button", name="コピー")
    tab_to(page, copy)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="コピーしました")).to_be_visible()
    config = page.get_by_test_id("client-config").text_content()
    assert page.evaluate("navigator.clipboard.readText()") == config

    tab_to(page, page.get_by_role("link", name="一覧に戻る"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("link", name=f"{access.public_id} の詳細"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="VPNアクセス詳細", level=1)).to_be_visible()
    settle(page)

    # 再発行: Escape closes the dialog and gives the focus back to its opener.
    reissue = page.get_by_role("link", name="再発行", exact=True)
    tab_to(page, reissue)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="再発行")
    expect(dialog).to_be_visible()
    assert focus_is_inside(dialog)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(reissue).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    tab_to(page, dialog.get_by_role("button", name="はい"))
    page.keyboard.press("Space")
    secrets = page.get_by_role("dialog", name="再発行した秘密鍵・パスワード")
    expect(secrets).to_be_visible()
    settle(page)
    assert focus_is_inside(secrets)
    page.keyboard.press("Escape")
    expect(secrets).to_be_hidden()
    # The page's heading takes the focus, so the next Tab starts from the top of main.
    expect(page.get_by_role("heading", name="VPNアクセス詳細", level=1)).to_be_focused()

    delete = page.get_by_role("link", name="削除", exact=True)
    tab_to(page, delete)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="削除")
    expect(dialog).to_be_visible()
    assert focus_is_inside(dialog)
    page.keyboard.press("Escape")
    expect(delete).to_be_focused()
    page.keyboard.press("Enter")
    tab_to(page, dialog.get_by_role("button", name="削除"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(
        f"{access.public_id}（デバイス名: kb-camera）"
    )
    expect(page.get_by_role("row", name=re.compile(access.public_id))).to_have_count(0)
