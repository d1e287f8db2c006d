"""The workbench against the real sandbox emulator, through the SDK (no fakes)."""

from __future__ import annotations

import pytest
from django_scopes import scope

from payments.models import Customer
from sandbox import delivery as sandbox_delivery
from workbench import services
from workbench.client import stripe_client
from workbench.models import ApiRequestLog, Event, StripeConnection, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def real_sandbox(settings, fake_stripe):
    settings.PAYDESK_SANDBOX_HTTP_CLIENT = "sandbox.client.SandboxHTTPClient"
    settings.PAYDESK_BASE_URL = "http://paydesk.test"


def test_the_owner_connects_to_the_sandbox(owner, acme):
    response = owner.post("/a/acme/settings/stripe/sandbox/", follow=True)

    assert response.status_code == 200
    with scope(account=acme):
        connection = StripeConnection.objects.get()
        logs = list(ApiRequestLog.objects.order_by("id").values_list("method", "path", "status"))
    assert connection.is_sandbox and connection.stripe_account_id.startswith("acct_")
    assert connection.stripe_account_id in response.content.decode()
    assert logs == [
        ("GET", "/v1/account", 200),
        ("POST", "/v1/webhook_endpoints", 200),
        ("POST", "/v1/webhook_endpoints", 200),
    ]
    account = stripe_client(account=acme, livemode=False).v1.accounts.retrieve_current()
    assert account.id == connection.stripe_account_id


def test_a_sandbox_event_flows_into_the_mirror(acme, owner_user):
    with scope(account=acme):
        services.connect_sandbox(account=acme, actor=owner_user)
    client = stripe_client(account=acme, livemode=False)

    created = client.v1.customers.create(params={"email": "jo@example.com", "name": "Jo"})
    assert sandbox_delivery.deliver_pending() >= 1
    services.events_drain()

    with scope(account=acme):
        [event] = Event.objects.filter(type="customer.created")
        assert event.status == "processed" and event.object["id"] == created.id
        assert WebhookDelivery.objects.filter(verified=True, response_status=200).exists()
        customer = Customer.objects.get(stripe_id=created.id)
    assert (customer.email, customer.livemode) == ("jo@example.com", False)


def test_a_live_mode_sandbox_event_reaches_the_live_endpoint(acme, owner_user):
    with scope(account=acme):
        services.connect_sandbox(account=acme, actor=owner_user)

    stripe_client(account=acme, livemode=True).v1.customers.create(params={"name": "Live"})
    sandbox_delivery.deliver_pending()

    with scope(account=acme):
        [event] = Event.objects.filter(type="customer.created")
    assert event.livemode is True
