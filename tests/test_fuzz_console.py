"""Hostile input to every form and endpoint of the console: random and huge strings,
control characters and NUL, lists where one value is expected, unknown protocols
and gateways, other contracts' IDs, replayed and forged confirm tokens, junk
bodies, cookies and headers. Never a 500, never a partial write (row counts
change only with a success, and then exactly as a success does), and a refused
input always gets a page or a message that says why.

Run ``pytest tests/test_fuzz_console.py --hypothesis-show-statistics`` to see how
many examples each case ran.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import FUZZ, FuzzCase, form_data, form_value, hostile_text, huge
from vpnconsole.models import AuditAction, AuditEvent

# Stand-ins for objects that exist only once setUpTestData ran.
GATEWAYS = ["@own-gateway", "@other-gateway", "@shared-gateway", ""]
ACCESSES = ["@own-access", "@own-l2tp", "@other-access", "@other-l2tp", "@unknown-access"]
ROLES = ["operator_a", "operator_b", "support"]
TOKENS = ["@right", "@right", "@stale"]
OWNED = {
    "operator_a": {"@own-access", "@own-l2tp"},
    "operator_b": {"@other-access", "@other-l2tp"},
    "support": set(),
}


# NUL, lengths and encodings differ by database: this runs again under --postgres.
pytestmark = pytest.mark.postgres


class ConsoleFuzz(FuzzCase):
    def resolve(self, value):
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return {
            "@own-gateway": self.gateway_a.public_id,
            "@other-gateway": self.gateway_b.public_id,
            "@shared-gateway": self.shared.public_id,
            "@own-access": self.access_a.public_id,
            "@own-l2tp": self.l2tp_a.public_id,
            "@other-access": self.access_b.public_id,
            "@other-l2tp": self.l2tp_b.public_id,
            "@unknown-access": "va-zzzzzzzzzz",
        }.get(value, value)

    def assert_create_outcome(self, response, before: dict) -> None:
        """Create step: a redirect to the confirm step, or the form with its errors."""
        self.assert_no_server_error(response)
        self.assert_unchanged(before)  # the first step never writes
        if response.status_code == 302:
            assert response["Location"] == "/access/new/confirm/"
            assert self.client.session["vpnconsole.create_draft"]["token"]
        else:
            assert response.status_code in (200, 400), response.status_code
            self.assert_clear_page(response, refused=True)

    @FUZZ
    @given(
        form_data(
            {
                "protocol": st.sampled_from(["wireguard", "l2tp", "openvpn", ""]),
                "device_name": st.text(min_size=1, max_size=70),
                "gateway": st.sampled_from(GATEWAYS),
            }
        )
    )
    def test_create_form(self, data):
        client = self.signed_in()
        before = self.counts()
        response = client.post("/access/new/", self.resolve(data))
        self.assert_create_outcome(response, before)

    @FUZZ
    @given(
        st.sampled_from(["wireguard", "l2tp"]),
        st.one_of(st.text(min_size=1, max_size=64), st.sampled_from(["a-wg", "A-WG", "b-wg"])),
        st.sampled_from(GATEWAYS),
        st.lists(st.one_of(st.sampled_from(TOKENS), hostile_text), min_size=1, max_size=4),
    )
    def test_confirm_with_forged_and_replayed_tokens(self, protocol, name, gateway, tokens):
        client = self.signed_in()
        before = self.counts()
        data = {"protocol": protocol, "device_name": name, "gateway": self.resolve(gateway)}
        if client.post("/access/new/", data).status_code != 302:
            self.assert_unchanged(before)
            return
        right = client.session["vpnconsole.create_draft"]["token"]
        confirm = client.get("/access/new/confirm/")
        self.assert_no_server_error(confirm)
        created = None
        for token in tokens:
            sent = {"@right": right, "@stale": right[::-1]}.get(token, token)
            response = client.post("/access/new/confirm/", {"token": sent})
            self.assert_no_server_error(response)
            first = sent == right and created is None and response.status_code == 302
            if first and response["Location"].endswith("/complete/"):
                created = response["Location"]
                after = dict(before)
                for key in ("devices", "accesses", "changes", "revisions"):
                    after[key] += 1
                assert self.counts() == after
                before = after
                continue
            if sent == right and created:
                assert response["Location"] == created  # a replay shows the first result
            elif response.status_code == 302:
                assert response["Location"] == "/access/new/"
                assert any("有効期限" in text for text in self.messages_of(response))
            elif response.status_code == 400:  # a token too large to read
                self.assert_clear_page(response)
            else:
                # The gateway or name became unusable meanwhile: the form says why.
                assert response.status_code == 200
                self.assert_clear_page(response, refused=True)
            self.assert_unchanged(before)

    @FUZZ
    @given(
        st.sampled_from(ROLES),
        st.sampled_from(ACCESSES),
        st.sampled_from(["reissue", "delete"]),
        form_data({"token": hostile_text}),
    )
    def test_reissue_and_delete(self, role, target, action, data):
        client = self.signed_in(role)
        before = self.counts()
        access_id = self.resolve(target)
        response = client.post(f"/access/{access_id}/{action}/", data)
        self.assert_no_server_error(response)
        if response.status_code == 400:  # a body too large to read
            self.assert_unchanged(before)
            self.assert_clear_page(response)
            return
        if target in OWNED[role]:
            assert response.status_code == 302
            expected = dict(before, changes=before["changes"] + 1)
            expected["revisions"] += 1
            if action == "delete":
                expected["accesses"] -= 1
                expected["devices"] -= 1
                expected["free"] = self.counts()["free"]  # the pool may or may not keep it
            assert self.counts() == expected
            assert self.messages_of(response)
            return
        self.assert_unchanged(before)
        if role == "support" and target != "@unknown-access":
            assert response.status_code == 403
        else:
            assert response.status_code == 404
        self.assert_clear_page(response)

    @FUZZ
    @given(st.sampled_from(ROLES), form_value, st.one_of(form_value, st.integers()))
    def test_list_search_and_paging(self, role, q, page):
        client = self.signed_in(role)
        before = self.counts()
        response = client.get("/access/", {"q": q, "page": page})
        self.assert_no_server_error(response)
        assert response.status_code in (200, 400)
        self.assert_clear_page(response)
        self.assert_unchanged(before)

    @FUZZ
    @given(
        st.sampled_from(ROLES),
        st.lists(st.one_of(st.sampled_from(ACCESSES), hostile_text), max_size=150),
        st.sampled_from([",", ";", " ", ",,"]),
    )
    def test_status_endpoint(self, role, ids, separator):
        client = self.signed_in(role)
        response = client.get("/access/status/", {"ids": separator.join(self.resolve(ids))})
        self.assert_no_server_error(response)
        if response.status_code != 200:
            return
        statuses = json.loads(response.content)["statuses"]
        visible = {self.access_a.public_id, self.l2tp_a.public_id}
        if role == "operator_b":
            visible = {self.access_b.public_id, self.l2tp_b.public_id}
        elif role == "support":
            visible |= {self.access_b.public_id, self.l2tp_b.public_id}
        assert set(statuses) <= visible

    @FUZZ
    @given(st.sampled_from(ROLES), form_value, st.one_of(form_value, st.text(max_size=600)))
    def test_audit_search_and_cursor(self, role, q, after):
        client = self.signed_in(role)
        before = self.counts()
        response = client.get("/audit/", {"q": q, "after": after})
        self.assert_no_server_error(response)
        assert response.status_code in (200, 400)
        self.assert_clear_page(response)
        self.assert_unchanged(before)

    @FUZZ
    @given(
        st.booleans(),
        form_data(
            {
                "language": st.sampled_from(["ja", "en", "fr", "EN", "ja-JP", ""]),
                "next": st.sampled_from(
                    [
                        "/access/",
                        "//evil.example",
                        "https://evil.example/",
                        "javascript:alert(1)",
                        "/\x00",
                    ]
                ),
            }
        ),
    )
    def test_set_language(self, signed_in, data):
        client = self.signed_in() if signed_in else Client()
        response = client.post("/i18n/setlang/", data)
        self.assert_no_server_error(response)
        location = response.get("Location", "")
        assert not location.startswith(("//", "http", "javascript")), location
        # Django keeps any language it has a catalog for (say fr) in the cookie; the
        # console still speaks only Japanese or English.
        page = client.get("/gateways/" if signed_in else "/login/").content.decode()
        assert '<html lang="ja">' in page or '<html lang="en">' in page

    @FUZZ
    @given(
        form_data(
            {
                "username": st.sampled_from(["operator-a", "support", "OPERATOR-A", "operator-a "]),
                "password": st.sampled_from(["test-pass-123 ", "TEST-PASS-123", ""]),
                "next": st.sampled_from(["/audit/", "//evil.example/", "https://evil.example/"]),
            }
        )
    )
    def test_login(self, data):
        client = Client(REMOTE_ADDR="192.0.2.9")
        failures = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count()
        response = client.post("/login/", data)
        self.assert_no_server_error(response)
        assert response.status_code in (200, 400, 429)
        assert "_auth_user_id" not in client.session
        self.assert_clear_page(response)
        self.assert_clear_page(response, refused=True)
        if response.status_code == 200:
            assert response.context["form"].errors
        added = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count() - failures
        assert added <= 1

    @FUZZ
    @given(
        st.sampled_from(["/access/new/", "/access/new/confirm/", "/login/", "/i18n/setlang/"]),
        st.one_of(st.binary(max_size=2000), huge(3_000_000).map(str.encode)),
        st.sampled_from(
            [
                "application/json",
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=xyz",
                "multipart/form-data",
                "text/plain",
                "application/x-www-form-urlencoded; charset=shift_jis",
                "application/x-www-form-urlencoded; charset=nonsense",
            ]
        ),
    )
    def test_raw_bodies(self, url, body, content_type):
        client = self.signed_in()
        before = self.counts()
        response = client.generic("POST", url, body, content_type=content_type)
        self.assert_no_server_error(response)
        self.assert_unchanged(before)
        if response.status_code in (200, 400):
            self.assert_clear_page(response)

    @FUZZ
    @given(
        st.sampled_from(["/access/new/", "/login/", "/i18n/setlang/"]),
        st.lists(
            st.tuples(
                st.sampled_from(["device_name", "username", "file"]), st.binary(max_size=200)
            ),
            max_size=3,
        ),
    )
    def test_files_where_text_is_expected(self, url, files):
        from django.core.files.uploadedfile import SimpleUploadedFile

        client = self.signed_in()
        before = self.counts()
        data = {name: SimpleUploadedFile("x.txt", content) for name, content in files}
        response = client.post(url, {"protocol": "wireguard", **data})
        self.assert_no_server_error(response)
        self.assert_unchanged(before)

    @FUZZ
    @given(
        st.dictionaries(
            st.sampled_from(["sessionid", "csrftoken", "messages", "django_language"]),
            st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=300),
        ),
        st.fixed_dictionaries(
            {},
            optional={
                "HTTP_HOST": st.sampled_from(["evil.example", "testserver:99999", "", "a" * 300]),
                "HTTP_USER_AGENT": hostile_text,
                "HTTP_X_FORWARDED_FOR": hostile_text,
                "HTTP_X_FORWARDED_PROTO": hostile_text,
                "HTTP_ACCEPT_LANGUAGE": hostile_text,
                "HTTP_REFERER": hostile_text,
            },
        ),
        st.sampled_from(["/access/", "/audit/", "/login/", "/gateways/"]),
    )
    def test_hostile_cookies_and_headers(self, cookies, headers, url):
        client = self.signed_in()
        for name, value in cookies.items():
            client.cookies[name] = value
        response = client.get(url, **headers)
        self.assert_no_server_error(response)
        if response.status_code in (200, 400, 403, 404):
            self.assert_clear_page(response)

    @FUZZ
    @given(st.sampled_from(["/access/new/", "/access/new/confirm/", "/login/"]), hostile_text)
    def test_a_forged_csrf_token_is_refused_with_a_page(self, url, token):
        client = self.signed_in(client=Client(enforce_csrf_checks=True))
        client.get("/access/")  # gets a real CSRF cookie
        before = self.counts()
        response = client.post(url, {"csrfmiddlewaretoken": token, "protocol": "wireguard"})
        assert response.status_code in (302, 403)  # the login page sends a signed-in user on
        self.assert_unchanged(before)
        if response.status_code == 403:
            assert "フォームの有効期限が切れました" in response.content.decode()
