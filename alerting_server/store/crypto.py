"""Encryption of the secrets the store keeps (channel credentials, the acknowledgement-link key).

A value written under a key is "enc:v1:" and a Fernet token (AES-128-CBC with HMAC-SHA256); a
value without the prefix is plain text, written before a key was configured, and is read as it is
until its next write encrypts it.
"""

from __future__ import annotations

import binascii

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "enc:v1:"
SETTING = "secrets_key (ALERTING_SECRETS_KEY)"
KEY_FORMAT = (
    "must be 32 url-safe base64-encoded bytes, as printed by "
    "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
)


class SecretsKeyError(Exception):
    """The configured key cannot open what the store holds; the message names the setting."""


def check_key(key: str) -> None:
    """ValueError saying what a key must look like, unless `key` is one."""
    try:
        Fernet(key)
    except (ValueError, binascii.Error):
        raise ValueError(KEY_FORMAT) from None


class Cipher:
    """Seals and opens stored secrets with the configured key; without one it passes them through."""

    def __init__(self, key: str = "") -> None:
        self._fernet = Fernet(key) if key else None

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def seal(self, value: str) -> str:
        if self._fernet is None or value.startswith(PREFIX):
            return value
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def open(self, value: str) -> str:
        if not value.startswith(PREFIX):
            return value
        if self._fernet is None:
            raise SecretsKeyError(f"the database holds encrypted secrets: set {SETTING} to their key")
        try:
            return self._fernet.decrypt(value.removeprefix(PREFIX).encode()).decode()
        except InvalidToken:
            raise SecretsKeyError(
                f"{SETTING} does not decrypt the secrets in the database: "
                "it is not the key they were written with"
            ) from None
