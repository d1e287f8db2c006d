"""Secrets at rest: Fernet with several keys so keys can rotate.

`settings.PAYDESK_ENCRYPTION_KEYS` is a list of Fernet keys: the first encrypts, every key
decrypts. To rotate, put a new key first, keep the old ones after it, run
`manage.py rotate_encryption_keys`, then drop the old keys.

An empty string is stored as an empty string (not encrypted) so `blank` checks keep
working; everything else is stored as a Fernet token.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class DecryptionError(Exception):
    """A stored value cannot be decrypted with any configured key."""


@lru_cache(maxsize=4)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("PAYDESK_ENCRYPTION_KEYS is empty: secrets cannot be stored.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            "PAYDESK_ENCRYPTION_KEYS must hold url-safe base64 Fernet keys (32 bytes each)."
        ) from error


def _fernet() -> MultiFernet:
    # Keyed by the current setting so override_settings and a reloaded setting take effect.
    return _multi_fernet(tuple(settings.PAYDESK_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    if value == "":
        return ""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if token == "":
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "A stored secret cannot be decrypted with any key in PAYDESK_ENCRYPTION_KEYS: it "
            "was encrypted with a key that has been removed (or the value is corrupt). Put "
            "the old key back after the new one and run `manage.py rotate_encryption_keys`."
        ) from None


def rotate(token: str) -> str:
    """The same secret, re-encrypted with the first key."""
    if token == "":
        return ""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        decrypt(token)  # raises the explanatory DecryptionError
        raise


class EncryptedTextField(models.TextField):
    """A text column whose value is a Fernet token in the database and plain text in Python.

    Not searchable or sortable by value (every token differs, even for equal values).
    """

    description = "Text encrypted at rest with PAYDESK_ENCRYPTION_KEYS"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return value
        return encrypt(str(value))


def encrypted_columns() -> Iterator[tuple[type[models.Model], EncryptedTextField]]:
    """Every (model, field) pair stored encrypted, across all installed apps."""
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field
