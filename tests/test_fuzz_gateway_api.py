"""Hostile input to the gateway API (/api/gateways/<id>/register|config|ack): wrong,
missing and other gateways' tokens, junk JSON of every shape, raw bytes, hostile
conditional headers. Never a 500; a refused call changes no gateway or access
row and answers a JSON error that says what was wrong.

``pytest tests/test_fuzz_gateway_api.py --hypothesis-show-statistics`` shows how
many examples each case ran.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings
from django.forms.models import model_to_dict
from hypothesis import given
from hypothesis import strategies as st

from access.models import VpnAccess
from gateways.models import Gateway
from gateways.tokens import issue_token
from tests.conftest import make_gateway
from tests.fuzz import FUZZ, FuzzCase, hostile_text, huge
from tests.helpers import make_access
from vpnconsole.credentials import wireguard_keypair

ENDPOINTS = {"register": "POST", "config": "GET", "ack": "POST"}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | hostile_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def with_keys(keys: list[str], value: st.SearchStrategy) -> st.SearchStrategy[dict]:
    """A JSON object that mostly has the expected key, with junk beside it."""
    return st.builds(
        lambda expected, junk: {**junk, **expected},
        st.fixed_dictionaries({}, optional={key: value for key in keys}),
        st.dictionaries(st.text(max_size=12), json_values, max_size=3),
    )


# NUL, lengths and encodings differ by database: this runs again under --postgres.
pytestmark = pytest.mark.postgres


def too_big(body: str) -> bool:
    return len(body.encode()) > django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class GatewayApiFuzz(FuzzCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.fresh = make_gateway("未登録GW", network="198.18.9.0/24", registered=False)
        cls.tokens = {}
        for name in ("shared", "gateway_a", "gateway_b", "fresh"):
            gateway = getattr(cls, name)
            cls.tokens[name] = issue_token(gateway)
            gateway.save(update_fields=["token_hash"])
        # An access on gateway_a pins its WireGuard key: re-registering another is refused.
        make_access(cls.contract_a, cls.operator_a, "wireguard", "a-dedicated", cls.gateway_a)

    def snapshot(self) -> list:
        gateways = [
            {k: v for k, v in model_to_dict(gateway).items() if k != "last_seen_at"}
            | {"rev": (gateway.revision, gateway.served_revision, gateway.applied_revision)}
            for gateway in Gateway.objects.order_by("pk")
        ]
        accesses = list(VpnAccess.objects.order_by("pk").values_list("status", "revision"))
        return [gateways, accesses]

    def call(self, method: str, url: str, body=b"", content_type="application/json", **headers):
        if method == "GET":
            return self.client.get(url, headers=headers)
        return self.client.generic(method, url, body, content_type=content_type, headers=headers)

    def assert_json_error(self, response, status: int) -> None:
        assert response.status_code == status, (response.status_code, response.content[:500])
        error = json.loads(response.content)
        assert error["error"] and error["message"]

    @FUZZ
    @given(
        st.sampled_from(list(ENDPOINTS)),
        st.sampled_from(["shared", "gateway_a", "gateway_b", "fresh", "unknown"]),
        st.one_of(
            st.none(),
            st.sampled_from(["shared", "gateway_a", "gateway_b", "fresh"]).map(
                lambda n: ("token", n)
            ),
            hostile_text.map(lambda text: "Bearer " + text),
            hostile_text,
            st.sampled_from(
                ["Bearer", "Bearer ", "bearer vpngw_", "Basic dXNlcjpwdw==", "Token x"]
            ),
        ),
        st.binary(max_size=300),
    )
    def test_a_wrong_or_missing_token_is_401_and_changes_nothing(
        self, endpoint, target, authorization, body
    ):
        gateway_id = getattr(self, target).public_id if target != "unknown" else "gw-zzzzzzzzzz"
        headers = {}
        if authorization is not None:
            if isinstance(authorization, tuple):  # another gateway's valid token
                owner = authorization[1]
                if owner == target:
                    return  # the right token: not this case
                authorization = "Bearer " + self.tokens[owner]
            # HTTP header values are Latin-1; anything else cannot reach the server.
            authorization = authorization.encode("latin-1", "replace").decode("latin-1")
            headers["authorization"] = authorization.replace("\r", "").replace("\n", "")
        before = self.snapshot()
        response = self.call(
            ENDPOINTS[endpoint], f"/api/gateways/{gateway_id}/{endpoint}", body, **headers
        )
        self.assert_json_error(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert self.snapshot() == before

    @FUZZ
    @given(
        st.sampled_from(["fresh", "gateway_a"]),
        st.one_of(
            with_keys(["public_key"], st.one_of(json_values, st.just("@valid"), st.just("@same"))),
            json_values,
        ),
    )
    def test_register_with_junk_json(self, target, body):
        gateway = getattr(self, target)
        valid = wireguard_keypair().public_key
        if isinstance(body, dict) and body.get("public_key") in ("@valid", "@same"):
            body["public_key"] = valid if body["public_key"] == "@valid" else gateway.wg_public_key
        encoded = json.dumps(body)
        before = self.snapshot()
        response = self.call(
            "POST",
            f"/api/gateways/{gateway.public_id}/register",
            encoded,
            authorization=f"Bearer {self.tokens[target]}",
        )
        key = body.get("public_key") if isinstance(body, dict) else None
        if too_big(encoded):
            self.assert_json_error(response, 400)
        elif key == valid or (key == gateway.wg_public_key and key):
            # gateway_a has an access whose client config pins its key: a new key is a 409.
            refused = key == valid and target == "gateway_a"
            assert response.status_code == (409 if refused else 200), response.content[:300]
            stored = Gateway.objects.get(pk=gateway.pk).wg_public_key
            assert stored == (gateway.wg_public_key if refused else key)
            return
        else:
            self.assert_json_error(response, 400)
        assert self.snapshot() == before

    @FUZZ
    @given(
        st.one_of(
            with_keys(["revision", "peers"], json_values),
            with_keys(["revision"], st.integers(min_value=-5, max_value=20)),
            json_values,
        )
    )
    def test_ack_with_junk_json(self, body):
        token = self.tokens["gateway_a"]
        url = f"/api/gateways/{self.gateway_a.public_id}"
        assert self.call("GET", f"{url}/config", authorization=f"Bearer {token}").status_code == 200
        served = Gateway.objects.get(pk=self.gateway_a.pk).served_revision
        encoded = json.dumps(body)
        before = self.snapshot()
        response = self.call("POST", f"{url}/ack", encoded, authorization=f"Bearer {token}")
        sent = body.get("revision") if isinstance(body, dict) else None
        is_int = isinstance(sent, int) and not isinstance(sent, bool)
        if not too_big(encoded) and is_int and 1 <= sent <= served:
            assert response.status_code == 200
            return
        self.assert_json_error(response, 409 if is_int and not too_big(encoded) else 400)
        assert self.snapshot() == before

    @FUZZ
    @given(
        st.sampled_from(["register", "ack"]),
        st.one_of(st.binary(max_size=2000), huge(3_000_000).map(str.encode)),
        st.sampled_from(["application/json", "text/plain", "multipart/form-data; boundary=x", ""]),
    )
    def test_raw_bodies(self, endpoint, body, content_type):
        target = "fresh" if endpoint == "register" else "gateway_a"
        gateway = getattr(self, target)
        before = self.snapshot()
        response = self.call(
            "POST",
            f"/api/gateways/{gateway.public_id}/{endpoint}",
            body,
            content_type=content_type,
            authorization=f"Bearer {self.tokens[target]}",
        )
        self.assert_json_error(response, 400)
        assert self.snapshot() == before

    @FUZZ
    @given(
        st.one_of(
            st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=200),
            st.sampled_from(
                ['"1"', 'W/"1"', "*", '"', '""', "W/", '"99999999999999999999"', ", ,"]
            ),
        ),
        st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    )
    def test_config_with_hostile_conditions_and_methods(self, if_none_match, method):
        response = self.call(
            method,
            f"/api/gateways/{self.gateway_a.public_id}/config",
            authorization=f"Bearer {self.tokens['gateway_a']}",
            if_none_match=if_none_match,
        )
        if method != "GET":
            assert response.status_code == 405
            return
        assert response.status_code in (200, 304)
        assert response["Cache-Control"] == "no-store"
