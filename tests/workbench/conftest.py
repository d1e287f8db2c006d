from __future__ import annotations

import pytest
from django.db import connection
from django_scopes import scope, scopes_disabled

from tests.workbench.support import FakeStripeHTTPClient, Widget
from workbench import dispatch
from workbench.models import WebhookEndpoint
from workbench.services import DRAIN_KEY, _redis

SECRET = "whsec_test_current_secret"


@pytest.fixture(autouse=True)
def fake_stripe(settings):
    """No test reaches the internet: both Stripe and the sandbox answer from a fake."""
    settings.PAYDESK_STRIPE_HTTP_CLIENT = "tests.workbench.support.FakeStripeHTTPClient"
    settings.PAYDESK_SANDBOX_HTTP_CLIENT = "tests.workbench.support.FakeStripeHTTPClient"
    FakeStripeHTTPClient.reset()
    yield FakeStripeHTTPClient
    FakeStripeHTTPClient.reset()


@pytest.fixture(autouse=True)
def handler_registry():
    """Handlers registered by a test disappear after it."""
    with dispatch.isolated_registry():
        yield


@pytest.fixture
def drain_key():
    _redis().delete(DRAIN_KEY)
    yield DRAIN_KEY
    _redis().delete(DRAIN_KEY)


@pytest.fixture
def endpoint(acme):
    with scope(account=acme):
        return WebhookEndpoint.objects.create(
            account=acme, livemode=False, secret=SECRET, secret_hint="whsec_…cret"
        )


@pytest.fixture
def widget_table(db):
    with connection.schema_editor() as editor:
        editor.create_model(Widget)
    yield Widget
    if connection.in_atomic_block:
        return  # the test's transaction rolls the table back
    with scopes_disabled(), connection.schema_editor() as editor:
        editor.delete_model(Widget)
