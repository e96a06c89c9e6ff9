"""Runs the create → complete → reissue flow of both protocols against a real SQLite
file, through the pages, and prints the secrets the pages showed as JSON.

Run by tests/test_secrets_at_rest.py in a subprocess with DATABASE_URL pointing at a
temp file, so the test can grep the database file's bytes afterwards.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from html import unescape

import django

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from tests.conftest import PASSWORD, make_gateway, make_user  # noqa: E402
from vpnconsole.models import Contract, Role  # noqa: E402

log_path = sys.argv[1]
handler = logging.FileHandler(log_path)
handler.setLevel(logging.DEBUG)
logging.getLogger().addHandler(handler)
logging.getLogger().setLevel(logging.DEBUG)
logging.getLogger("django.db.backends").setLevel(logging.DEBUG)
settings.DEBUG = False

setup_test_environment()
call_command("migrate", verbosity=0)
contract = Contract.objects.create(name="秘密契約", has_gateway_contract=True)
make_user("op", Role.OPERATOR, contract)
gateway = make_gateway("gw")
shown = {"psk": gateway.psk}

# Sign-in through the login page: a wrong password, a password typed into the user
# name field (an unknown name), then the right one. What was typed must not be kept.
typed = {"wrong-password": "Wrong-Typed-Pass-5hK", "password-as-username": "Typed-As-Name-7Qm"}
client = Client(REMOTE_ADDR="192.0.2.77")
client.post("/login/", {"username": "op", "password": typed["wrong-password"]})
client.post("/login/", {"username": typed["password-as-username"], "password": PASSWORD})
assert client.post("/login/", {"username": "op", "password": PASSWORD}).status_code == 302


def grab(html: str, name: str) -> str:
    return unescape(re.search(rf'data-secret="{name}">([^<]+)<', html).group(1))


for protocol, key in [("wireguard", "private-key"), ("l2tp", "password")]:
    client.post("/access/new/", {"protocol": protocol, "device_name": f"dev-{protocol}"})
    token = client.session["vpnconsole.create_draft"]["token"]
    location = client.post("/access/new/confirm/", {"token": token})["Location"]
    html = client.get(location).content.decode()
    shown[f"{protocol}-created"] = grab(html, key)
    access_id = location.split("/")[2]
    detail = client.post(f"/access/{access_id}/reissue/")["Location"]
    shown[f"{protocol}-reissued"] = grab(client.get(detail).content.decode(), key)

audit_page = client.get("/audit/")
assert audit_page.status_code == 200
with open(log_path + ".audit.html", "w") as page:
    page.write(audit_page.content.decode())

call_command("dumpdata", "--output", log_path + ".dump.json", verbosity=0)
# What `sqlite3 console.sqlite3 .dump` prints.
with open(log_path + ".dump.sql", "w") as dump:
    dump.writelines(line + "\n" for line in connection.connection.iterdump())
print(json.dumps({"shown": shown, "typed": typed}))
