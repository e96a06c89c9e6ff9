"""An operator deletes an access: 「削除」 → dialog → 「削除」 → gone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from access.models import VpnAccess
from tests.browser.pages import settle, sign_in
from tests.helpers import make_access

pytestmark = pytest.mark.browser


def test_it_deletes_after_the_dialog(browser, page: Page, contract_a, operator_a, shared_gateway):
    access, _ = make_access(contract_a, operator_a, name="old-camera")
    kept, _ = make_access(contract_a, operator_a, name="new-camera")
    sign_in(page, operator_a)
    page.get_by_role("link", name=f"{access.public_id} の詳細").click()
    expect(page.get_by_role("heading", name="VPNアクセス詳細", level=1)).to_be_visible()
    settle(page)

    page.get_by_role("link", name="削除", exact=True).click()
    dialog = page.get_by_role("dialog", name="削除")
    expect(dialog).to_contain_text(f"VPNアクセス {access.public_id}（デバイス名: old-camera）")
    dialog.get_by_role("button", name="キャンセル").click()
    expect(dialog).to_be_hidden()
    assert VpnAccess.objects.filter(pk=access.pk).exists()

    page.get_by_role("link", name="削除", exact=True).click()
    dialog.get_by_role("button", name="削除").click()

    expect(page.get_by_role("heading", name="VPNアクセス一覧", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(
        f"VPNアクセス {access.public_id}（デバイス名: old-camera）を削除しました。"
    )
    expect(page.get_by_role("row", name=re.compile(access.public_id))).to_have_count(0)
    expect(page.get_by_role("row", name=re.compile(kept.public_id))).to_be_visible()
    assert not VpnAccess.objects.filter(pk=access.pk).exists()

    browser.allow_console_error(r"status of 404")
    page.goto(f"/access/{access.public_id}/")
    expect(page.get_by_role("heading", name="ページが見つかりません")).to_be_visible()
