"""Key rotation: ``rotate_encryption_key`` re-encrypts every stored secret (gateway
PSKs, L2TP passwords, one-time values waiting in sessions) under the newest key,
in batches, resumably; afterwards the old key can go. ``generate_encryption_key``
prints a new entry."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command

from access.models import VpnAccess
from gateways.models import Gateway
from tests.conftest import make_gateway
from tests.helpers import client_for, create_through_pages, make_access
from vpnconsole import crypto
from vpnconsole.models import AuditAction, AuditEvent

NEW = crypto.new_key_entry("k-new")


def rotate(**options) -> str:
    out = StringIO()
    call_command("rotate_encryption_key", stdout=out, **options)
    return out.getvalue()


def ciphertexts() -> list[str]:
    return [
        *Gateway.objects.exclude(psk_ciphertext="").values_list("psk_ciphertext", flat=True),
        *VpnAccess.objects.exclude(password_ciphertext="").values_list(
            "password_ciphertext", flat=True
        ),
    ]


def secrets() -> dict[str, str]:
    found = {gateway.public_id: gateway.psk for gateway in Gateway.objects.all()}
    for access in VpnAccess.objects.filter(protocol="l2tp"):
        found[access.public_id] = access.password
    return found


@pytest.fixture
def stored(contract_a, operator_a, shared_gateway, dedicated_gateway):
    """Secrets of every kind under the test settings' key (t2)."""
    for number in range(3):
        make_access(contract_a, operator_a, "l2tp", f"plc-{number}")
        make_access(contract_a, operator_a, "l2tp", f"ded-{number}", gateway=dedicated_gateway)
    make_access(contract_a, operator_a, "wireguard", "sensor")
    make_gateway("予備GW", network="198.18.9.0/24", address="198.18.9.1")
    before = secrets()
    old_kid = django_settings.VPNCONSOLE_ENCRYPTION_KEYS[0].partition(":")[0]
    assert {crypto.key_id(text) for text in ciphertexts()} == {old_kid}
    return before


def test_every_secret_is_under_the_new_key_and_still_decrypts(stored, settings):
    old = settings.VPNCONSOLE_ENCRYPTION_KEYS[0]
    settings.VPNCONSOLE_ENCRYPTION_KEYS = [NEW, old]
    report = rotate(batch_size=2)
    assert "Gateway.psk_ciphertext: 3 re-encrypted" in report
    assert "VpnAccess.password_ciphertext: 6 re-encrypted" in report
    assert {crypto.key_id(text) for text in ciphertexts()} == {"k-new"}
    assert len(ciphertexts()) == 9

    settings.VPNCONSOLE_ENCRYPTION_KEYS = [NEW]  # the old key is gone
    assert secrets() == stored
    for value in stored.values():
        assert value not in report


def test_a_second_run_has_nothing_left_to_do(stored, settings):
    settings.VPNCONSOLE_ENCRYPTION_KEYS = [NEW, settings.VPNCONSOLE_ENCRYPTION_KEYS[0]]
    rotate()
    report = rotate()
    assert "Gateway.psk_ciphertext: 0 re-encrypted, 3 already under k-new" in report
    assert "VpnAccess.password_ciphertext: 0 re-encrypted, 6 already under k-new" in report
    assert AuditEvent.objects.filter(action=AuditAction.KEY_ROTATE).count() == 1


def test_an_interrupted_run_resumes(stored, settings, monkeypatch):
    settings.VPNCONSOLE_ENCRYPTION_KEYS = [NEW, settings.VPNCONSOLE_ENCRYPTION_KEYS[0]]
    real_encrypt, calls = crypto.encrypt, []

    def failing_encrypt(plaintext, *, binding):
        calls.append(binding)
        if len(calls) == 6:
            raise RuntimeError("power cut")
        return real_encrypt(plaintext, binding=binding)

    monkeypatch.setattr(crypto, "encrypt", failing_encrypt)
    with pytest.raises(RuntimeError):
        rotate(batch_size=2)
    monkeypatch.setattr(crypto, "encrypt", real_encrypt)
    kids = [crypto.key_id(text) for text in ciphertexts()]
    # The 3 gateways and the first batch of 2 accesses committed; the next batch rolled back.
    assert kids.count("k-new") == 5

    report = rotate(batch_size=2)
    assert "Gateway.psk_ciphertext: 0 re-encrypted, 3 already under k-new" in report
    assert "VpnAccess.password_ciphertext: 4 re-encrypted, 2 already under k-new" in report
    assert {crypto.key_id(text) for text in ciphertexts()} == {"k-new"}
    settings.VPNCONSOLE_ENCRYPTION_KEYS = [NEW]
    assert secrets() == stored


