"""Sign-in lockout (django-axes): a user name is locked after 10 failures, with a
Japanese message; an administrator unlocks it in the admin, or it unlocks itself
after the cool-off. Sessions expire after inactivity and on browser close."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from tests.conftest import PASSWORD
from vpnconsole.models import AuditAction, AuditEvent

LOCKED = "ログインに10回続けて失敗したため"


def sign_in(client: Client, username: str, password: str, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def fail(client: Client, username: str, times: int):
    for attempt in range(times):
        response = sign_in(client, username, f"wrong-{attempt}")
        assert response.status_code in (200, 429)
    return response


def test_ten_wrong_passwords_then_the_right_one_is_refused(operator_a):
    client = Client()
    for attempt in range(9):
        response = sign_in(client, operator_a.username, f"wrong-{attempt}")
        assert response.status_code == 200
        assert "ユーザー名またはパスワードが正しくありません" in response.content.decode()
    tenth = sign_in(client, operator_a.username, "wrong-9")
    assert tenth.status_code == 429
    assert LOCKED in tenth.content.decode()

    right = sign_in(client, operator_a.username, PASSWORD)
    assert right.status_code == 429
    page = right.content.decode()
    assert LOCKED in page
    assert "30分ほど経ってから" in page
    assert "管理者にロックの解除を依頼" in page
    assert right["Retry-After"] == "1800"
    assert "_auth_user_id" not in client.session
    assert client.get("/access/").status_code == 302  # still sent to the login page


def test_the_lock_is_per_user_name(operator_a, operator_b):
    fail(Client(), operator_a.username, 10)
    response = sign_in(Client(), operator_b.username, PASSWORD)
    assert response.status_code == 302


def test_nine_failures_and_a_success_start_the_count_again(operator_a):
    client = Client()
    fail(client, operator_a.username, 9)
    assert sign_in(client, operator_a.username, PASSWORD).status_code == 302
    client.post("/logout/")
    fail(client, operator_a.username, 9)
    assert sign_in(Client(), operator_a.username, PASSWORD).status_code == 302


def test_the_lock_ends_after_the_cool_off(operator_a):
    fail(Client(), operator_a.username, 10)
    assert sign_in(Client(), operator_a.username, PASSWORD).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=31)
    )
    assert sign_in(Client(), operator_a.username, PASSWORD).status_code == 302


def test_attempts_during_the_lock_do_not_extend_it(operator_a):
    fail(Client(), operator_a.username, 10)
    locked_at = AccessAttempt.objects.get().attempt_time
    fail(Client(), operator_a.username, 3)
    assert AccessAttempt.objects.get().attempt_time == locked_at


def test_an_administrator_unlocks_in_the_admin(operator_a, django_user_model):
    fail(Client(), operator_a.username, 10)
    django_user_model.objects.create_superuser("root", "root@example.com", "root-pass-123")
    admin = Client()
    assert sign_in(admin, "root", "root-pass-123").status_code == 302
    changelist = admin.get("/admin/axes/accessattempt/")
    assert changelist.status_code == 200
    assert operator_a.username in changelist.content.decode()
    attempt = AccessAttempt.objects.get(username=operator_a.username)
    response = admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert sign_in(Client(), operator_a.username, PASSWORD).status_code == 302


def test_the_admin_login_is_locked_too(django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.com", "root-pass-123")
    client = Client()
    for attempt in range(10):
        client.post("/admin/login/", {"username": "root", "password": f"wrong-{attempt}"})
    response = client.post("/admin/login/", {"username": "root", "password": "root-pass-123"})
    assert response.status_code == 429
    assert LOCKED in response.content.decode()


def test_a_password_typed_as_the_user_name_is_stored_nowhere(operator_a):
    typed = "Typed-Into-The-Wrong-Field-81"
    fail(Client(), typed, 2)
    for attempt in AccessAttempt.objects.all():
        for value in (attempt.username, attempt.post_data, attempt.get_data):
            assert typed not in (value or "")
    event = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).first()
    assert event.actor_name == ""
    assert typed not in str(event.detail)


def test_an_unknown_user_name_is_locked_too(db):
    fail(Client(), "nobody-here", 10)
    response = sign_in(Client(), "nobody-here", "anything")
    assert response.status_code == 429


def test_sign_in_and_failures_are_audited_with_the_source_address(operator_a, contract_a):
    fail(Client(REMOTE_ADDR="203.0.113.7"), operator_a.username, 10)
    client = Client(REMOTE_ADDR="203.0.113.8")
    sign_in(client, operator_a.username, PASSWORD)
    events = AuditEvent.objects.filter(actor_name=operator_a.username).order_by("id")
    actions = [event.action for event in events]
    assert actions == [AuditAction.LOGIN_FAILED] * 9 + [AuditAction.LOGIN_LOCKED] * 2
    assert {event.source_address for event in events} == {"203.0.113.7", "203.0.113.8"}
    assert {event.contract for event in events} == {contract_a}


def test_a_successful_sign_in_is_audited(operator_a, contract_a):
    sign_in(Client(REMOTE_ADDR="198.51.100.4"), operator_a.username, PASSWORD)
    event = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert (event.actor, event.contract, event.source_address) == (
        operator_a,
        contract_a,
        "198.51.100.4",
    )


def test_sessions_expire_after_inactivity_and_on_browser_close():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_COOKIE_HTTPONLY


def test_the_session_cookie_has_no_expiry_date(operator_a):
    response = sign_in(Client(), operator_a.username, PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


@pytest.mark.parametrize("password", ["short", "password", "12345678901", "operator-a"])
def test_password_validators_refuse_weak_passwords(operator_a, password):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password(password, operator_a)
