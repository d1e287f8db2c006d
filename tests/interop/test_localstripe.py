"""The console's payment services and webhook endpoint against localstripe.

localstripe covers customers, card payment methods, payment intents and their charges,
refunds, products, events and signed webhooks. Where it departs from Stripe, the test says
so (strict xfail with the exact reason), so a fixed localstripe shows up as XPASS.
"""

from __future__ import annotations

import time

import pytest
import requests
from django_scopes import scope

from billing import services as billing_services
from billing.models import Product
from dashboard.models import AuditLog
from payments import services
from payments.models import BalanceTransaction, Charge, Customer, PaymentIntent, PaymentMethod
from payments.services import PaymentError
from workbench import services as workbench_services
from workbench.models import ApiRequestLog, Event, WebhookDelivery, WebhookEndpoint

WEBHOOK_SECRET = "whsec_interop_localstripe"


def make_customer(account, actor, **fields) -> Customer:
    fields.setdefault("email", "jenny@example.com")
    return services.customer_create(account=account, livemode=False, actor=actor, **fields)


def saved_card(account, actor, customer, payment_method="pm_card_visa") -> PaymentMethod:
    return services.payment_method_attach(
        account=account,
        livemode=False,
        customer=customer,
        payment_method=payment_method,
        actor=actor,
    )


def charge_card(account, actor, customer, method, amount=1000, capture=True) -> PaymentIntent:
    return services.payment_charge_saved_card(
        account=account,
        livemode=False,
        customer=customer,
        payment_method=method.stripe_id,
        amount=amount,
        currency="usd",
        capture=capture,
        actor=actor,
    )


