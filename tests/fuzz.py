"""Shared pieces of the fuzz tests (tests/test_fuzz_*.py): hostile strategies, the
cast, and the invariants every response must keep.

Each example runs in its own rolled-back transaction (hypothesis' Django
TestCase), so examples cannot disturb each other and row counts are exact.
"""

from __future__ import annotations

import os
import re

from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.messages import get_messages
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from access.models import VpnAccess
from devices.models import Device
from gateways.models import FreeAddress, Gateway
from tests.conftest import make_gateway, make_user
from tests.helpers import make_access
from vpnconsole.models import AuditEvent, Contract, Role

# Moderate, so the whole fuzz suite stays well under a minute; FUZZ_EXAMPLES=1000
# digs deeper by hand.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
    derandomize=False,
)

SPECIAL = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    "\t",
    "\x1b[31m",
    "\u202eevil",
    "\ufeff",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "%00",
    "../../etc/passwd",
    "va-",
    "VA-AAAAAAAAAA",
    "gw-aaaaaaaaaa",
    "wireguard",
    "l2tp",
    "WireGuard",
    "openvpn",
    "null",
    "[]",
    "{}",
    "１２３",
    "𠮷野家",
    "\u3000",
]


def huge(max_size: int = 400_000) -> st.SearchStrategy[str]:
    return st.builds(
        lambda char, count: char * count,
        st.sampled_from(["a", "あ", "\x00", "𠮷", "%", ","]),
        st.integers(min_value=1_000, max_value=max_size),
    )


# Any code point but surrogates (which no HTTP client can send): controls and NUL included.
hostile_text = st.one_of(
    st.text(max_size=200),
    st.sampled_from(SPECIAL),
    st.text(alphabet=st.characters(codec="ascii"), max_size=40),
    huge(),
)

# A form value as a client can send it: one string, several (a list), or none at all.
form_value = st.one_of(hostile_text, st.lists(hostile_text, min_size=2, max_size=3))


def form_data(fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy[dict]:
    """Each field present with a hostile or given value, or missing, plus junk fields."""
    return st.fixed_dictionaries(
        {},
        optional={name: st.one_of(strategy, form_value) for name, strategy in fields.items()},
    ).flatmap(
        lambda data: st.dictionaries(
            st.text(alphabet="abcdefghij_", min_size=1, max_size=8), form_value, max_size=2
        ).map(lambda junk: {**junk, **data})
    )


def signed_in_session(user) -> str:
    """The key of a session signed in as ``user``, as django.contrib.auth.login makes it."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


class FuzzCase(TestCase):
    """Contract A (gateway contract, one dedicated gateway) and B, their operators,
    support, and a WireGuard and an L2TP access in each contract."""

    @classmethod
    def setUpTestData(cls):
        cls.contract_a = Contract.objects.create(name="契約A", has_gateway_contract=True)
        cls.contract_b = Contract.objects.create(name="契約B", has_gateway_contract=True)
        cls.operator_a = make_user("operator-a", Role.OPERATOR, cls.contract_a)
        cls.operator_b = make_user("operator-b", Role.OPERATOR, cls.contract_b)
        cls.support = make_user("support", Role.SUPPORT)
        cls.shared = make_gateway("共用ゲートウェイ")
        cls.gateway_a = make_gateway(
            "専有A", contract=cls.contract_a, network="198.18.1.0/24", address="198.18.1.1"
        )
        cls.gateway_b = make_gateway(
            "専有B", contract=cls.contract_b, network="198.18.2.0/24", address="198.18.2.1"
        )
        cls.access_a, _ = make_access(cls.contract_a, cls.operator_a, "wireguard", "a-wg")
        cls.l2tp_a, _ = make_access(cls.contract_a, cls.operator_a, "l2tp", "a-l2tp")
        cls.access_b, _ = make_access(cls.contract_b, cls.operator_b, "wireguard", "b-wg")
        cls.l2tp_b, _ = make_access(cls.contract_b, cls.operator_b, "l2tp", "b-l2tp")
        # Signed-in sessions made once: a login per example would dominate the run time.
        cls.sessions = {
            role: signed_in_session(getattr(cls, role))
            for role in ("operator_a", "operator_b", "support")
        }

    def signed_in(self, role: str = "operator_a", client: Client | None = None) -> Client:
        client = client or self.client
        client.cookies[django_settings.SESSION_COOKIE_NAME] = self.sessions[role]
        return client

    def counts(self) -> dict:
        return {
            "devices": Device.objects.count(),
            "accesses": VpnAccess.objects.count(),
            "free": FreeAddress.objects.count(),
            "revisions": sum(Gateway.objects.values_list("revision", flat=True)),
            "changes": AuditEvent.objects.filter(
                action__in=["create", "reissue", "delete"]
            ).count(),
        }

    def assert_no_server_error(self, response) -> None:
        assert response.status_code < 500, response.content[:2000]

    def assert_unchanged(self, before: dict) -> None:
        assert self.counts() == before

    def messages_of(self, response) -> list[str]:
        return [str(message) for message in get_messages(response.wsgi_request)]

    def assert_clear_page(self, response, *, refused: bool = False) -> None:
        """A page with its heading; for a refused form, the errors that say why."""
        html = response.content.decode()
        assert re.search(r"<h1[^>]*>[^<]+</h1>", html), html[:2000]
        if refused and response.status_code == 200:
            assert "invalid-feedback" in html or "alert-danger" in html, html[:3000]
