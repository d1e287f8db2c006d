from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django_scopes import scope

from workbench.crypto import DecryptionError, decrypt, encrypt
from workbench.models import StripeConnection, WebhookEndpoint

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def stored(model, field, pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {field} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_it_round_trips_and_hides_the_value(settings):
    settings.PAYDESK_ENCRYPTION_KEYS = [NEW]
    token = encrypt("sk_test_abc123")

    assert "sk_test" not in token
    assert decrypt(token) == "sk_test_abc123"
    assert encrypt("sk_test_abc123") != token  # a fresh IV every time


def test_an_empty_value_stays_empty(settings):
    assert encrypt("") == "" and decrypt("") == ""


def test_a_value_encrypted_with_a_removed_key_fails_clearly(settings):
    settings.PAYDESK_ENCRYPTION_KEYS = [OLD]
    token = encrypt("whsec_secret")
    settings.PAYDESK_ENCRYPTION_KEYS = [NEW]

    with pytest.raises(DecryptionError, match="PAYDESK_ENCRYPTION_KEYS"):
        decrypt(token)


@pytest.mark.django_db
def test_the_model_field_stores_ciphertext(settings, acme):
    settings.PAYDESK_ENCRYPTION_KEYS = [NEW]
    with scope(account=acme):
        connection_row = StripeConnection.objects.create(
            account=acme, mode="stripe", test_secret_key="sk_test_supersecret"
        )
        raw = stored(StripeConnection, "test_secret_key", connection_row.pk)
        assert "supersecret" not in raw
        assert StripeConnection.objects.get().test_secret_key == "sk_test_supersecret"


@pytest.mark.django_db
def test_rotation_re_encrypts_every_column_with_the_first_key(settings, acme):
    settings.PAYDESK_ENCRYPTION_KEYS = [OLD]
    with scope(account=acme):
        row = StripeConnection.objects.create(
            account=acme, mode="stripe", test_secret_key="sk_test_one", live_secret_key=""
        )
        endpoint = WebhookEndpoint.objects.create(account=acme, secret="whsec_two")
    before = stored(StripeConnection, "test_secret_key", row.pk)

    settings.PAYDESK_ENCRYPTION_KEYS = [NEW, OLD]
    call_command("rotate_encryption_keys", stdout=StringIO())

    after = stored(StripeConnection, "test_secret_key", row.pk)
    assert after != before
    assert stored(StripeConnection, "live_secret_key", row.pk) == ""
    settings.PAYDESK_ENCRYPTION_KEYS = [NEW]  # the old key can go now
    with scope(account=acme):
        assert StripeConnection.objects.get().test_secret_key == "sk_test_one"
        assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == "whsec_two"


@pytest.mark.django_db
def test_without_rotation_removing_the_old_key_breaks_reads(settings, acme):
    settings.PAYDESK_ENCRYPTION_KEYS = [OLD]
    with scope(account=acme):
        StripeConnection.objects.create(account=acme, mode="stripe", test_secret_key="sk_test_x")
    settings.PAYDESK_ENCRYPTION_KEYS = [NEW]

    with scope(account=acme), pytest.raises(DecryptionError):
        StripeConnection.objects.get()
