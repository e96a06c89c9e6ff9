"""Security headers on every page: a Content-Security-Policy without unsafe-inline,
no inline script or style in any template or rendered page (the admin's few
inline tags carry the per-response nonce), the usual hardening headers, HSTS and
the https redirect behind a proxy, and ``check --deploy`` clean with production
settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

from tests.conftest import PASSWORD
from tests.helpers import client_for, create_through_pages, make_access
from vpnconsole.proxy import forwarded_address

ROOT = Path(__file__).resolve().parent.parent
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b[^>]*>", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.I)
HANDLER_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"(href|src|action)\s*=\s*[\"']?\s*javascript:", re.I)
NONCE = re.compile(r"'nonce-([^']+)'")


def assert_hardened(response, *, admin: bool = False) -> None:
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    if not response["Content-Type"].startswith("text/html"):
        return
    html = response.content.decode()
    assert not STYLE_ATTRIBUTE.search(html), STYLE_ATTRIBUTE.search(html).group(0)
    assert not HANDLER_ATTRIBUTE.search(html), HANDLER_ATTRIBUTE.search(html).group(0)
    assert not JAVASCRIPT_URL.search(html)
    inline = INLINE_SCRIPT.findall(html) + INLINE_STYLE.findall(html)
    if not admin:
        assert not inline, inline
        return
    # The admin's inline tags must carry this response's nonce, or the policy blocks them.
    nonce = NONCE.search(policy)
    for tag in inline:
        assert nonce and f'nonce="{nonce.group(1)}"' in tag, tag


def console_pages(client, access) -> dict[str, str]:
    return {
        "list": "/access/",
        "search": "/access/?q=dev",
        "create": "/access/new/",
        "detail": f"/access/{access.public_id}/",
        "reissue_confirm": f"/access/{access.public_id}/reissue/confirm/",
        "delete_confirm": f"/access/{access.public_id}/delete/confirm/",
        "status": f"/access/status/?ids={access.public_id}",
        "gateways": "/gateways/",
        "audit": "/audit/",
        "not_found": "/access/va-aaaaaaaaaa/",
    }


def test_every_console_page_has_the_headers_and_no_inline_code(
    contract_a, operator_a, support, shared_gateway, dedicated_gateway
):
    access, _ = make_access(contract_a, operator_a, "l2tp", "dev-1")
    client = client_for(operator_a)
    for name, url in console_pages(client, access).items():
        response = client.get(url)
        assert response.status_code in (200, 404), name
        assert_hardened(response)
    # The steps with secrets on them, WireGuard with its QR code and L2TP.
    for protocol in ("wireguard", "l2tp"):
        client.post("/access/new/", {"protocol": protocol, "device_name": f"csp-{protocol}"})
        confirm = client.get("/access/new/confirm/")
        assert confirm.status_code == 200
        assert_hardened(confirm)
        token = client.session["vpnconsole.create_draft"]["token"]
        complete = client.get(client.post("/access/new/confirm/", {"token": token})["Location"])
        assert complete.status_code == 200
        assert_hardened(complete)
    reissued = client.post(f"/access/{access.public_id}/reissue/")
    assert_hardened(client.get(reissued["Location"]))
    assert_hardened(client_for(support).get("/access/new/"))  # the 403 page


def test_the_wireguard_complete_page_and_its_qr_code(contract_a, operator_a, shared_gateway):
    client = client_for(operator_a)
    response = client.get(
        create_through_pages(client, protocol="wireguard", device_name="qr")["Location"]
    )
    svg = re.search(r"<svg.*?</svg>", response.content.decode(), re.S).group(0)
    assert "style" not in svg
    assert_hardened(response)


def test_pages_without_sign_in_have_the_headers(operator_a):
    client = Client()
    assert_hardened(client.get("/login/"))
    assert_hardened(client.get("/admin/login/"), admin=True)
    for attempt in range(10):
        client.post("/login/", {"username": operator_a.username, "password": f"x{attempt}"})
    locked = client.post("/login/", {"username": operator_a.username, "password": PASSWORD})
    assert locked.status_code == 429
    assert_hardened(locked)
    assert_hardened(Client(enforce_csrf_checks=True).post("/login/", {}))  # the CSRF page


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/vpnconsole/auditevent/",
        "/admin/vpnconsole/contract/add/",
        "/admin/gateways/gateway/",
        "/admin/gateways/gateway/add/",
        "/admin/axes/accessattempt/",
        "/admin/auth/user/",
        "/admin/auth/user/add/",
        "/admin/auth/user/{user}/change/",
        "/admin/auth/user/{user}/password/",
        "/admin/jsi18n/",
    ],
)
def test_the_admin_works_under_the_policy(url, django_user_model, shared_gateway):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "root-pass-9")
    client = Client()
    client.force_login(root)
    response = client.get(url.format(user=root.pk))
    assert response.status_code == 200, url
    assert_hardened(response, admin=True)


def test_static_files_come_from_self(operator_a):
    page = client_for(operator_a).get("/access/").content.decode()
    for url in re.findall(r'(?:src|href)="([^"#]+)"', page):
        assert url.startswith("/") and not url.startswith("//"), url


def test_no_template_has_inline_script_or_style():
    templates = sorted((ROOT / "templates").rglob("*.html"))
    assert len(templates) > 15
    for path in templates:
        text = path.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_STYLE, STYLE_ATTRIBUTE, HANDLER_ATTRIBUTE):
            assert not pattern.search(text), (path, pattern.search(text).group(0))
        assert not JAVASCRIPT_URL.search(text), path


def test_static_javascript_does_not_build_inline_code():
    for path in (ROOT / "static").rglob("*.js"):
        text = path.read_text()
        for forbidden in ("innerHTML", "eval(", "new Function", 'setAttribute("style"'):
            assert forbidden not in text, (path, forbidden)


def test_hsts_on_https_and_secure_cookies_by_default(operator_a):
    response = Client().get("/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert settings.SESSION_COOKIE_HTTPONLY and settings.CSRF_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == settings.CSRF_COOKIE_SAMESITE == "Lax"


@override_settings(
    SECURE_SSL_REDIRECT=True, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")
)
def test_plain_http_is_redirected_unless_the_proxy_says_https(db):
    response = Client().get("/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/login/"
    behind_proxy = Client().get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert behind_proxy.status_code == 200
    assert "Strict-Transport-Security" in behind_proxy


def test_forwarded_for_is_trusted_only_as_far_as_configured():
    assert forwarded_address("198.51.100.1", 0) is None
    assert forwarded_address("198.51.100.1", 1) == "198.51.100.1"
    # The client wrote the first entry itself; the proxy appended the real peer.
    assert forwarded_address("10.9.9.9, 198.51.100.1", 1) == "198.51.100.1"
    assert forwarded_address("10.9.9.9, 198.51.100.1, 192.0.2.5", 2) == "198.51.100.1"
    assert forwarded_address("198.51.100.1", 2) is None
    assert forwarded_address("not-an-ip", 1) is None
    assert forwarded_address("", 1) is None


def test_the_audit_trail_records_the_forwarded_address_behind_a_trusted_proxy(operator_a):
    from vpnconsole.models import AuditAction, AuditEvent

    form = {"username": operator_a.username, "password": PASSWORD}
    Client(REMOTE_ADDR="127.0.0.1").post("/login/", form, HTTP_X_FORWARDED_FOR="203.0.113.9")
    with override_settings(VPNCONSOLE_TRUSTED_PROXIES=1):
        Client(REMOTE_ADDR="127.0.0.1").post(
            "/login/", form, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
        )
    addresses = AuditEvent.objects.filter(action=AuditAction.LOGIN).order_by("id")
    assert [event.source_address for event in addresses] == ["127.0.0.1", "203.0.113.9"]


def production_env(tmp_path: Path, **extra: str) -> dict:
    """A production environment: nothing of the test settings' relaxations."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV"}
    env = {key: value for key, value in os.environ.items() if key in keep}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "vpnconsole.settings",
        "DEBUG": "0",
        "SECRET_KEY": "prod-" + "k3Y9x" * 12,
        "VPNCONSOLE_ENCRYPTION_KEYS": "p1:" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk",
        "ALLOWED_HOSTS": "console.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path}/prod.sqlite3",
        "VPNCONSOLE_VAR_DIR": str(tmp_path),
        "VPNCONSOLE_STATIC_ROOT": str(tmp_path / "static"),
        **extra,
    }


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_complains_when_the_https_settings_are_relaxed(tmp_path):
    env = production_env(tmp_path, SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0")
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


PRODUCTION_PAGES = """
import django, re
django.setup()
from django.core.management import call_command
from django.test import Client
call_command("migrate", verbosity=0)
call_command("collectstatic", "--noinput", verbosity=0)
client = Client(HTTP_HOST="console.example.com", HTTP_X_FORWARDED_PROTO="https")
page = client.get("/login/")
css = re.search(r'href="(/static/bootstrap/css/bootstrap[^"]+)"', page.content.decode()).group(1)
static = client.get(css)
plain = Client(HTTP_HOST="console.example.com").get("/login/")
print(page.status_code, page["Strict-Transport-Security"], page.cookies["csrftoken"]["secure"],
      css, static.status_code, static["Cache-Control"], plain.status_code, plain["Location"],
      sep="|")
"""


def test_production_serves_hashed_static_files_over_https_only(tmp_path):
    env = production_env(tmp_path, SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PAGES],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    status, hsts, secure, css, static, cache, plain, location = result.stdout.strip().split("|")
    assert (status, secure, static, plain) == ("200", "True", "200", "301")
    assert hsts.startswith("max-age=31536000")
    assert re.fullmatch(r"/static/bootstrap/css/bootstrap\.min\.[0-9a-f]{12}\.css", css)
    assert "immutable" in cache
    assert location == "https://console.example.com/login/"


def test_the_proxy_header_setting_is_parsed_strictly(tmp_path):
    show = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    env = production_env(tmp_path, SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    result = manage(env, "shell", "-c", show)
    assert result.stdout.strip().splitlines()[-1] == "('HTTP_X_FORWARDED_PROTO', 'https')"
    typo = manage(
        production_env(tmp_path, SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https"), "check"
    )
    assert typo.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER must be a header name" in typo.stderr
