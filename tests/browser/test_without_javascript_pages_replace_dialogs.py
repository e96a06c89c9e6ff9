"""With JavaScript off the console still works: 「再発行」 and 「削除」 lead to
confirmation pages instead of dialogs, and the new secrets still show once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from access.models import VpnAccess
from tests.browser.pages import field_text, fill_create_form, sign_in, wg_pubkey

pytestmark = pytest.mark.browser


def test_it_creates_reissues_and_deletes_through_pages(
    browser, contract_a, operator_a, shared_gateway
):
    page = browser.new_page(java_script_enabled=False)
    sign_in(page, operator_a)
    page.get_by_role("link", name="VPNアクセス作成").click()
    fill_create_form(page, protocol="WireGuard", device_name="no-js")
    page.get_by_role("button", name="確認").click()
    page.get_by_role("button", name="作成").click()
    expect(page.get_by_role("heading", name="作成完了", level=1)).to_be_visible()
    access = VpnAccess.objects.get(device__name="no-js")
    first_key = field_text(page, "クライアント秘密鍵")
    # Nothing to copy with; the text, the download and the QR code do without.
    expect(page.get_by_role("button", name="コピー")).to_be_hidden()
    expect(page.get_by_role("link", name=re.compile("^設定ファイルをダウンロード"))).to_be_visible()
    expect(page.get_by_test_id("client-config-qr").locator("svg")).to_be_visible()

    page.goto(f"/access/{access.public_id}/")
    page.get_by_role("link", name="再発行", exact=True).click()
    expect(page).to_have_url(re.compile(r"/reissue/confirm/$"))
    expect(page.get_by_role("heading", name="再発行", level=1)).to_be_visible()
    page.get_by_role("link", name="いいえ").click()
    expect(page.get_by_role("heading", name="VPNアクセス詳細", level=1)).to_be_visible()
    page.get_by_role("link", name="再発行", exact=True).click()
    page.get_by_role("button", name="はい").click()

    # The open attribute shows the secrets without script; 「閉じる」 is a dialog form.
    secrets = page.get_by_role("dialog", name="再発行した秘密鍵・パスワード")
    expect(secrets).to_be_visible()
    private_key = field_text(secrets, "クライアント秘密鍵")
    assert private_key != first_key
    assert wg_pubkey(private_key) == field_text(secrets, "クライアント公開鍵")
    secrets.get_by_role("button", name="閉じる").click()
    expect(secrets).to_be_hidden()
    page.reload()
    assert private_key not in page.content()

    page.get_by_role("link", name="削除", exact=True).click()
    expect(page).to_have_url(re.compile(r"/delete/confirm/$"))
    expect(page.get_by_role("heading", name="削除", level=1)).to_be_visible()
    expect(page.get_by_text(f"VPNアクセス {access.public_id}（デバイス名: no-js）")).to_be_visible()
    page.get_by_role("link", name="キャンセル").click()
    page.get_by_role("link", name="削除", exact=True).click()
    page.get_by_role("button", name="削除").click()
    expect(page.get_by_role("heading", name="VPNアクセス一覧", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(
        f"{access.public_id}（デバイス名: no-js）を削除しました。"
    )
    assert not VpnAccess.objects.filter(pk=access.pk).exists()
