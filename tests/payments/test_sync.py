from __future__ import annotations

import dataclasses
from io import StringIO

import pytest
import stripe as stripe_sdk
from django.core.management import CommandError, call_command
from django_scopes import scope

from billing.models import Price, Product
from payments import sync
from payments.models import (
    BalanceTransaction,
    Charge,
    Customer,
    PaymentIntent,
    PaymentMethod,
    Refund,
    SyncCursor,
)
from reporting.models import DailyRollup
from workbench.models import ApiRequestLog

pytestmark = pytest.mark.django_db

MIRRORS = (
    Customer,
    PaymentMethod,
    PaymentIntent,
    Charge,
    Refund,
    BalanceTransaction,
    Product,
    Price,
)


@pytest.fixture
def history(stripe):
    """Objects made at Stripe whose webhooks never reached us."""
    made = {"customers": [], "charges": []}
    for number in range(3):
        customer = stripe.v1.customers.create(params={"email": f"c{number}@example.com"})
        stripe.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
        made["customers"].append(customer.id)
        intent = stripe.v1.payment_intents.create(
            params={
                "amount": 1000 + number,
                "currency": "usd",
                "customer": customer.id,
                "payment_method": "pm_card_visa",
                "payment_method_types": ["card"],
                "confirm": True,
            }
        )
        made["charges"].append(intent.latest_charge)
    stripe.v1.refunds.create(params={"charge": made["charges"][0], "amount": 300})
    product = stripe.v1.products.create(params={"name": "Pro"})
    stripe.v1.prices.create(params={"product": product.id, "unit_amount": 900, "currency": "usd"})
    return made


def state(account) -> dict:
    """Everything a page could show, without the bookkeeping of when we read it."""
    with scope(account=account):
        return {
            model.__name__: sorted(
                (
                    {
                        name: value
                        for name, value in row.items()
                        if name not in {"source_time", "source_sequence"}
                    }
                    for row in model.objects.values()
                ),
                key=lambda row: row["stripe_id"],
            )
            for model in MIRRORS
        }


def run_sync(*extra: str) -> str:
    out = StringIO()
    call_command("stripe_sync", "--account", "acme", "--page-size", "2", *extra, stdout=out)
    return out.getvalue()


def test_it_mirrors_every_resource(history, acme):
    output = run_sync()

    with scope(account=acme):
        assert Customer.objects.count() == 3
        assert PaymentMethod.objects.filter(customer__isnull=False).count() == 3
        assert PaymentIntent.objects.filter(status="succeeded").count() == 3
        charges = Charge.objects.select_related("customer", "payment_intent")
        assert sorted(c.stripe_id for c in charges) == sorted(history["charges"])
        assert all(c.customer and c.payment_intent and c.fee == 59 for c in charges)
        assert Charge.objects.get(stripe_id=history["charges"][0]).amount_refunded == 300
        assert Refund.objects.get().charge.stripe_id == history["charges"][0]
        assert BalanceTransaction.objects.filter(type="charge").count() == 3
        assert BalanceTransaction.objects.filter(type="refund").count() == 1
        assert Price.objects.get().product == Product.objects.get()
        cursors = {c.resource: c for c in SyncCursor.objects.all()}
    assert "charges: 3 stored (2 pages)" in output
    assert "Done: " in output
    assert cursors["charges"].starting_after == ""
    assert cursors["charges"].high_water is not None
    assert cursors["payment_methods"].completed_at is not None


def test_running_it_twice_changes_nothing(history, acme):
    run_sync()
    first = state(acme)

    run_sync()

    assert state(acme) == first
    with scope(account=acme):
        later_reads = ApiRequestLog.objects.filter(path="/v1/charges").order_by("-id")
        assert "created[gte]" in later_reads.first().params


def test_an_interrupted_sync_resumes_from_its_cursor(history, acme, monkeypatch):
    real = sync.SYNC_RESOURCES["charges"]
    calls = []

    def failing_second_page(client, params):
        calls.append(dict(params))
        if len(calls) == 2:
            raise stripe_sdk.APIConnectionError("the network went away")
        return real.list_page(client, params)

    monkeypatch.setitem(
        sync.SYNC_RESOURCES, "charges", dataclasses.replace(real, list_page=failing_second_page)
    )
    with pytest.raises(stripe_sdk.APIConnectionError):
        run_sync("--resource", "charges")
    with scope(account=acme):
        cursor = SyncCursor.objects.get(resource="charges")
        stored_first = set(Charge.objects.values_list("stripe_id", flat=True))
    assert len(stored_first) == 2
    assert cursor.starting_after in stored_first
    assert cursor.completed_at is None

    monkeypatch.setitem(sync.SYNC_RESOURCES, "charges", real)
    output = run_sync("--resource", "charges")

    assert f"charges: resuming after {cursor.starting_after}" in output
    with scope(account=acme):
        resumed = ApiRequestLog.objects.filter(path="/v1/charges").order_by("id").last()
        assert resumed.params["starting_after"] == cursor.starting_after
        assert set(Charge.objects.values_list("stripe_id", flat=True)) == set(history["charges"])
        cursor.refresh_from_db()
    assert (cursor.starting_after, cursor.objects_synced) == ("", 3)


def test_rate_limits_are_waited_out(history, acme, monkeypatch):
    real = sync.SYNC_RESOURCES["customers"]
    refusals = iter([True, True])
    waits = []

    def rate_limited(client, params):
        if next(refusals, False):
            raise stripe_sdk.RateLimitError("Too many requests", http_status=429)
        return real.list_page(client, params)

    monkeypatch.setitem(
        sync.SYNC_RESOURCES, "customers", dataclasses.replace(real, list_page=rate_limited)
    )

    sync.stripe_sync(account=acme, livemode=False, resources=["customers"], sleep=waits.append)

    assert waits == [1, 2]
    with scope(account=acme):
        assert Customer.objects.count() == 3


def test_since_limits_the_reads_to_newer_objects(history, acme):
    run_sync("--since", "2020-01-01", "--resource", "customers")

    with scope(account=acme):
        read = ApiRequestLog.objects.filter(path="/v1/customers").first()
    assert read.params["created[gte]"] == "1577836800"


def test_it_needs_a_connected_account(acme):
    with pytest.raises(CommandError, match="not connected"):
        run_sync()
    with pytest.raises(CommandError, match="No account"):
        call_command("stripe_sync", "--account", "nobody")


def test_backfilled_history_counts_in_the_rollups_once(history, acme):
    run_sync()
    run_sync()

    with scope(account=acme):
        day = DailyRollup.objects.get(livemode=False, currency="usd")
    assert (day.successful_payments, day.new_customers) == (3, 3)
    assert day.gross_volume == 1000 + 1001 + 1002
    assert (day.refunds, day.fees) == (300, 3 * 59)
    assert day.net_volume == 3003 - 3 * 59 - 300
