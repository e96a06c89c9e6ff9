"""An operator finds an access by its ID, by the first characters of the ID read over
the phone (in any case) and by part of the device name, then opens 詳細."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import field, field_text, sign_in
from tests.helpers import make_access

pytestmark = pytest.mark.browser


def search(page: Page, text: str) -> list[str]:
    """Search as a person does and return the IDs the list shows."""
    page.get_by_role("searchbox", name="VPNアクセス検索").fill(text)
    page.get_by_role("button", name="検索", exact=True).click()
    # The old page has the typed text too: wait for the new page's URL.
    page.wait_for_url(
        lambda url: parse_qs(urlsplit(url).query, keep_blank_values=True) == {"q": [text]}
    )
    return (
        page.locator("table.access-table tbody tr td code")
        .filter(has_text=re.compile("^va-"))
        .all_inner_texts()
    )


def test_it_finds_by_id_id_prefix_and_device_name(
    page: Page, contract_a, contract_b, operator_a, operator_b, shared_gateway, dedicated_gateway
):
    camera, _ = make_access(contract_a, operator_a, name="camera-north-01")
    router, _ = make_access(
        contract_a,
        operator_a,
        protocol="l2tp",
        name="router-lobby",
        gateway=dedicated_gateway,
    )
    other, _ = make_access(contract_b, operator_b, name="camera-south")
    sign_in(page, operator_a)
    assert sorted(search(page, "")) == sorted([camera.public_id, router.public_id])

    assert search(page, camera.public_id) == [camera.public_id]
    assert search(page, router.public_id[:6].upper()) == [router.public_id]
    assert search(page, "lobby") == [router.public_id]
    # Another contract's camera is not this operator's to find.
    assert search(page, "CAMERA") == [camera.public_id]
    assert search(page, other.public_id) == []
    expect(
        page.get_by_text(f"「{other.public_id}」に一致するVPNアクセスはありません。")
    ).to_be_visible()

    page.get_by_role("link", name="検索条件をクリア").click()
    expect(page.get_by_role("searchbox", name="VPNアクセス検索")).to_have_value("")
    search(page, "lobby")
    row = page.get_by_role("row", name=re.compile(router.public_id))
    expect(row.get_by_role("cell", name="router-lobby")).to_be_visible()
    expect(row.get_by_role("cell", name="専有GW-1")).to_be_visible()
    expect(row.get_by_role("cell", name="VPN", exact=True)).to_be_visible()
    row.get_by_role("link", name=f"{router.public_id} の詳細").click()

    expect(page.get_by_role("heading", name="VPNアクセス詳細", level=1)).to_be_visible()
    assert field_text(page, "ID") == router.public_id
    assert field_text(page, "ステータス") == "… 準備中"
    assert field_text(page, "プロトコル") == "L2TP/IPsec"
    assert field_text(page, "IPアドレス") == router.ip_address
    assert field_text(page, "接続先アドレス") == "192.0.2.2"
    assert field_text(page, "事前共有鍵") == dedicated_gateway.psk
    assert field_text(page, "ユーザ名") == router.l2tp_username
    # The seed: 詳細 is 作成完了 without 秘密鍵・パスワード.
    expect(field(page, "パスワード")).to_have_count(0)
    assert router.password not in page.content()
    expect(page.get_by_role("region", name="VPNゲートウェイ詳細")).to_be_visible()
    assert field_text(page, "デバイス名") == "router-lobby"
    for button in ("削除", "再発行"):
        expect(page.get_by_role("link", name=button, exact=True)).to_be_visible()

    page.get_by_role("link", name="戻る", exact=True).click()
    expect(page.get_by_role("heading", name="VPNアクセス一覧", level=1)).to_be_visible()


def test_it_opens_a_wireguard_access_without_its_private_key(
    page: Page, contract_a, operator_a, shared_gateway
):
    access, issued = make_access(contract_a, operator_a, name="sensor")
    sign_in(page, operator_a)
    page.get_by_role("link", name=f"{access.public_id} の詳細").click()

    assert field_text(page, "クライアント公開鍵") == access.wg_public_key
    assert field_text(page, "サーバ公開鍵") == shared_gateway.wg_public_key
    expect(field(page, "クライアント秘密鍵")).to_have_count(0)
    expect(page.get_by_test_id("client-config")).to_have_count(0)
    assert issued.private_key not in page.content()
    # The shared gateway has no VPNゲートウェイ詳細; デバイス詳細 is always there.
    expect(page.get_by_role("region", name="VPNゲートウェイ詳細")).to_have_count(0)
    assert field_text(page, "デバイスID") == access.device.public_id
