"""axe-core finds nothing serious or critical on any screen, in any state a person
meets it: empty, with errors, with a dialog open, as support staff, as an error page.

Each test walks its screens and reports every finding at the end, so one run lists
all that is wrong instead of the first.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import axe_failures, fill_create_form, settle, sign_in
from tests.helpers import make_access

pytestmark = pytest.mark.browser


class Screens:
    def __init__(self, page: Page):
        self.page = page
        self.seen: list[str] = []
        self.failures: dict[str, list[str]] = {}

    def check(self, screen: str) -> None:
        self.seen.append(screen)
        failures = axe_failures(self.page)
        if failures:
            self.failures[f"{screen} ({self.page.url})"] = failures

    def assert_clean(self) -> None:
        assert not self.failures, "\n".join(
            f"{screen}:\n" + "\n".join(f"  - {failure}" for failure in failures)
            for screen, failures in self.failures.items()
        )


def create(page: Page, screens: Screens, *, protocol: str, device_name: str, gateway: str):
    page.goto("/access/new/")
    fill_create_form(page, protocol=protocol, device_name=device_name, gateway=gateway)
    page.get_by_role("button", name="確認").click()
    expect(page.get_by_role("heading", name="作成確認", level=1)).to_be_visible()
    screens.check(f"作成確認 ({protocol})")
    page.get_by_role("button", name="作成").click()
    expect(page.get_by_role("heading", name="作成完了", level=1)).to_be_visible()
    screens.check(f"作成完了 ({protocol})")


def test_operator_screens(
    browser, page: Page, contract_a, operator_a, shared_gateway, dedicated_gateway
):
    screens = Screens(page)
    page.goto("/login/")
    screens.check("ログイン")
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("alert").or_(page.locator(".invalid-feedback")).first).to_be_visible()
    screens.check("ログイン (errors)")
    sign_in(page, operator_a)
    screens.check("VPNアクセス一覧 (empty)")

    page.get_by_role("link", name="VPNアクセス作成").click()
    screens.check("VPNアクセス作成")
    page.get_by_role("button", name="確認").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    screens.check("VPNアクセス作成 (errors)")

    gateway = f"{dedicated_gateway.name} ({dedicated_gateway.public_id})"
    create(page, screens, protocol="WireGuard", device_name="camera", gateway=gateway)
    create(page, screens, protocol="L2TP/IPsec", device_name="router", gateway=gateway)

    page.goto("/access/")
    screens.check("VPNアクセス一覧")
    page.get_by_role("searchbox", name="VPNアクセス検索").fill("nothing-like-this")
    page.get_by_role("button", name="検索", exact=True).click()
    screens.check("VPNアクセス一覧 (no match)")

    access, _ = make_access(contract_a, operator_a, protocol="l2tp", name="lobby")
    page.goto(f"/access/{access.public_id}/")
    screens.check("VPNアクセス詳細")
    page.get_by_role("link", name="再発行", exact=True).click()
    expect(page.get_by_role("dialog", name="再発行")).to_be_visible()
    screens.check("再発行 dialog")
    page.get_by_role("dialog").get_by_role("button", name="はい").click()
    expect(page.get_by_role("dialog", name="再発行した秘密鍵・パスワード")).to_be_visible()
    settle(page)
    screens.check("再発行 new secrets dialog")
    page.keyboard.press("Escape")
    page.get_by_role("link", name="削除", exact=True).click()
    expect(page.get_by_role("dialog", name="削除")).to_be_visible()
    screens.check("削除 dialog")

    page.goto(f"/access/{access.public_id}/reissue/confirm/")
    screens.check("再発行 confirmation page")
    page.goto(f"/access/{access.public_id}/delete/confirm/")
    screens.check("削除 confirmation page")
    page.goto("/gateways/")
    screens.check("VPNゲートウェイ")
    page.get_by_role("link", name="操作履歴").click()
    expect(page.get_by_role("heading", name="操作履歴", level=1)).to_be_visible()
    screens.check("操作履歴")

    browser.allow_console_error(r"status of 404")
    page.goto("/access/va-doesnotexist/")
    expect(page.get_by_role("heading", name="ページが見つかりません")).to_be_visible()
    screens.check("404")
    screens.assert_clean()


def test_support_and_small_contract_screens(
    browser, page: Page, contract_a, contract_b, operator_a, operator_b, support, shared_gateway
):
    screens = Screens(page)
    access, _ = make_access(contract_a, operator_a, name="camera")
    make_access(contract_b, operator_b, protocol="l2tp", name="router")
    sign_in(page, support)
    screens.check("VPNアクセス一覧 (support)")
    page.goto(f"/access/{access.public_id}/")
    screens.check("VPNアクセス詳細 (support)")
    page.goto("/gateways/")
    screens.check("VPNゲートウェイ (support)")
    page.get_by_role("link", name="操作履歴").click()
    screens.check("操作履歴 (support)")
    browser.allow_console_error(r"status of 403")
    page.goto("/access/new/")
    expect(page.get_by_role("heading", name="この操作は許可されていません")).to_be_visible()
    screens.check("403")

    other = browser.new_page()
    screens.page = other
    sign_in(other, operator_b)
    screens.check("VPNアクセス一覧 (no gateway contract)")
    other.get_by_role("link", name="VPNアクセス作成").click()
    screens.check("VPNアクセス作成 (no gateway contract)")
    screens.assert_clean()
