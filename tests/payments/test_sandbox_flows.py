"""The payments core end to end against the sandbox, through the SDK and the real webhook
path: signed deliveries to our endpoint, stored events, the worker's batch, the handlers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from dashboard.models import AuditLog
from payments import services
from payments.models import (
    BalanceTransaction,
    Charge,
    Customer,
    Dispute,
    PaymentIntent,
    PaymentMethod,
    Payout,
    Refund,
)
from payments.services import PaymentError
from reporting.models import DailyRollup
from sandbox import services as sandbox_services
from tests.payments.sandbox_support import webhooks_arrive
from workbench import services as workbench_services
from workbench.models import ApiRequestLog, Event

pytestmark = pytest.mark.django_db


def snapshot(model, account):
    with scope(account=account):
        return {
            row.stripe_id: (row.data, row.source_time, row.source_sequence)
            for row in model.objects.all()
        }


def today_rollup(account) -> DailyRollup:
    with scope(account=account):
        return DailyRollup.objects.get(account=account, livemode=False, currency="usd")


@pytest.fixture
def customer(connected, acme, owner_user) -> Customer:
    return services.customer_create(
        account=acme, livemode=False, email="jenny@example.com", name="Jenny", actor=owner_user
    )


def save_card(acme, owner_user, customer, test_card="pm_card_visa", default=True):
    return services.payment_method_attach(
        account=acme,
        livemode=False,
        customer=customer,
        payment_method=test_card,
        make_default=default,
        actor=owner_user,
    )


def charge(acme, owner_user, customer, amount=2000, **options) -> PaymentIntent:
    return services.payment_charge_saved_card(
        account=acme,
        livemode=False,
        customer=customer,
        amount=amount,
        currency="usd",
        actor=owner_user,
        **options,
    )


def test_a_payment_made_at_stripe_reaches_the_mirror_through_webhooks(stripe, acme):
    created = stripe.v1.customers.create(params={"email": "jo@example.com"})
    stripe.v1.payment_methods.attach("pm_card_visa", params={"customer": created.id})
    intent = stripe.v1.payment_intents.create(
        params={
            "amount": 2000,
            "currency": "usd",
            "customer": created.id,
            "payment_method": "pm_card_visa",
            "payment_method_types": ["card"],
            "confirm": True,
        }
    )

    webhooks_arrive()

    with scope(account=acme):
        assert not Event.objects.exclude(status__in=["processed", "ignored"]).exists()
        customer = Customer.objects.get(stripe_id=created.id)
        payment = Charge.objects.select_related("payment_intent", "customer").get()
        assert payment.payment_intent.stripe_id == intent.id
        assert payment.payment_intent.status == "succeeded"
        assert payment.customer == customer
        assert (payment.amount, payment.status, payment.card_last4) == (2000, "succeeded", "4242")
        transaction = BalanceTransaction.objects.get(
            stripe_id=payment.balance_transaction_stripe_id
        )
        assert (transaction.amount, transaction.fee, transaction.net) == (2000, 88, 1912)
        assert payment.fee == 88  # 2.9% + 30¢
    day = today_rollup(acme)
    assert (day.gross_volume, day.fees, day.net_volume) == (2000, 88, 1912)
    assert (day.successful_payments, day.new_customers) == (1, 1)


def test_write_through_mirrors_at_once_and_the_later_webhooks_change_nothing(
    acme, owner_user, customer
):
    save_card(acme, owner_user, customer)
    intent = charge(acme, owner_user, customer, amount=5000)

    with scope(account=acme):
        assert intent.status == "succeeded"
        payment = Charge.objects.get()
        assert payment.fee == 175  # the balance transaction came expanded with the answer
        assert BalanceTransaction.objects.get().net == 4825
    before = {
        model: snapshot(model, acme) for model in (Customer, PaymentIntent, Charge, PaymentMethod)
    }

    assert webhooks_arrive() > 0

    after = {
        model: snapshot(model, acme) for model in (Customer, PaymentIntent, Charge, PaymentMethod)
    }

    def data_of(state):
        return {model: {sid: row[0] for sid, row in rows.items()} for model, rows in state.items()}

    # The action's own webhooks arrive after the read: they hold the same data and may
    # re-stamp the rows (a newer arrival), but change nothing a user sees.
    assert data_of(after) == data_of(before)
    assert all(
        after[model][sid][1:] >= before[model][sid][1:] for model in after for sid in after[model]
    )
    day = today_rollup(acme)
    assert (day.gross_volume, day.fees, day.successful_payments) == (5000, 175, 1)

    webhooks_arrive()  # nothing left to deliver, and a second drain counts nothing again
    assert today_rollup(acme).gross_volume == 5000


def test_an_off_session_charge_uses_the_saved_default_card(acme, owner_user, customer):
    method = save_card(acme, owner_user, customer, "pm_card_mastercard")

    intent = charge(acme, owner_user, customer, idempotency_key="order-42")

    with scope(account=acme):
        assert intent.payment_method_stripe_id == method.stripe_id
        assert Charge.objects.get().card_brand == "mastercard"
        log = ApiRequestLog.objects.get(method="POST", path="/v1/payment_intents")
        assert log.params["off_session"] == "true"
        assert log.idempotency_key == "order-42"
        assert AuditLog.objects.get(action="payment.created").object_id == intent.stripe_id


def test_the_same_idempotency_key_charges_once(acme, owner_user, customer):
    save_card(acme, owner_user, customer)

    first = charge(acme, owner_user, customer, idempotency_key="checkout-7")
    second = charge(acme, owner_user, customer, idempotency_key="checkout-7")

    assert first.stripe_id == second.stripe_id
    with scope(account=acme):
        assert PaymentIntent.objects.count() == 1
        assert Charge.objects.count() == 1


def test_a_decline_shows_stripes_message_and_decline_code(acme, owner_user, customer):
    save_card(acme, owner_user, customer, "pm_card_chargeDeclinedInsufficientFunds")

    with pytest.raises(PaymentError) as declined:
        charge(acme, owner_user, customer)

    assert declined.value.message == "Your card has insufficient funds."
    assert (declined.value.code, declined.value.decline_code) == (
        "card_declined",
        "insufficient_funds",
    )
    with scope(account=acme):
        # Stripe keeps the failed intent; we mirror it as it is, and no successful payment.
        intent = PaymentIntent.objects.get()
        assert intent.status == "requires_payment_method"
        assert intent.amount_received == 0
        assert not Charge.objects.filter(status="succeeded").exists()
        assert AuditLog.objects.get(action="payment.declined").metadata["decline_code"] == (
            "insufficient_funds"
        )
        assert not AuditLog.objects.filter(action="payment.created").exists()

    webhooks_arrive()

    with scope(account=acme):
        failed = Charge.objects.get()
        assert (failed.status, failed.decline_code) == ("failed", "insufficient_funds")
    day = today_rollup(acme)
    assert (day.failed_payments, day.successful_payments, day.gross_volume) == (1, 0, 0)


def test_a_partial_refund_and_its_webhooks(acme, owner_user, customer):
    save_card(acme, owner_user, customer)
    charge(acme, owner_user, customer, amount=2000)
    with scope(account=acme):
        payment = Charge.objects.get()

    refund = services.payment_refund(
        account=acme,
        livemode=False,
        charge=payment,
        amount=500,
        reason="requested_by_customer",
        actor=owner_user,
    )

    with scope(account=acme):
        payment.refresh_from_db()
        assert (refund.amount, refund.status, refund.reason) == (
            500,
            "succeeded",
            "requested_by_customer",
        )
        assert refund.charge == payment
        assert (payment.amount_refunded, payment.refunded) == (500, False)
    webhooks_arrive()
    day = today_rollup(acme)
    assert (day.gross_volume, day.refunds) == (2000, 500)
    # Net volume: the charge's net less the refund's (no fee is returned on a refund).
    assert day.net_volume == 2000 - 88 - 500


def test_refunding_more_than_remains_is_refused_with_stripes_message(acme, owner_user, customer):
    save_card(acme, owner_user, customer)
    charge(acme, owner_user, customer, amount=2000)
    with scope(account=acme):
        payment = Charge.objects.get()
    services.payment_refund(
        account=acme, livemode=False, charge=payment, amount=1500, actor=owner_user
    )
    with scope(account=acme):
        payment.refresh_from_db()
    before = (snapshot(Charge, acme), snapshot(Refund, acme))

    with pytest.raises(PaymentError) as refused:
        services.payment_refund(
            account=acme, livemode=False, charge=payment, amount=600, actor=owner_user
        )

    assert refused.value.message == (
        "Refund amount ($6.00) is greater than unrefunded amount on charge ($5.00)"
    )
    assert refused.value.error_type == "invalid_request_error"
    assert (snapshot(Charge, acme), snapshot(Refund, acme)) == before
    with scope(account=acme):
        assert AuditLog.objects.filter(action="payment.refunded").count() == 1


def test_a_full_refund(acme, owner_user, customer):
    save_card(acme, owner_user, customer)
    charge(acme, owner_user, customer, amount=1234)
    with scope(account=acme):
        payment = Charge.objects.get()

    refund = services.payment_refund(account=acme, livemode=False, charge=payment, actor=owner_user)

    with scope(account=acme):
        payment.refresh_from_db()
        assert refund.amount == 1234
        assert payment.refunded is True


def test_a_partial_capture(acme, owner_user, customer):
    save_card(acme, owner_user, customer)
    intent = charge(acme, owner_user, customer, amount=2000, capture=False)
    assert (intent.status, intent.amount_capturable) == ("requires_capture", 2000)
    webhooks_arrive()
    with scope(account=acme):
        assert not DailyRollup.objects.filter(gross_volume__gt=0).exists()

    captured = services.payment_capture(
        account=acme, livemode=False, payment_intent=intent, amount=1500, actor=owner_user
    )

    with scope(account=acme):
        payment = Charge.objects.get()
        assert (captured.status, captured.amount_received) == ("succeeded", 1500)
        assert (payment.captured, payment.amount_captured) == (True, 1500)
        assert AuditLog.objects.get(action="payment.captured").metadata["amount"] == 1500
    webhooks_arrive()
    assert today_rollup(acme).gross_volume == 1500


def test_capturing_more_than_authorised_is_refused(acme, owner_user, customer):
    save_card(acme, owner_user, customer)
    intent = charge(acme, owner_user, customer, amount=2000, capture=False)

    with pytest.raises(PaymentError) as refused:
        services.payment_capture(
            account=acme, livemode=False, payment_intent=intent, amount=2500, actor=owner_user
        )

    assert refused.value.param == "amount_to_capture"
    with scope(account=acme):
        assert PaymentIntent.objects.get().status == "requires_capture"


def test_an_authorisation_is_canceled(acme, owner_user, customer):
    save_card(acme, owner_user, customer)
    intent = charge(acme, owner_user, customer, capture=False)

    canceled = services.payment_cancel(
        account=acme,
        livemode=False,
        payment_intent=intent,
        reason="requested_by_customer",
        actor=owner_user,
    )

    assert canceled.status == "canceled"
    webhooks_arrive()
    with scope(account=acme):
        assert PaymentIntent.objects.get().status == "canceled"
        assert AuditLog.objects.filter(action="payment.canceled").exists()


def test_a_card_is_detached(acme, owner_user, customer):
    method = save_card(acme, owner_user, customer)
    assert method.customer == customer

    services.payment_method_detach(
        account=acme, livemode=False, payment_method=method, actor=owner_user
    )
    webhooks_arrive()

    with scope(account=acme):
        method.refresh_from_db()
        assert method.customer is None


def test_a_card_that_declines_on_attach_is_not_saved(acme, owner_user, customer):
    with pytest.raises(PaymentError) as declined:
        save_card(acme, owner_user, customer, "pm_card_chargeDeclined")

    assert declined.value.decline_code == "generic_decline"
    with scope(account=acme):
        assert not PaymentMethod.objects.filter(customer=customer).exists()


def test_a_customer_update_is_written_through(acme, owner_user, customer):
    services.customer_update(
        account=acme,
        livemode=False,
        customer=customer,
        changes={"name": "Jenny Rosen", "phone": "+15555550100"},
        actor=owner_user,
    )
    webhooks_arrive()

    with scope(account=acme):
        customer.refresh_from_db()
        assert (customer.name, customer.phone) == ("Jenny Rosen", "+15555550100")
        audit = AuditLog.objects.get(action="customer.updated")
        assert audit.metadata["changes"]["name"] == {"from": "Jenny", "to": "Jenny Rosen"}


def test_a_disputed_payment_is_mirrored_with_its_fee(acme, owner_user, customer):
    save_card(acme, owner_user, customer, "pm_card_createDispute")
    charge(acme, owner_user, customer, amount=3000)

    webhooks_arrive()

    with scope(account=acme):
        dispute = Dispute.objects.select_related("charge").get()
        assert dispute.charge.disputed is True
        assert (dispute.amount, dispute.reason) == (3000, "fraudulent")
        assert dispute.evidence_due_by is not None
        withdrawal = BalanceTransaction.objects.get(source_stripe_id=dispute.stripe_id)
        assert (withdrawal.amount, withdrawal.fee) == (-3000, 1500)
    day = today_rollup(acme)
    assert day.disputes == 1
    assert day.fees == 117 + 1500
    assert day.net_volume == (3000 - 117) + (-3000 - 1500)


def test_funds_become_available_when_the_clock_passes_available_on(
    connected, acme, owner_user, customer
):
    save_card(acme, owner_user, customer)
    charge(acme, owner_user, customer, amount=2000)
    webhooks_arrive()
    with scope(account=acme):
        transaction = BalanceTransaction.objects.get()
        assert transaction.status == "pending"

    sandbox_services.clock_advance(
        token_or_account=connected.secret_key(livemode=False).removeprefix("sk_test_sbx_"),
        to=transaction.available_on + timedelta(hours=1),
    )
    webhooks_arrive()

    with scope(account=acme):
        transaction.refresh_from_db()
        assert transaction.status == "available"
        assert Event.objects.filter(type="balance.available", status="processed").exists()
    assert transaction.available_on > timezone.now()


def test_a_replayed_event_stream_counts_nothing_twice(acme, owner_user, customer):
    save_card(acme, owner_user, customer)
    intent = charge(acme, owner_user, customer, amount=2000)
    with scope(account=acme):
        payment = Charge.objects.get()
    services.payment_refund(
        account=acme, livemode=False, charge=payment, amount=700, actor=owner_user
    )
    webhooks_arrive()
    before = today_rollup(acme).measures()

    replayed = workbench_services.events_replay(account=acme)
    webhooks_arrive()

    assert replayed > 3
    assert today_rollup(acme).measures() == before
    assert before["gross_volume"] == 2000 and before["refunds"] == 700
    with scope(account=acme):
        assert PaymentIntent.objects.get().stripe_id == intent.stripe_id


def test_a_payout_is_followed_until_paid(connected, stripe, acme, owner_user, customer):
    save_card(acme, owner_user, customer)
    charge(acme, owner_user, customer, amount=10_000)
    webhooks_arrive()
    with scope(account=acme):
        available_on = BalanceTransaction.objects.get().available_on
    token = connected.secret_key(livemode=False).removeprefix("sk_test_sbx_")
    sandbox_services.automatic_payouts_set(token_or_account=token, enabled=False)
    sandbox_services.clock_advance(token_or_account=token, to=available_on + timedelta(hours=1))
    created = stripe.v1.payouts.create(params={"amount": 5000, "currency": "usd"})
    webhooks_arrive()
    with scope(account=acme):
        assert Payout.objects.get().status == "pending"

    sandbox_services.clock_advance(token_or_account=token, to=available_on + timedelta(days=4))
    webhooks_arrive()

    with scope(account=acme):
        payout = Payout.objects.get()
        assert (payout.stripe_id, payout.status, payout.amount) == (created.id, "paid", 5000)
        assert payout.automatic is False