@pytest.mark.django_db
class TestServices:
    def test_a_customer_is_created_and_mirrored_at_once(self, on_localstripe, acme, owner_user):
        customer = make_customer(acme, owner_user, name="Jenny Rosen")

        with scope(account=acme):
            row = Customer.objects.get()
            assert row.stripe_id.startswith("cus_")
            assert (row.email, row.name, row.livemode) == (
                "jenny@example.com",
                "Jenny Rosen",
                False,
            )
            assert row == customer
            audit = AuditLog.objects.get(action="customer.created")
            assert audit.object_id == row.stripe_id
            log = ApiRequestLog.objects.get(path="/v1/customers")
            assert log.status == 200 and log.idempotency_key.startswith("paydesk-")

    def test_a_customer_update_is_written_through(self, on_localstripe, acme, owner_user):
        customer = make_customer(acme, owner_user)
        services.customer_update(
            account=acme,
            livemode=False,
            customer=customer,
            changes={"name": "Jenny R."},
            actor=owner_user,
        )
        with scope(account=acme):
            assert Customer.objects.get().name == "Jenny R."

    def test_a_test_card_is_attached_and_detached(self, on_localstripe, acme, owner_user):
        customer = make_customer(acme, owner_user)
        method = saved_card(acme, owner_user, customer)

        with scope(account=acme):
            method.refresh_from_db()
            assert method.stripe_id.startswith("pm_") and method.stripe_id != "pm_card_visa"
            assert (method.card_brand, method.card_last4) == ("visa", "4242")
            assert method.customer == customer
            assert "number" not in method.data.get("card", {})

        services.payment_method_detach(
            account=acme, livemode=False, payment_method=method, actor=owner_user
        )
        with scope(account=acme):
            method.refresh_from_db()
            assert method.customer is None

    def test_charging_a_saved_card_mirrors_intent_charge_and_fee(
        self, on_localstripe, acme, owner_user
    ):
        customer = make_customer(acme, owner_user)
        method = saved_card(acme, owner_user, customer)

        intent = charge_card(acme, owner_user, customer, method, amount=2500)

        with scope(account=acme):
            intent.refresh_from_db()
            assert intent.status == "succeeded"
            assert intent.customer == customer
            charge = Charge.objects.get()
            assert charge.payment_intent == intent
            assert (charge.amount, charge.status, charge.paid) == (2500, "succeeded", True)
            assert charge.customer == customer
            transaction = BalanceTransaction.objects.get()
            assert transaction.stripe_id == charge.balance_transaction_stripe_id
            assert transaction.amount == 2500
            assert charge.fee == transaction.fee  # localstripe charges no fee: 0
            assert AuditLog.objects.filter(action="payment.created").count() == 1

    def test_a_declined_card_surfaces_stripes_message_and_writes_no_charge(
        self, on_localstripe, acme, owner_user
    ):
        customer = make_customer(acme, owner_user)
        method = saved_card(acme, owner_user, customer, "pm_card_chargeCustomerFail")

        with pytest.raises(PaymentError) as refused:
            charge_card(acme, owner_user, customer, method)

        assert refused.value.message == "Your card was declined."
        assert refused.value.code == "card_declined"
        with scope(account=acme):
            assert not Charge.objects.exists()
            assert not AuditLog.objects.filter(action="payment.created").exists()

    def test_a_partial_refund_updates_the_charge(self, on_localstripe, acme, owner_user):
        customer = make_customer(acme, owner_user)
        method = saved_card(acme, owner_user, customer)
        charge_card(acme, owner_user, customer, method, amount=1000)
        with scope(account=acme):
            charge = Charge.objects.get()

        refund = services.payment_refund(
            account=acme, livemode=False, charge=charge, amount=300, actor=owner_user
        )

        with scope(account=acme):
            charge.refresh_from_db()
            assert (refund.amount, refund.status, refund.charge) == (300, "succeeded", charge)
            assert charge.amount_refunded == 300
            assert charge.refunded is False
            assert AuditLog.objects.get(action="payment.refunded").object_id == refund.stripe_id

    @pytest.mark.xfail(
        strict=True,
        reason="localstripe 1.15.10 accepts a refund above what remains: Refund.__init__ "
        "never compares the amount with the charge's amount_refunded",
    )
    def test_refunding_more_than_remains_is_refused(self, on_localstripe, acme, owner_user):
        customer = make_customer(acme, owner_user)
        method = saved_card(acme, owner_user, customer)
        charge_card(acme, owner_user, customer, method, amount=1000)
        with scope(account=acme):
            charge = Charge.objects.get()
        services.payment_refund(
            account=acme, livemode=False, charge=charge, amount=800, actor=owner_user
        )

        with pytest.raises(PaymentError):
            services.payment_refund(
                account=acme, livemode=False, charge=charge, amount=800, actor=owner_user
            )

    def test_a_partial_capture_captures_part_and_releases_the_rest(
        self, on_localstripe, acme, owner_user
    ):
        customer = make_customer(acme, owner_user)
        method = saved_card(acme, owner_user, customer)
        intent = charge_card(acme, owner_user, customer, method, amount=1000, capture=False)
        assert intent.status == "requires_capture"
        assert intent.capture_method == "manual"

        captured = services.payment_capture(
            account=acme, livemode=False, payment_intent=intent, amount=600, actor=owner_user
        )

        with scope(account=acme):
            charge = Charge.objects.get()
            assert captured.status == "succeeded"
            assert charge.captured is True
            # localstripe releases the uncaptured 400 as a refund, as Stripe reports it.
            assert charge.amount_refunded == 400

    def test_an_authorisation_can_be_canceled(self, on_localstripe, acme, owner_user):
        customer = make_customer(acme, owner_user)
        method = saved_card(acme, owner_user, customer)
        intent = charge_card(acme, owner_user, customer, method, capture=False)

        canceled = services.payment_cancel(
            account=acme, livemode=False, payment_intent=intent, actor=owner_user
        )

        with scope(account=acme):
            assert canceled.status == "canceled"
            assert PaymentIntent.objects.get().status == "canceled"
            assert AuditLog.objects.filter(action="payment.canceled").exists()

    def test_a_product_is_created(self, on_localstripe, acme, owner_user):
        product = billing_services.product_create(
            account=acme, livemode=False, name="T-shirt", actor=owner_user
        )

        with scope(account=acme):
            row = Product.objects.get()
            assert row == product
            assert row.stripe_id.startswith("prod_")
            assert (row.name, row.active) == ("T-shirt", True)
            assert AuditLog.objects.filter(action="product.created").exists()

    @pytest.mark.xfail(
        strict=True,
        reason="localstripe 1.15.10 stores form-encoded booleans on update as strings: "
        'POST /v1/products/{id} active=false answers "active": "false"',
    )
    def test_a_product_is_archived_and_unarchived(self, on_localstripe, acme, owner_user):
        product = billing_services.product_create(
            account=acme, livemode=False, name="T-shirt", actor=owner_user
        )
        billing_services.product_archive(
            account=acme, livemode=False, product=product, actor=owner_user
        )
        with scope(account=acme):
            assert Product.objects.get().active is False
        billing_services.product_unarchive(
            account=acme, livemode=False, product=product, actor=owner_user
        )
        with scope(account=acme):
            assert Product.objects.get().active is True

    @pytest.mark.xfail(
        strict=True,
        reason="localstripe 1.15.10 has no Prices API (only the legacy /v1/plans): "
        "POST /v1/prices answers 404",
        raises=PaymentError,
    )
    def test_a_price_is_created(self, on_localstripe, acme, owner_user):
        product = billing_services.product_create(
            account=acme, livemode=False, name="T-shirt", actor=owner_user
        )
        billing_services.price_create(
            account=acme,
            livemode=False,
            product=product,
            unit_amount=2000,
            currency="usd",
            recurring_interval="month",
            actor=owner_user,
        )


# --- Webhooks from localstripe to our endpoint over HTTP --------------------------------


@pytest.fixture
def endpoint(acme, transactional_db):
    with scope(account=acme):
        return WebhookEndpoint.objects.create(
            account=acme, livemode=False, secret=WEBHOOK_SECRET, secret_hint="whsec_…tripe"
        )


