"""Secrets encrypted at rest with Fernet (AES-128-CBC and HMAC-SHA256) under a list of keys.

The keys come newest first as one comma-separated text: a value is encrypted with the first key and
decrypted with whichever key it was encrypted with, so a new key goes first and the old one stays
second until every value has been written again.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretKeyError(Exception):
    """No key, or a text that is not a Fernet key, where a value must be encrypted."""


def usable(keys):
    """Whether ``keys`` holds at least one key and only Fernet keys."""
    try:
        _fernet(keys)
    except SecretKeyError:
        return False
    return True


def encrypt(keys, clear):
    """The token of ``clear`` under the first of ``keys``; raises :class:`SecretKeyError` without a key."""
    return _fernet(keys).encrypt(clear.encode()).decode()


def decrypt(keys, token):
    """The clear text of ``token``, or None when none of ``keys`` opens it (or there is no usable key)."""
    try:
        return _fernet(keys).decrypt(token.encode()).decode()
    except (SecretKeyError, InvalidToken):
        return None


def rotate(keys, token):
    """``token`` encrypted again under the first of ``keys``, or None when none of them opens it."""
    try:
        return _fernet(keys).rotate(token.encode()).decode()
    except (SecretKeyError, InvalidToken):
        return None


def _fernet(keys):
    keys = [key.strip() for key in (keys or "").split(",") if key.strip()]
    if not keys:
        raise SecretKeyError("no key")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:  # not 32 url-safe base64-encoded bytes
        raise SecretKeyError("not a Fernet key") from exc
