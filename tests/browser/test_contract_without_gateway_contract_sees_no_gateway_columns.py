"""The seed's ※ columns and fields (専有, VPNゲートウェイ名, VPNゲートウェイ) appear only for
a contract with a VPN gateway contract."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import field, fill_create_form, sign_in
from tests.helpers import make_access

pytestmark = pytest.mark.browser

ALWAYS = ["ID", "ステータス", "プロトコル", "IPアドレス", "デバイス名", "接続形態", "操作"]


def column_headers(page: Page) -> list[str]:
    return [text.strip() for text in page.get_by_role("columnheader").all_inner_texts() if text]


def test_it_shows_no_gateway_columns_or_fields(page: Page, contract_b, operator_b, shared_gateway):
    make_access(contract_b, operator_b, name="camera")
    sign_in(page, operator_b)
    assert column_headers(page) == ALWAYS

    page.get_by_role("link", name="VPNアクセス作成").click()
    expect(page.get_by_role("combobox")).to_have_count(1)  # only the header's language select
    fill_create_form(page, protocol="WireGuard", device_name="sensor")
    page.get_by_role("button", name="確認").click()
    expect(page.get_by_role("heading", name="作成確認", level=1)).to_be_visible()
    expect(field(page, "VPNゲートウェイ")).to_have_count(0)
    page.get_by_role("button", name="作成").click()
    expect(page.get_by_role("heading", name="作成完了", level=1)).to_be_visible()
    expect(page.get_by_role("region", name="VPNゲートウェイ詳細")).to_have_count(0)


def test_a_gateway_contract_sees_them(
    page: Page, contract_a, operator_a, shared_gateway, dedicated_gateway
):
    make_access(contract_a, operator_a, name="camera")
    make_access(contract_a, operator_a, name="sensor", gateway=dedicated_gateway)
    sign_in(page, operator_a)
    assert column_headers(page) == [
        "ID",
        "ステータス",
        "プロトコル",
        "IPアドレス",
        "デバイス名",
        "専有",
        "接続形態",
        "VPNゲートウェイ名",
        "操作",
    ]
    sensor = page.get_by_role("row").filter(has_text="sensor")
    camera = page.get_by_role("row").filter(has_text="camera")
    expect(sensor.get_by_role("cell", name="専有GW-1")).to_be_visible()
    expect(sensor.get_by_role("cell", name="専有", exact=True)).to_be_visible()
    expect(camera.get_by_role("cell", name="-", exact=True)).to_be_visible()
