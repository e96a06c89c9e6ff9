"""An operator creates a VPN access of each protocol and takes its secrets away once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from access.models import VpnAccess
from tests.browser.pages import (
    decode_qr,
    device_name_input,
    field,
    field_text,
    fill_create_form,
    sign_in,
    wg_pubkey,
)

pytestmark = pytest.mark.browser

SHARED = "指定しない（共用ゲートウェイ）"


def create_with_a_detour_back(
    page: Page, *, protocol: str, device_name: str, gateway: str
) -> VpnAccess:
    """一覧 → 作成 → 確認 → 戻る (input kept) → 確認 → 作成 → 作成完了."""
    page.get_by_role("link", name="VPNアクセス作成").click()
    expect(page.get_by_role("heading", name="VPNアクセス作成", level=1)).to_be_visible()
    fill_create_form(page, protocol=protocol, device_name=device_name, gateway=gateway)
    page.get_by_role("button", name="確認").click()

    expect(page.get_by_role("heading", name="作成確認", level=1)).to_be_visible()
    assert field_text(page, "プロトコル") == protocol
    assert field_text(page, "デバイス名") == device_name
    assert field_text(page, "VPNゲートウェイ") == gateway
    page.get_by_role("link", name="戻る").click()

    expect(page.get_by_role("heading", name="VPNアクセス作成", level=1)).to_be_visible()
    expect(page.get_by_role("radio", name=protocol)).to_be_checked()
    expect(device_name_input(page)).to_have_value(device_name)
    gateway_select = page.get_by_label("VPNゲートウェイ", exact=True)
    assert gateway_select.evaluate("select => select.selectedOptions[0].text") == gateway
    page.get_by_role("button", name="確認").click()

    expect(page.get_by_role("heading", name="作成確認", level=1)).to_be_visible()
    page.get_by_role("button", name="作成").click()
    expect(page.get_by_role("heading", name="作成完了", level=1)).to_be_visible()
    return VpnAccess.objects.select_related("device", "gateway").get(device__name=device_name)


def assert_secret_gone(page: Page, secret: str) -> None:
    expect(page.get_by_text("秘密鍵・パスワードは作成時に一度だけ表示されました。")).to_be_visible()
    assert secret not in page.content()


def test_it_creates_a_wireguard_access_with_a_working_config(
    page: Page, operator_a, shared_gateway, dedicated_gateway, tmp_path
):
    gateway_label = f"{dedicated_gateway.name} ({dedicated_gateway.public_id})"
    sign_in(page, operator_a)
    access = create_with_a_detour_back(
        page, protocol="WireGuard", device_name="camera-01", gateway=gateway_label
    )

    details = page.get_by_role("region", name="VPNアクセス詳細")
    assert field_text(details, "ID") == access.public_id
    assert field_text(details, "ステータス") == "… 準備中"
    assert field_text(details, "プロトコル") == "WireGuard"
    assert field_text(details, "IPアドレス") == access.ip_address
    assert field_text(details, "DNSサーバ") == "198.18.1.1"
    assert field_text(details, "接続先アドレス") == "192.0.2.2:51820"
    assert field_text(details, "サーバ公開鍵") == dedicated_gateway.wg_public_key
    assert field_text(details, "Allowed IPs") == "198.18.1.0/24"
    private_key = field_text(details, "クライアント秘密鍵")
    public_key = field_text(details, "クライアント公開鍵")
    assert wg_pubkey(private_key) == public_key == access.wg_public_key

    config_section = page.get_by_role("region", name="WireGuard クライアント設定")
    config = page.get_by_test_id("client-config").text_content()
    assert f"PrivateKey = {private_key}\n" in config
    assert f"Address = {access.ip_address}/32\n" in config
    assert f"PublicKey = {dedicated_gateway.wg_public_key}\n" in config
    assert "Endpoint = 192.0.2.2:51820\n" in config

    config_section.get_by_role("button", name="コピー").click()
    expect(config_section.get_by_role("status")).to_have_text("コピーしました")
    assert page.evaluate("navigator.clipboard.readText()") == config

    with page.expect_download() as download_info:
        config_section.get_by_role("link", name=re.compile("^設定ファイルをダウンロード")).click()
    download = download_info.value
    assert download.suggested_filename == f"{access.public_id}.conf"
    assert download.path().read_text() == config

    qr_png = tmp_path / "qr.png"
    page.get_by_test_id("client-config-qr").locator("svg").screenshot(path=qr_png)
    assert decode_qr(qr_png) == config

    gateway_section = page.get_by_role("region", name="VPNゲートウェイ詳細")
    expect(gateway_section.get_by_role("cell", name=dedicated_gateway.public_id)).to_be_visible()
    expect(gateway_section.get_by_role("cell", name="専有GW-1")).to_be_visible()
    devices = page.get_by_role("region", name="デバイス詳細")
    assert field_text(devices, "デバイスID") == access.device.public_id
    assert field_text(devices, "デバイス名") == "camera-01"
    expect(page.get_by_role("link", name="続けて作成")).to_be_visible()

    page.reload()
    expect(page.get_by_role("heading", name="作成完了", level=1)).to_be_visible()
    assert_secret_gone(page, private_key)
    expect(field(page, "クライアント秘密鍵")).to_have_count(0)
    expect(page.get_by_test_id("client-config")).to_have_count(0)

    page.get_by_role("link", name="一覧に戻る").click()
    expect(page.get_by_role("row", name=re.compile(access.public_id))).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="作成完了", level=1)).to_be_visible()
    assert_secret_gone(page, private_key)
    page.go_back()
    assert private_key not in page.content()


def test_it_creates_an_l2tp_access_and_shows_the_password_once(
    page: Page, operator_a, shared_gateway, dedicated_gateway
):
    sign_in(page, operator_a)
    access = create_with_a_detour_back(
        page, protocol="L2TP/IPsec", device_name="ルーター 2", gateway=SHARED
    )

    details = page.get_by_role("region", name="VPNアクセス詳細")
    assert field_text(details, "ID") == access.public_id
    assert field_text(details, "プロトコル") == "L2TP/IPsec"
    assert field_text(details, "IPアドレス") == access.ip_address
    assert field_text(details, "DNSサーバ") == "198.18.0.1"
    assert field_text(details, "接続先アドレス") == "192.0.2.1"
    assert field_text(details, "事前共有鍵") == shared_gateway.psk
    assert field_text(details, "ユーザ名") == access.l2tp_username
    password = field_text(details, "パスワード")
    assert password == access.password
    for wireguard_only in ("サーバ公開鍵", "クライアント秘密鍵", "クライアント公開鍵"):
        expect(field(details, wireguard_only)).to_have_count(0)
    expect(page.get_by_role("region", name="WireGuard クライアント設定")).to_have_count(0)
    # The shared gateway is no VPNゲートウェイ詳細 of the seed's: that is for dedicated ones.
    expect(page.get_by_role("region", name="VPNゲートウェイ詳細")).to_have_count(0)
    devices = page.get_by_role("region", name="デバイス詳細")
    assert field_text(devices, "デバイス名") == "ルーター 2"

    page.reload()
    assert_secret_gone(page, password)
    assert field_text(page, "ユーザ名") == access.l2tp_username
    page.get_by_role("link", name="一覧に戻る").click()
    page.go_back()
    assert_secret_gone(page, password)
