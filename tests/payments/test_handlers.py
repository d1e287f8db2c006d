from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from payments import handlers
from payments.models import (
    BalanceTransaction,
    Charge,
    Customer,
    Dispute,
    PaymentIntent,
    PaymentMethod,
    Payout,
    Refund,
    TopUp,
)
from reporting.models import DailyRollup
from tests.payments import stripe_objects as so
from tests.payments.stripe_objects import FakeEvent, at
from workbench.dispatch import handlers_for

pytestmark = pytest.mark.django_db


def rollup(account, day=date(2025, 6, 15), currency="usd"):
    return DailyRollup.objects.get(account=account, livemode=False, currency=currency, day=day)


def test_an_update_before_the_create_keeps_the_update(acme, deliver, in_acme):
    deliver(FakeEvent(acme, "customer.updated", so.customer(email="new@example.com"), at(10)))
    deliver(FakeEvent(acme, "customer.created", so.customer(email="old@example.com"), at(0)))

    row = Customer.objects.get(stripe_id="cus_1")
    assert row.email == "new@example.com"
    assert row.data["email"] == "new@example.com"


def test_an_older_update_after_a_newer_one_keeps_the_newer(acme, deliver, in_acme):
    deliver(FakeEvent(acme, "charge.succeeded", so.charge(status="succeeded"), at(5)))
    deliver(FakeEvent(acme, "charge.pending", so.charge(status="pending"), at(2)))

    row = Charge.objects.get(stripe_id="ch_1")
    assert row.status == "succeeded"
    assert row.paid is True


def test_the_same_second_is_decided_by_arrival_order(acme, deliver, in_acme):
    deliver(FakeEvent(acme, "charge.pending", so.charge(status="pending"), at(5), sequence=10))
    deliver(FakeEvent(acme, "charge.succeeded", so.charge(status="succeeded"), at(5), sequence=11))
    deliver(FakeEvent(acme, "charge.pending", so.charge(status="pending"), at(5), sequence=10))

    assert Charge.objects.get(stripe_id="ch_1").status == "succeeded"


def test_a_duplicate_event_changes_nothing_and_counts_once(acme, deliver, in_acme):
    txn = so.balance_transaction(amount=1000, fee=59)
    event = FakeEvent(acme, "charge.succeeded", so.charge(balance_transaction=txn), at(0))
    deliver(event)
    deliver(event)
    deliver(FakeEvent(acme, "charge.succeeded", so.charge(balance_transaction=txn), at(0)))

    assert Charge.objects.count() == 1
    charge = Charge.objects.get()
    assert charge.fee == 59
    assert charge.balance_transaction_stripe_id == "txn_1"
    day = rollup(acme)
    assert (day.gross_volume, day.fees, day.net_volume, day.successful_payments) == (
        1000,
        59,
        941,
        1,
    )


def test_foreign_keys_are_filled_when_the_referenced_object_arrives(acme, deliver, in_acme):
    deliver(
        FakeEvent(
            acme, "charge.succeeded", so.charge(customer="cus_1", payment_intent="pi_1"), at(3)
        )
    )
    deliver(FakeEvent(acme, "charge.refund.updated", so.refund(charge="ch_2"), at(4)))
    charge = Charge.objects.get(stripe_id="ch_1")
    assert (charge.customer, charge.payment_intent) == (None, None)

    deliver(FakeEvent(acme, "customer.created", so.customer(), at(0)))
    deliver(FakeEvent(acme, "payment_intent.created", so.payment_intent(customer="cus_1"), at(1)))
    deliver(FakeEvent(acme, "charge.succeeded", so.charge(id="ch_2"), at(5)))

    charge.refresh_from_db()
    customer = Customer.objects.get(stripe_id="cus_1")
    intent = PaymentIntent.objects.get(stripe_id="pi_1")
    assert charge.customer == customer
    assert charge.payment_intent == intent
    assert intent.customer == customer
    assert Refund.objects.get(stripe_id="re_1").charge == Charge.objects.get(stripe_id="ch_2")


