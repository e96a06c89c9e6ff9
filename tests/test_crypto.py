import pytest
from django.core.exceptions import ImproperlyConfigured

from vpnconsole import crypto


def test_round_trip(settings):
    ciphertext = crypto.encrypt("s3cret", binding="access:va-x:password")
    assert "s3cret" not in ciphertext
    assert crypto.decrypt(ciphertext, binding="access:va-x:password") == "s3cret"


def test_the_key_id_sits_beside_the_ciphertext(settings):
    settings.VPNCONSOLE_ENCRYPTION_KEYS = [crypto.new_key_entry("k1")]
    assert crypto.key_id(crypto.encrypt("x", binding="b")) == "k1"


def test_a_new_key_in_front_still_decrypts_the_old_ciphertext(settings):
    old = crypto.new_key_entry("old")
    settings.VPNCONSOLE_ENCRYPTION_KEYS = [old]
    before = crypto.encrypt("kept", binding="b")
    settings.VPNCONSOLE_ENCRYPTION_KEYS = [crypto.new_key_entry("new"), old]
    after = crypto.encrypt("kept", binding="b")
    assert crypto.key_id(after) == "new"
    assert crypto.decrypt(before, binding="b") == crypto.decrypt(after, binding="b") == "kept"


def test_a_removed_key_cannot_decrypt(settings):
    settings.VPNCONSOLE_ENCRYPTION_KEYS = [crypto.new_key_entry("gone")]
    ciphertext = crypto.encrypt("x", binding="b")
    settings.VPNCONSOLE_ENCRYPTION_KEYS = [crypto.new_key_entry("other")]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(ciphertext, binding="b")


def test_a_ciphertext_moved_to_another_row_does_not_decrypt():
    ciphertext = crypto.encrypt("x", binding="access:va-a:password")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(ciphertext, binding="access:va-b:password")


def test_tampering_is_detected():
    ciphertext = crypto.encrypt("x", binding="b")
    tampered = ciphertext[:-2] + ("A" if ciphertext[-2] != "A" else "B") + ciphertext[-1]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tampered, binding="b")


@pytest.mark.parametrize("entry", ["nokid", "k:notbase64!!", "k:c2hvcnQ", ":abc"])
def test_bad_keys_are_a_clear_configuration_error(entry):
    with pytest.raises(ImproperlyConfigured):
        crypto.parse_keys([entry])
