"""Write-through rows are dated on Stripe's clock, so they stay in one timeline with the
events that follow, even when the sandbox's test clock runs in the past (demo history)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Max
from django.utils import timezone
from django_scopes import scope

from payments import services
from payments.models import Charge, Customer
from sandbox import services as sandbox_services
from tests.payments.sandbox_support import webhooks_arrive
from workbench.models import Event, StripeConnection

pytestmark = pytest.mark.django_db


@pytest.fixture
def month_ago(connected, acme):
    with scope(account=acme):
        key = StripeConnection.objects.get().secret_key(livemode=False)
    past = timezone.now() - timedelta(days=30)
    sandbox_services.clock_set(token_or_account=key, to=past)
    return past


def test_a_written_through_row_is_dated_by_the_sandbox_clock(month_ago, acme, owner_user):
    customer = services.customer_create(
        account=acme, livemode=False, email="old@example.com", actor=owner_user
    )

    assert abs(customer.source_time - month_ago) < timedelta(minutes=5)


def test_a_later_event_about_a_written_through_object_is_applied(
    month_ago, acme, owner_user, stripe
):
    customer = services.customer_create(
        account=acme, livemode=False, email="jenny@example.com", actor=owner_user
    )
    services.payment_method_attach(
        account=acme,
        livemode=False,
        customer=customer,
        payment_method="pm_card_visa",
        make_default=True,
        actor=owner_user,
    )
    intent = services.payment_charge_saved_card(
        account=acme,
        livemode=False,
        customer=customer,
        amount=5000,
        currency="usd",
        actor=owner_user,
    )
    webhooks_arrive()
    # A refund made at Stripe itself (not through the console): only its webhook tells us.
    with scope(account=acme):
        charge = Charge.objects.get(payment_intent__stripe_id=intent.stripe_id)
    stripe.v1.refunds.create({"charge": charge.stripe_id, "amount": 1500})
    stripe.v1.customers.update(customer.stripe_id, {"name": "Jenny Rosen"})

    webhooks_arrive()

    with scope(account=acme):
        assert Charge.objects.get(pk=charge.pk).amount_refunded == 1500
        assert Customer.objects.get(pk=customer.pk).name == "Jenny Rosen"


def test_the_clock_offset_stays_right_after_the_response(month_ago, acme, owner_user):
    services.customer_create(account=acme, livemode=False, email="a@example.com", actor=owner_user)
    from workbench.client import stripe_time

    # Later code in the same thread that reads no new response still gets Stripe's "now".
    assert abs(stripe_time() - month_ago) < timedelta(minutes=5)


def test_a_read_is_newer_than_the_events_received_before_it(month_ago, acme, owner_user):
    customer = services.customer_create(
        account=acme, livemode=False, email="a@example.com", actor=owner_user
    )

    assert customer.source_time.microsecond == 0
    received = Event.objects.with_scopes_disabled().aggregate(last=Max("sequence"))["last"] or 0
    assert customer.source_sequence >= received