def test_a_fee_known_later_reaches_the_charge_and_the_rollup(acme, deliver, in_acme, monkeypatch):
    reads = []

    def retrieve(stripe_id, options=None):
        reads.append(stripe_id)
        return so.balance_transaction(id=stripe_id, amount=1000, fee=59)

    fake_client = SimpleNamespace(
        v1=SimpleNamespace(balance_transactions=SimpleNamespace(retrieve=retrieve))
    )
    monkeypatch.setattr(
        handlers.workbench_client, "stripe_client", lambda *, account, livemode: fake_client
    )

    deliver(FakeEvent(acme, "charge.succeeded", so.charge(balance_transaction="txn_9"), at(1)))
    deliver(FakeEvent(acme, "charge.updated", so.charge(balance_transaction="txn_9"), at(2)))

    assert reads == ["txn_9"]  # read once: a mirrored transaction is not fetched again
    assert Charge.objects.get().fee == 59
    day = rollup(acme)
    assert (day.gross_volume, day.fees, day.net_volume) == (1000, 59, 941)


def test_a_failed_then_retried_payment_counts_one_failure_and_one_success(acme, deliver, in_acme):
    deliver(FakeEvent(acme, "charge.failed", so.charge(id="ch_a", status="failed"), at(0)))
    deliver(FakeEvent(acme, "charge.failed", so.charge(id="ch_a", status="failed"), at(0)))
    deliver(FakeEvent(acme, "charge.succeeded", so.charge(id="ch_b"), at(1)))

    failed = Charge.objects.get(stripe_id="ch_a")
    assert (failed.failure_code, failed.decline_code) == ("card_declined", "generic_decline")
    day = rollup(acme)
    assert (day.failed_payments, day.successful_payments, day.gross_volume) == (1, 1, 1000)


def test_a_pending_charge_counts_when_it_succeeds(acme, deliver, in_acme):
    deliver(FakeEvent(acme, "charge.pending", so.charge(status="pending"), at(0)))
    assert not DailyRollup.objects.exists()

    deliver(FakeEvent(acme, "charge.succeeded", so.charge(), at(1)))
    assert rollup(acme).successful_payments == 1


def test_refunds_count_once_per_refund(acme, deliver, in_acme):
    deliver(FakeEvent(acme, "charge.succeeded", so.charge(), at(0)))
    refund = so.refund(amount=400)
    deliver(FakeEvent(acme, "refund.created", refund, at(60)))
    deliver(FakeEvent(acme, "refund.created", refund, at(60)))
    refunded = so.charge(amount_refunded=400, refunds={"data": [refund]})
    deliver(FakeEvent(acme, "charge.refunded", refunded, at(61)))

    assert Refund.objects.get().charge == Charge.objects.get()
    assert Charge.objects.get().amount_refunded == 400
    assert rollup(acme).refunds == 400


def test_a_failed_refund_stops_counting(acme, deliver, in_acme):
    deliver(FakeEvent(acme, "refund.created", so.refund(amount=400), at(60)))
    deliver(FakeEvent(acme, "refund.failed", so.refund(amount=400, status="failed"), at(70)))

    assert rollup(acme).refunds == 0


def test_a_dispute_marks_its_charge_and_counts(acme, deliver, in_acme):
    deliver(FakeEvent(acme, "charge.succeeded", so.charge(), at(0)))
    withdrawal = so.balance_transaction(
        id="txn_dp",
        amount=-1000,
        fee=1500,
        source="dp_1",
        type="adjustment",
        reporting_category="dispute",
    )
    created = so.dispute(balance_transactions=[withdrawal])
    deliver(FakeEvent(acme, "charge.dispute.created", created, at(120)))
    deliver(FakeEvent(acme, "charge.dispute.funds_withdrawn", created, at(121)))

    dispute = Dispute.objects.get()
    assert dispute.charge == Charge.objects.get()
    assert dispute.evidence_due_by == at(7 * 86400)
    assert Charge.objects.get().disputed is True
    assert BalanceTransaction.objects.get(stripe_id="txn_dp").net == -2500
    day = rollup(acme)
    assert (day.disputes, day.net_volume, day.fees) == (1, -2500, 1500)


