"""Small helpers the view tests share."""

from __future__ import annotations

import sys
from pathlib import Path

from django.http import HttpRequest
from django.test import Client

from access import provisioning
from tests.conftest import PASSWORD


def client_for(user) -> Client:
    client = Client()
    # django-axes checks every authenticate() for a lockout and needs a request for it.
    assert client.login(request=HttpRequest(), username=user.username, password=PASSWORD)
    return client


def create_through_pages(client: Client, **fields):
    """form → 確認 → 作成; returns the redirect response of 作成."""
    response = client.post("/access/new/", fields)
    assert response.status_code == 302, response.content.decode()[:2000]
    token = client.session["vpnconsole.create_draft"]["token"]
    return client.post("/access/new/confirm/", {"token": token})


def make_access(contract, actor, protocol="wireguard", name="device", gateway=None):
    return provisioning.create_access(
        contract=contract, actor=actor, protocol=protocol, device_name=name, gateway=gateway
    )


def agent_command(url: str, gateway_id: str, token_file: Path, state_dir: Path, *extra: str):
    """The gateway agent as a gateway host runs it: ``python -m gateways.agent``."""
    return [
        sys.executable,
        "-m",
        "gateways.agent",
        "--console-url",
        url,
        "--gateway",
        gateway_id,
        "--token-file",
        str(token_file),
        "--state-dir",
        str(state_dir),
        *extra,
    ]
