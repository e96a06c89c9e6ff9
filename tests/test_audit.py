"""The 操作履歴 screen: operators see their contract's events, support sees all;
search by access ID; keyset pages; sign-ins with their source; never a secret."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings

from access import provisioning
from tests.conftest import PASSWORD
from tests.helpers import client_for, make_access
from vpnconsole import audit
from vpnconsole.audit_views import decode_cursor, encode_cursor, public_details
from vpnconsole.models import AuditAction, AuditEvent


def rows(response) -> list[str]:
    return re.findall(r'<tr data-testid="audit-row">(.*?)</tr>', response.content.decode(), re.S)


@pytest.fixture
def history(contract_a, contract_b, operator_a, operator_b, shared_gateway):
    a, _ = make_access(contract_a, operator_a, "wireguard", "a-sensor")
    b, _ = make_access(contract_b, operator_b, "l2tp", "b-plc")
    provisioning.reissue_access(a, actor=operator_a, source_address="192.0.2.10")
    provisioning.delete_access(b, actor=operator_b, source_address="192.0.2.20")
    return a, b


def test_an_operator_sees_only_its_contracts_events(history, operator_a):
    a, b = history
    response = client_for(operator_a).get("/audit/")
    assert response.status_code == 200
    page = response.content.decode()
    assert a.public_id in page and b.public_id not in page
    assert "b-plc" not in page
    assert "再発行" in page and "192.0.2.10" in page


def test_support_sees_every_contract_with_the_contract_column(history, support):
    a, b = history
    page = client_for(support).get("/audit/").content.decode()
    assert a.public_id in page and b.public_id in page
    assert "契約A" in page and "契約B" in page
    assert "192.0.2.20" in page


def test_it_records_who_did_what(history, operator_a):
    a, _ = history
    response = client_for(operator_a).get("/audit/", {"q": a.public_id})
    page, found = response.content.decode(), rows(response)
    assert len(found) == 2  # create and reissue
    assert all(operator_a.username in row for row in found)
    assert "公開鍵フィンガープリント" in page
    assert "WireGuard" in page


def test_search_by_id_prefix_any_case(history, support):
    a, b = history
    response = client_for(support).get("/audit/", {"q": a.public_id[:6].upper()})
    page = response.content.decode()
    assert a.public_id in page
    found = rows(response)
    assert found and all(a.public_id[:6] in row for row in found)


def test_a_search_that_is_not_an_id_says_so(history, support):
    page = client_for(support).get("/audit/", {"q": "センサー 1"}).content.decode()
    assert "IDの形式ではありません" in page
    assert not rows(client_for(support).get("/audit/", {"q": "センサー 1"}))


def test_another_contracts_id_finds_nothing(history, operator_a):
    _, b = history
    page = client_for(operator_a).get("/audit/", {"q": b.public_id}).content.decode()
    assert "の操作履歴はありません" in page


def test_sign_ins_appear_with_their_source_address(operator_a):
    Client(REMOTE_ADDR="203.0.113.5").post(
        "/login/", {"username": operator_a.username, "password": "wrong"}
    )
    Client(REMOTE_ADDR="203.0.113.6").post(
        "/login/", {"username": operator_a.username, "password": PASSWORD}
    )
    page = client_for(operator_a).get("/audit/").content.decode()
    assert "ログイン失敗" in page and "203.0.113.5" in page
    assert "ログイン" in page and "203.0.113.6" in page


def test_failed_sign_ins_of_unknown_names_are_for_support_only(operator_a, support):
    Client().post("/login/", {"username": "ghost", "password": "x"})
    assert "ログイン失敗" not in client_for(operator_a).get("/audit/").content.decode()
    page = client_for(support).get("/audit/").content.decode()
    assert "ログイン失敗" in page
    assert "登録されていないユーザー名" in page
    assert "ghost" not in page


def test_gateway_events_of_a_dedicated_gateway_are_the_contracts(
    operator_a, operator_b, dedicated_gateway
):
    audit.record(
        actor=None,
        action=AuditAction.GATEWAY_TOKEN,
        object_id=dedicated_gateway.public_id,
        contract=dedicated_gateway.contract,
        detail={"rotated": True, "reset_key": False, "by": "root"},
    )
    assert dedicated_gateway.public_id in client_for(operator_a).get("/audit/").content.decode()
    assert dedicated_gateway.public_id not in client_for(operator_b).get("/audit/").content.decode()


def test_the_detail_never_shows_a_secret_even_if_one_was_recorded(operator_a, contract_a):
    audit.record(
        actor=operator_a,
        action=AuditAction.REISSUE,
        object_id="va-aaaaaaaaaa",
        contract=contract_a,
        detail={
            "password": "leaked-pass-1",
            "old": {"private_key": "leaked-key-2", "public_key_fingerprint": "abcd"},
            "psk": "leaked-psk-3",
            "gateway_token": "leaked-token-4",
        },
    )
    page = client_for(operator_a).get("/audit/").content.decode()
    assert "abcd" in page
    for leaked in ("leaked-pass-1", "leaked-key-2", "leaked-psk-3", "leaked-token-4"):
        assert leaked not in page


def test_public_details_flattens_and_labels():
    assert public_details({"protocol": "l2tp", "new": {"username": "va-x"}, "n": None}) == [
        ("プロトコル", "L2TP/IPsec"),
        ("新: ユーザ名", "va-x"),
        ("n", "-"),
    ]
    assert public_details("not a dict") == []


@override_settings(VPNCONSOLE_PAGE_SIZE=3)
def test_keyset_pages_walk_every_event_once(operator_a, contract_a):
    for number in range(8):
        audit.record(
            actor=operator_a,
            action=AuditAction.CREATE,
            object_id=f"va-{number:0>10}",
            contract=contract_a,
        )
    client = client_for(operator_a)
    seen, url = [], "/audit/"
    for _ in range(10):
        response = client.get(url)
        seen += re.findall(r"<code>(va-\d{10})</code>", response.content.decode())
        match = re.search(r'rel="next" href="\?after=([^"]+)"', response.content.decode())
        if not match:
            break
        url = "/audit/?after=" + match.group(1)
    assert seen == [f"va-{number:0>10}" for number in reversed(range(8))]
    assert "最新の履歴へ" in response.content.decode()


def test_the_cursor_is_opaque_and_checked(operator_a, contract_a):
    event = audit.record(
        actor=operator_a, action=AuditAction.CREATE, object_id="va-x", contract=contract_a
    )
    cursor = encode_cursor(event)
    assert str(event.created_at.year) not in cursor  # encrypted, not merely encoded
    assert decode_cursor(cursor) == (event.created_at, event.pk)
    for bad in ["", "garbage", cursor[:-2] + "xx", "v1:t2:" + "A" * 40, "x" * 10_000]:
        assert decode_cursor(bad) is None
    response = client_for(operator_a).get("/audit/", {"after": "garbage"})
    assert response.status_code == 200
    assert "ページの指定が正しくないため" in response.content.decode()


def test_the_nav_links_to_the_audit_screen(operator_a):
    page = client_for(operator_a).get("/audit/").content.decode()
    assert 'href="/audit/"' in page
    assert 'aria-current="page" href="/audit/"' in page


def test_events_are_kept_even_when_the_page_is_empty(operator_a):
    page = client_for(operator_a).get("/audit/").content.decode()
    # Only the operator's own sign-in of client_for.
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN).count() == 1
    assert "ログイン" in page
