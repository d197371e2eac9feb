import pytest
from cryptography.fernet import Fernet
from nqc_tools.encryption import SecretKeyError, decrypt, encrypt, rotate, usable

OLD, NEW, OTHER = (Fernet.generate_key().decode() for _ in range(3))


def test_a_secret_is_stored_as_a_token_that_hides_it_and_opens_again():
    token = encrypt(NEW, "rt-1234-secret")
    assert "rt-1234-secret" not in token
    assert token != encrypt(NEW, "rt-1234-secret"), "each encryption is salted"
    assert decrypt(NEW, token) == "rt-1234-secret"


def test_rotation_decrypts_with_any_key_and_encrypts_with_the_first():
    old_token = encrypt(OLD, "password")
    keys = f"{NEW}, {OLD}"  # newest first; spaces around commas are ignored
    assert decrypt(keys, old_token) == "password"
    rewritten = encrypt(keys, "password")
    assert decrypt(NEW, rewritten) == "password"
    assert decrypt(OLD, rewritten) is None, "a value written again is under the new key only"


def test_rotate_puts_a_token_under_the_newest_key():
    rotated = rotate(f"{NEW},{OLD}", encrypt(OLD, "password"))
    assert decrypt(NEW, rotated) == "password"
    assert decrypt(OLD, rotated) is None
    assert rotate(NEW, encrypt(OTHER, "password")) is None
    assert rotate("", encrypt(OLD, "password")) is None


def test_a_token_no_configured_key_opens_reads_as_absent():
    token = encrypt(OLD, "password")
    assert decrypt(NEW, token) is None
    assert decrypt("", token) is None
    assert decrypt("not-a-key", token) is None
    assert decrypt(NEW, "clear text from an earlier version") is None


@pytest.mark.parametrize("keys", ["", " , ", None, "not-a-key", f"{NEW},short"])
def test_encrypting_without_a_usable_key_is_refused(keys):
    assert not usable(keys)
    with pytest.raises(SecretKeyError):
        encrypt(keys, "password")


def test_usable_keys():
    assert usable(NEW)
    assert usable(f"{NEW},{OLD},{OTHER}")