def test_a_dry_run_changes_nothing(stored, settings):
    before = ciphertexts()
    settings.VPNCONSOLE_ENCRYPTION_KEYS = [NEW, settings.VPNCONSOLE_ENCRYPTION_KEYS[0]]
    report = rotate(dry_run=True)
    assert "VpnAccess.password_ciphertext: 6 re-encrypted" in report
    assert ciphertexts() == before
    assert not AuditEvent.objects.filter(action=AuditAction.KEY_ROTATE).exists()


def test_a_row_that_does_not_decrypt_is_named_and_the_rest_rotate(stored, settings):
    access = VpnAccess.objects.filter(protocol="l2tp").first()
    other = VpnAccess.objects.filter(protocol="l2tp").exclude(pk=access.pk).first()
    # A ciphertext copied from another row: its binding does not match.
    VpnAccess.objects.filter(pk=access.pk).update(password_ciphertext=other.password_ciphertext)
    settings.VPNCONSOLE_ENCRYPTION_KEYS = [NEW, settings.VPNCONSOLE_ENCRYPTION_KEYS[0]]
    with pytest.raises(CommandError) as raised:
        rotate()
    assert access.public_id in str(raised.value)
    stale = [text for text in ciphertexts() if crypto.key_id(text) != "k-new"]
    assert len(stale) == 1
    for value in stored.values():
        assert value not in str(raised.value)


def test_one_time_values_waiting_in_sessions_are_rewrapped(
    contract_a, operator_a, shared_gateway, settings
):
    client = client_for(operator_a)
    location = create_through_pages(client, protocol="l2tp", device_name="waiting")["Location"]
    # The complete page has not been shown yet: its password waits in the session.
    settings.VPNCONSOLE_ENCRYPTION_KEYS = [NEW, settings.VPNCONSOLE_ENCRYPTION_KEYS[0]]
    report = rotate()
    assert "sessions: 1 waiting one-time values rewrapped" in report
    raw = "".join(Session.objects.values_list("session_data", flat=True))
    settings.VPNCONSOLE_ENCRYPTION_KEYS = [NEW]
    page = client.get(location).content.decode()
    shown = re.search(r'data-secret="password">([^<]+)<', page)
    assert shown, "the password must still be shown once after the rotation"
    assert shown.group(1) not in raw
    assert VpnAccess.objects.get(device__name="waiting").password == shown.group(1)


def test_generate_encryption_key_prints_a_usable_entry(settings):
    out, err = StringIO(), StringIO()
    call_command("generate_encryption_key", "--kid", "k2027", stdout=out, stderr=err)
    entry = out.getvalue().strip()
    assert entry.startswith("k2027:")
    assert crypto.parse_keys([entry])[0].kid == "k2027"
    assert "rotate_encryption_key" in err.getvalue()
    random_kid = StringIO()
    call_command("generate_encryption_key", stdout=random_kid, stderr=StringIO())
    assert random_kid.getvalue().strip() != entry


@pytest.mark.parametrize("kid", ["a:b", "a,b", "", "x" * 17])
def test_generate_encryption_key_refuses_a_bad_key_id(kid):
    with pytest.raises(CommandError):
        call_command("generate_encryption_key", "--kid", kid, stdout=StringIO())


def test_generate_encryption_key_refuses_a_key_id_in_use(settings):
    kid = settings.VPNCONSOLE_ENCRYPTION_KEYS[0].partition(":")[0]
    with pytest.raises(CommandError):
        call_command("generate_encryption_key", "--kid", kid, stdout=StringIO())
