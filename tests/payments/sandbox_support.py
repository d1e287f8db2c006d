"""Accounts connected to the sandbox, and running its webhooks through our real path."""

from __future__ import annotations

import pytest
from django_scopes import scope

from sandbox import delivery as sandbox_delivery
from workbench import services as workbench_services
from workbench.client import stripe_client
from workbench.models import StripeConnection


@pytest.fixture
def sandbox_settings(settings):
    settings.PAYDESK_SANDBOX_HTTP_CLIENT = "sandbox.client.SandboxHTTPClient"
    settings.PAYDESK_BASE_URL = "http://paydesk.test"
    # Deliveries are sent when the test says so, like a webhook arriving a moment later.
    settings.SANDBOX_AUTO_DELIVER = False
    return settings


@pytest.fixture
def connected(acme, owner_user, sandbox_settings) -> StripeConnection:
    with scope(account=acme):
        return workbench_services.connect_sandbox(account=acme, actor=owner_user)


@pytest.fixture
def stripe(connected, acme):
    """The account's own client: changes made at "Stripe" outside the console's services."""
    return stripe_client(account=acme, livemode=False)


def webhooks_arrive() -> int:
    """Signed deliveries from the sandbox to our endpoint, then the worker's processing."""
    sent = 0
    while True:
        batch = sandbox_delivery.deliver_pending()
        if not batch:
            break
        sent += batch
    workbench_services.events_drain()
    return sent