def test_rollup_days_follow_the_account_time_zone(acme, deliver, in_acme):
    acme.timezone = "America/Los_Angeles"
    acme.save()
    # 2025-06-16 03:00 UTC is still the 15th in California.
    late = so.charge(created=(11 * 3600 + 53 * 60 + 20))
    deliver(FakeEvent(acme, "charge.succeeded", late, at(100_000)))

    assert rollup(acme, day=date(2025, 6, 15)).gross_volume == 1000
    assert not DailyRollup.objects.filter(day=date(2025, 6, 16)).exists()


def test_new_customers_count_once_even_when_updated_or_deleted(acme, deliver, in_acme):
    deliver(FakeEvent(acme, "customer.created", so.customer(), at(0)))
    deliver(FakeEvent(acme, "customer.created", so.customer(), at(0)))
    deliver(FakeEvent(acme, "customer.deleted", so.customer(deleted=True), at(9)))

    assert Customer.objects.get().deleted is True
    assert rollup(acme).new_customers == 1


def test_a_detached_payment_method_leaves_its_customer(acme, deliver, in_acme):
    deliver(FakeEvent(acme, "customer.created", so.customer(), at(0)))
    deliver(FakeEvent(acme, "payment_method.attached", so.payment_method(customer="cus_1"), at(1)))
    method = PaymentMethod.objects.get()
    assert method.customer == Customer.objects.get()
    assert (method.card_brand, method.card_last4, method.card_exp_year) == ("visa", "4242", 2030)

    deliver(FakeEvent(acme, "payment_method.detached", so.payment_method(customer=None), at(2)))
    method.refresh_from_db()
    assert method.customer is None
    assert method.customer_stripe_id == ""


def test_funds_become_available_on_balance_available(acme, deliver, in_acme):
    txn = so.balance_transaction(available_on=so.T0 + 3600)
    later = so.balance_transaction(id="txn_2", available_on=so.T0 + 10 * 86400)
    deliver(FakeEvent(acme, "charge.succeeded", so.charge(balance_transaction=txn), at(0)))
    deliver(
        FakeEvent(acme, "charge.succeeded", so.charge(id="ch_2", balance_transaction=later), at(0))
    )
    deliver(FakeEvent(acme, "balance.available", {"object": "balance"}, at(7200)))

    statuses = dict(BalanceTransaction.objects.values_list("stripe_id", "status"))
    assert statuses == {"txn_1": "available", "txn_2": "pending"}
    assert BalanceTransaction.objects.get(stripe_id="txn_1").data["status"] == "available"


def test_payouts_and_topups_follow_their_lifecycle(acme, deliver, in_acme):
    # A manual payout: an automatic one, once paid, also makes the Balances handler ask
    # Stripe which transactions it settled, which needs a connection this test lacks.
    deliver(FakeEvent(acme, "payout.created", so.payout(status="pending", automatic=False), at(0)))
    deliver(FakeEvent(acme, "payout.paid", so.payout(status="paid", automatic=False), at(50)))
    deliver(
        FakeEvent(acme, "payout.updated", so.payout(status="in_transit", automatic=False), at(20))
    )
    deliver(FakeEvent(acme, "topup.succeeded", so.topup(status="succeeded"), at(5)))

    assert Payout.objects.get().status == "paid"
    assert TopUp.objects.get().status == "succeeded"


def test_mirror_rows_never_hold_a_card_number(acme, deliver, in_acme):
    deliver(FakeEvent(acme, "payment_method.attached", so.payment_method(), at(1)))
    field_names = {f.name for f in PaymentMethod._meta.get_fields()}
    assert not {"number", "card_number", "cvc"} & field_names


def test_rollup_handlers_run_after_the_mirror_handlers():
    for event_type in ("charge.succeeded", "refund.created", "charge.dispute.created"):
        found = [f"{h.__module__}.{h.__name__}" for h in handlers_for(event_type)]
        mirror = next(i for i, name in enumerate(found) if name.startswith("payments."))
        report = next(i for i, name in enumerate(found) if name.startswith("reporting."))
        assert mirror < report, found


def test_events_of_a_connected_account_keep_it(acme, deliver, in_acme):
    deliver(FakeEvent(acme, "customer.created", so.customer(), at(0), connected_account="acct_9"))
    assert Customer.objects.get().stripe_account == "acct_9"
