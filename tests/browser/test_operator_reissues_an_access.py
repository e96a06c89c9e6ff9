"""An operator who lost the secrets reissues them: 「再発行」 → dialog → 「はい」 → the new
secrets once, in a dialog."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from access.models import AccessStatus, VpnAccess
from gateways import config
from tests.browser.pages import field, field_text, sign_in, wg_pubkey
from tests.helpers import make_access

pytestmark = pytest.mark.browser


def make_ready(access: VpnAccess) -> None:
    gateway = access.gateway
    gateway.refresh_from_db()
    config.mark_served(gateway, gateway.revision)
    config.mark_applied(gateway, gateway.revision)


def reissue(page: Page, access: VpnAccess):
    """詳細 → 「再発行」 → 「はい」; returns the dialog with the new secrets."""
    page.goto(f"/access/{access.public_id}/")
    opener = page.get_by_role("link", name="再発行", exact=True)
    opener.click()
    dialog = page.get_by_role("dialog", name="再発行")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("現在の秘密鍵・パスワードは使えなくなります。")).to_be_visible()
    dialog.get_by_role("button", name="はい").click()
    expect(page.get_by_role("status").filter(has_text="再発行しました")).to_be_visible()
    secrets = page.get_by_role("dialog", name="再発行した秘密鍵・パスワード")
    expect(secrets).to_be_visible()
    return secrets


def test_it_shows_a_new_private_key_once(page: Page, contract_a, operator_a, shared_gateway):
    access, old = make_access(contract_a, operator_a, name="camera")
    make_ready(access)
    sign_in(page, operator_a)
    secrets = reissue(page, access)

    private_key = field_text(secrets, "クライアント秘密鍵")
    public_key = field_text(secrets, "クライアント公開鍵")
    access.refresh_from_db()
    assert private_key != old.private_key
    assert wg_pubkey(private_key) == public_key == access.wg_public_key
    assert access.status == AccessStatus.PREPARING
    config_text = secrets.get_by_test_id("client-config").text_content()
    assert f"PrivateKey = {private_key}\n" in config_text
    secrets.get_by_role("button", name="コピー").click()
    expect(secrets.get_by_role("status")).to_have_text("コピーしました")
    assert page.evaluate("navigator.clipboard.readText()") == config_text

    # Behind the dialog the page already says the access is being prepared again.
    secrets.get_by_role("button", name="閉じる").click()
    expect(secrets).to_be_hidden()
    # Closed means gone: the secrets are not left hidden in the page either.
    expect(page.locator("#reissued-dialog")).to_have_count(0)
    assert private_key not in page.content()
    assert field_text(page.locator("main > section"), "ステータス") == "… 準備中"
    assert field_text(page.locator("main > section"), "クライアント公開鍵") == public_key

    page.reload()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert private_key not in page.content()
    page.go_back()
    assert private_key not in page.content()


def test_it_shows_a_new_password_once(page: Page, contract_a, operator_a, shared_gateway):
    access, old = make_access(contract_a, operator_a, protocol="l2tp", name="router")
    sign_in(page, operator_a)
    secrets = reissue(page, access)

    password = field_text(secrets, "パスワード")
    access.refresh_from_db()
    assert password != old.password
    assert password == access.password
    assert field_text(secrets, "ユーザ名") == access.l2tp_username
    assert field_text(secrets, "事前共有鍵") == shared_gateway.psk

    secrets.get_by_role("button", name="閉じる").click()
    expect(secrets).to_be_hidden()
    expect(field(page.locator("main > section"), "パスワード")).to_have_count(0)
    page.reload()
    assert password not in page.content()
