"""Support staff find another contract's access by its ID and see no control that
would change it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import field_text, sign_in
from tests.helpers import make_access

pytestmark = pytest.mark.browser


def test_it_finds_another_contracts_access_read_only(
    browser, page: Page, contract_a, contract_b, operator_a, operator_b, support, shared_gateway
):
    make_access(contract_a, operator_a, name="camera-a")
    access, _ = make_access(contract_b, operator_b, protocol="l2tp", name="camera-b")
    sign_in(page, support)
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("サポート")
    expect(page.get_by_role("link", name="VPNアクセス作成")).to_have_count(0)

    page.get_by_role("searchbox", name="VPNアクセス検索").fill(access.public_id)
    page.get_by_role("button", name="検索", exact=True).click()
    rows = page.locator("table.access-table tbody tr")
    expect(rows).to_have_count(1)
    expect(page.get_by_role("columnheader", name="契約")).to_be_visible()
    expect(rows.get_by_role("cell", name="契約B")).to_be_visible()
    rows.get_by_role("link", name=f"{access.public_id} の詳細").click()

    expect(page.get_by_role("heading", name="VPNアクセス詳細", level=1)).to_be_visible()
    assert field_text(page, "ID") == access.public_id
    assert field_text(page, "ユーザ名") == access.l2tp_username
    # The pre-shared key is for the contract's own users.
    assert field_text(page, "事前共有鍵") == "（サポートには表示されません）"
    assert shared_gateway.psk not in page.content()
    for control in ("削除", "再発行"):
        expect(page.get_by_role("link", name=control, exact=True)).to_have_count(0)
        expect(page.get_by_role("button", name=control, exact=True)).to_have_count(0)
    expect(page.locator("dialog")).to_have_count(0)
    expect(page.get_by_role("link", name="戻る", exact=True)).to_be_visible()

    # Typing a write URL by hand is refused, not merely hidden.
    browser.allow_console_error(r"status of 403")
    for url in (
        "/access/new/",
        f"/access/{access.public_id}/reissue/confirm/",
        f"/access/{access.public_id}/delete/confirm/",
    ):
        response = page.goto(url)
        assert response.status == 403, url
        expect(page.get_by_role("heading", name="この操作は許可されていません")).to_be_visible()

    page.goto("/gateways/")
    expect(page.get_by_role("columnheader", name="契約")).to_be_visible()
    expect(page.get_by_role("cell", name=re.compile("^共用ゲートウェイ$"))).to_be_visible()