@pytest.fixture
def no_worker(monkeypatch):
    """Deliveries schedule processing on commit; the test runs the batch itself."""
    scheduled = []
    monkeypatch.setattr(workbench_services, "drain_schedule", lambda: scheduled.append(1))
    return scheduled


def register_webhook(localstripe, name, url, secret):
    response = requests.post(
        f"{localstripe}/_config/webhooks/{name}", data={"url": url, "secret": secret}, timeout=5
    )
    response.raise_for_status()


def deliveries(account, **filters) -> list[WebhookDelivery]:
    with scope(account=account):
        return list(WebhookDelivery.objects.filter(**filters).order_by("received_at"))


def wait_for_deliveries(account, count: int, timeout: float = 15.0, **filters):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = deliveries(account, **filters)
        if len(found) >= count:
            return found
        time.sleep(0.2)
    raise AssertionError(f"expected {count} deliveries, got {len(deliveries(account))}")


def next_second() -> None:
    """Stripe times events in whole seconds: start the next change in a later second."""
    time.sleep(1.05 - (time.time() % 1))


@pytest.fixture
def webhooks_to_us(on_localstripe, endpoint, live_server, no_worker):
    # localstripe sends each event a second after it happened, to the webhooks registered
    # then: let earlier tests' events go out before this endpoint is registered.
    time.sleep(1.5)
    register_webhook(
        on_localstripe,
        "paydesk",
        f"{live_server.url}/webhooks/stripe/{endpoint.uuid}/",
        WEBHOOK_SECRET,
    )
    yield endpoint
    # Later tests must not deliver to this test's endpoint.
    register_webhook(on_localstripe, "paydesk", "http://127.0.0.1:9/", "whsec_unused")
    register_webhook(on_localstripe, "stranger", "http://127.0.0.1:9/", "whsec_unused")


def test_localstripe_deliveries_are_verified_stored_and_processed(
    webhooks_to_us, raw_client, acme, owner_user, no_worker
):
    customer = make_customer(acme, owner_user)
    with scope(account=acme):
        written_through_at = Customer.objects.get().source_time
    next_second()
    # Someone changes the customer at "Stripe", outside the console.
    raw_client.v1.customers.update(customer.stripe_id, params={"email": "rosen@example.com"})

    received = wait_for_deliveries(acme, 2)

    assert [d.response_status for d in received] == [200, 200]
    assert all(d.verified for d in received)
    assert no_worker, "processing was not scheduled after the delivery was stored"
    with scope(account=acme):
        assert sorted(Event.objects.values_list("type", flat=True)) == [
            "customer.created",
            "customer.updated",
        ]
    outcome = workbench_services.events_process_batch()
    assert (outcome.processed, outcome.failed) == (2, 0)
    with scope(account=acme):
        row = Customer.objects.get()
        assert row.email == "rosen@example.com"
        assert row.source_time > written_through_at
        assert set(Event.objects.values_list("status", flat=True)) == {"processed"}


def test_a_payment_event_from_localstripe_is_processed(webhooks_to_us, acme, owner_user, no_worker):
    customer = make_customer(acme, owner_user)
    method = saved_card(acme, owner_user, customer)
    intent = charge_card(acme, owner_user, customer, method, amount=1200)

    received = wait_for_deliveries(acme, 2)
    workbench_services.events_process_batch()

    with scope(account=acme):
        types = set(Event.objects.values_list("type", flat=True))
        assert "payment_intent.succeeded" in types
        assert all(d.verified for d in received)
        assert Event.objects.get(type="payment_intent.succeeded").status == "processed"
        intent.refresh_from_db()
        assert intent.status == "succeeded"
        assert Charge.objects.get().amount == 1200


def test_a_delivery_signed_with_another_secret_is_refused_and_recorded(
    webhooks_to_us, localstripe, live_server, acme, owner_user
):
    register_webhook(
        localstripe,
        "stranger",
        f"{live_server.url}/webhooks/stripe/{webhooks_to_us.uuid}/",
        "whsec_not_ours",
    )
    make_customer(acme, owner_user)

    received = wait_for_deliveries(acme, 2)

    assert sorted(d.response_status for d in received) == [200, 400]
    refused = next(d for d in received if d.response_status == 400)
    assert refused.verified is False
    assert "signature" in refused.failure_reason.lower()
    with scope(account=acme):
        assert Event.objects.count() == 1


def test_our_events_are_the_events_localstripe_lists(webhooks_to_us, raw_client, acme, owner_user):
    make_customer(acme, owner_user)
    billing_services.product_create(account=acme, livemode=False, name="Mug", actor=owner_user)

    wait_for_deliveries(acme, 2)

    listed = {event.id for event in raw_client.v1.events.list(params={"limit": 100}).data}
    with scope(account=acme):
        stored = set(Event.objects.values_list("stripe_id", flat=True))
    assert stored == listed
