"""Every console URL × {anonymous, owner operator, other contract's operator, support} ×
{GET, POST}. The URL list comes from the URL conf: a new view without a row here fails."""

from __future__ import annotations

import pytest
from django.http import HttpRequest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.helpers import client_for, make_access

CONSOLE_NAMESPACES = {"access", "gateways", "audit"}
LOGIN = 302  # to /login/

# name: {role: (GET, POST)} for an access of the owner's contract.
EXPECTED = {
    "access:list": {"owner": (200, 405), "other": (200, 405), "support": (200, 405)},
    "access:create": {"owner": (200, 200), "other": (200, 200), "support": (403, 403)},
    "access:confirm": {"owner": (302, 302), "other": (302, 302), "support": (403, 403)},
    "access:status": {"owner": (200, 405), "other": (200, 405), "support": (200, 405)},
    "access:detail": {"owner": (200, 405), "other": (404, 405), "support": (200, 405)},
    "access:complete": {"owner": (200, 405), "other": (404, 405), "support": (200, 405)},
    "access:reissue_confirm": {"owner": (200, 405), "other": (404, 405), "support": (403, 405)},
    "access:reissue": {"owner": (405, 302), "other": (405, 404), "support": (405, 403)},
    "access:delete_confirm": {"owner": (200, 405), "other": (404, 405), "support": (403, 405)},
    "access:delete": {"owner": (405, 302), "other": (405, 404), "support": (405, 403)},
    "gateways:list": {"owner": (200, 405), "other": (200, 405), "support": (200, 405)},
    "audit:list": {"owner": (200, 405), "other": (200, 405), "support": (200, 405)},
}


def console_url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace in CONSOLE_NAMESPACES:
                names.add(f"{namespace}:{pattern.name}")

    walk(get_resolver().url_patterns, None)
    return names


def test_every_console_url_has_expectations():
    assert console_url_names() == set(EXPECTED)


def url_for(name: str, access) -> str:
    try:
        return reverse(name)
    except Exception:
        return reverse(name, kwargs={"public_id": access.public_id})


@pytest.fixture
def cast(contract_a, operator_a, operator_b, support, shared_gateway):
    return {"owner": operator_a, "other": operator_b, "support": support}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_anonymous_is_sent_to_login(name, cast, contract_a):
    access, _ = make_access(contract_a, cast["owner"])
    client = Client()
    url = url_for(name, access)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == LOGIN, (name, method)
        assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("role", ["owner", "other", "support"])
def test_each_role_gets_the_expected_status(name, role, cast, contract_a):
    access, _ = make_access(contract_a, cast["owner"])
    client = client_for(cast[role])
    url = url_for(name, access)
    expected_get, expected_post = EXPECTED[name][role]
    assert client.get(url).status_code == expected_get, f"GET {url} as {role}"
    assert client.post(url).status_code == expected_post, f"POST {url} as {role}"


def test_a_user_without_a_role_gets_403(db, django_user_model):
    django_user_model.objects.create_user(username="nobody", password="x-pass-123")
    client = Client()
    client.login(request=HttpRequest(), username="nobody", password="x-pass-123")
    assert client.get("/access/").status_code == 403
    assert client.get("/gateways/").status_code == 403
    assert client.get("/audit/").status_code == 403
