import re
import subprocess
from html import unescape
from urllib.parse import unquote

import pytest

from access.models import VpnAccess
from tests.e2e import require_tools
from tests.helpers import client_for, create_through_pages

WG_FIELDS = [
    "ID",
    "プロトコル",
    "IPアドレス",
    "DNSサーバ",
    "接続先アドレス",
    "サーバ公開鍵",
    "クライアント秘密鍵",
    "クライアント公開鍵",
    "Allowed IPs",
    "WireGuard クライアント設定",
]
L2TP_FIELDS = [
    "ID",
    "プロトコル",
    "IPアドレス",
    "DNSサーバ",
    "接続先アドレス",
    "事前共有鍵",
    "ユーザ名",
    "パスワード",
]


def complete_page(client, **fields):
    response = create_through_pages(client, **fields)
    return client.get(response["Location"])


def secret(html, name):
    match = re.search(rf'data-secret="{name}">([^<]+)<', html)
    return unescape(match.group(1)) if match else None


def test_wireguard_complete_shows_every_seed_field(operator_a, dedicated_gateway):
    client = client_for(operator_a)
    response = complete_page(
        client, protocol="wireguard", device_name="cam", gateway=dedicated_gateway.public_id
    )
    html = response.content.decode()
    access = VpnAccess.objects.get()
    for label in WG_FIELDS + [
        "作成完了",
        "VPNゲートウェイ詳細",
        "デバイス詳細",
        "デバイスID",
        "デバイス名",
        "一覧に戻る",
        "続けて作成",
    ]:
        assert label in html, label
    for value in [
        access.public_id,
        access.ip_address,
        "192.0.2.2:51820",
        dedicated_gateway.wg_public_key,
        access.wg_public_key,
        "198.18.1.0/24",
        access.device.public_id,
        "cam",
    ]:
        assert value in html, value
    assert "事前共有鍵" not in html
    assert "秘密鍵・パスワードはこの作成完了画面" in html or "この画面にのみ表示されます" in html


def test_the_shown_private_key_matches_the_shown_public_key(operator_a, shared_gateway):
    wg = require_tools("wg")["wg"]
    html = complete_page(client_for(operator_a), protocol="wireguard", device_name="c").content
    html = html.decode()
    private = secret(html, "private-key")
    derived = subprocess.run(
        [wg, "pubkey"], input=private, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert derived == VpnAccess.objects.get().wg_public_key
    assert derived in html


def test_config_text_download_and_qr_carry_the_same_config(operator_a, shared_gateway):
    html = complete_page(client_for(operator_a), protocol="wireguard", device_name="c").content
    html = html.decode()
    shown = unescape(re.search(r'data-testid="client-config"[^>]*>([^<]+)</pre>', html).group(1))
    assert f"PrivateKey = {secret(html, 'private-key')}" in shown
    download = re.search(r'href="data:text/plain;charset=utf-8,([^"]+)" download="([^"]+)"', html)
    assert unquote(unescape(download.group(1))) == shown
    assert download.group(2) == f"{VpnAccess.objects.get().public_id}.conf"
    assert "<svg" in html.split('data-testid="client-config-qr"')[1][:200]


def test_l2tp_complete_shows_psk_username_and_password(operator_a, shared_gateway):
    html = complete_page(client_for(operator_a), protocol="l2tp", device_name="plc").content
    html = html.decode()
    access = VpnAccess.objects.get()
    for label in L2TP_FIELDS:
        assert label in html, label
    assert shared_gateway.psk in html
    assert access.l2tp_username in html
    assert secret(html, "password") == access.password
    assert "WireGuard クライアント設定" not in html
    assert "VPNゲートウェイ詳細" not in html  # shared gateway


@pytest.mark.parametrize("protocol", ["wireguard", "l2tp"])
def test_secrets_are_shown_once_and_a_second_get_shows_none(operator_a, shared_gateway, protocol):
    client = client_for(operator_a)
    response = create_through_pages(client, protocol=protocol, device_name="d")
    first = client.get(response["Location"])
    again = client.get(response["Location"])
    key = "private-key" if protocol == "wireguard" else "password"
    shown = secret(first.content.decode(), key)
    assert shown
    assert shown not in again.content.decode()
    assert secret(again.content.decode(), key) is None
    assert "一度だけ表示されました" in again.content.decode()
    assert "再発行" in again.content.decode()
    detail = client.get(f"/access/{VpnAccess.objects.get().public_id}/").content.decode()
    assert shown not in detail


def test_the_complete_page_is_not_stored(operator_a, shared_gateway):
    response = complete_page(client_for(operator_a), protocol="wireguard", device_name="c")
    assert "no-store" in response["Cache-Control"]


def test_secrets_never_appear_in_a_url(operator_a, shared_gateway):
    client = client_for(operator_a)
    response = create_through_pages(client, protocol="l2tp", device_name="d")
    html = client.get(response["Location"]).content.decode()
    password = secret(html, "password")
    assert password not in response["Location"]
    for href in re.findall(r'(?:href|action|src)="([^"]+)"', html):
        assert password not in unquote(href)


def test_another_operator_cannot_open_the_complete_page(operator_a, operator_b, shared_gateway):
    response = create_through_pages(client_for(operator_a), protocol="l2tp", device_name="d")
    assert client_for(operator_b).get(response["Location"]).status_code == 404
