"""The payments batch handlers: a batch of events gives the mirror the single-object
`store_*` path gives, whatever the order; references resolve within and across batches;
balance transactions known only by id are read once per batch for the missing ones."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from payments import handlers
from payments.models import (
    BalanceTransaction,
    Charge,
    Customer,
    Dispute,
    PaymentIntent,
    PaymentMethod,
    Refund,
)
from tests.payments import stripe_objects as so
from tests.payments.stripe_objects import FakeEvent, at
from workbench.dispatch import dispatch

pytestmark = pytest.mark.django_db

MIRRORS = (Customer, PaymentMethod, PaymentIntent, Charge, Refund, Dispute, BalanceTransaction)
IGNORED = {"id", "account", "source_sequence", "customer", "payment_intent", "charge"}


@pytest.fixture
def process():
    """Run a list of events as one batch, the way the workbench processor does."""

    def run(events) -> None:
        with scope(account=events[0].account), transaction.atomic():
            dispatch(events)

    return run


def mirror_state(account) -> dict:
    """Every mirror row by Stripe id, and its foreign keys as Stripe ids."""
    state = {}
    with scope(account=account):
        for model in MIRRORS:
            names = [f.attname for f in model._meta.concrete_fields if f.name not in IGNORED]
            for row in model.objects.all():
                values = {name: getattr(row, name) for name in names}
                for fk in ("customer", "payment_intent", "charge"):
                    if hasattr(row, f"{fk}_id"):
                        target = getattr(row, fk)
                        values[fk] = target.stripe_id if target else None
                values.pop("account_id", None)
                state[(model.__name__, row.stripe_id)] = values
    return state


def stream(account):
    """Customers, payment methods, intents, charges (pending then succeeded, one failed),
    refunds (created, then failed), a dispute: in Stripe's order, one second apart."""
    events, second = [], 0

    def add(kind, obj):
        nonlocal second
        second += 1
        events.append(FakeEvent(account, kind, obj, at(second)))

    txn = so.balance_transaction
    for n in range(1, 4):
        cus, pi, ch = f"cus_{n}", f"pi_{n}", f"ch_{n}"
        add("customer.created", so.customer(id=cus))
        add("payment_method.attached", so.payment_method(id=f"pm_{n}", customer=cus))
        add("payment_intent.created", so.payment_intent(id=pi, customer=cus, status="processing"))
        add("charge.pending", so.charge(id=ch, customer=cus, payment_intent=pi, status="pending"))
        add(
            "charge.succeeded",
            so.charge(
                id=ch,
                customer=cus,
                payment_intent=pi,
                amount=1000 * n,
                balance_transaction=txn(id=f"txn_{n}", amount=1000 * n, fee=30 * n, source=ch),
            ),
        )
        add("payment_intent.succeeded", so.payment_intent(id=pi, customer=cus, latest_charge=ch))
        add("customer.updated", so.customer(id=cus, email=f"c{n}@example.com"))
    refund = so.refund(id="re_1", charge="ch_1", amount=300)
    add("refund.created", {**refund, "balance_transaction": txn(id="txn_r1", amount=-300, fee=0)})
    add(
        "charge.refunded",
        so.charge(
            id="ch_1",
            customer="cus_1",
            payment_intent="pi_1",
            amount_refunded=300,
            balance_transaction="txn_1",
            refunds={"data": [{**refund, "balance_transaction": "txn_r1"}]},
        ),
    )
    add("refund.failed", so.refund(id="re_2", charge="ch_2", amount=100, status="failed"))
    add("charge.failed", so.charge(id="ch_9", status="failed"))
    withdrawal = txn(id="txn_dp", amount=-2000, fee=1500, source="dp_1", type="adjustment")
    add("charge.dispute.created", so.dispute(charge="ch_2", balance_transactions=[withdrawal]))
    add("customer.deleted", {"id": "cus_3", "object": "customer", "deleted": True})
    return events


def test_a_batch_gives_the_mirror_of_the_events_one_by_one(acme, globex, deliver, process):
    for event in stream(globex):
        deliver(event)

    shuffled = stream(acme)
    random.Random(5).shuffle(shuffled)
    process(shuffled + shuffled[:4])  # with duplicates

    expected, actual = mirror_state(globex), mirror_state(acme)
    assert actual.keys() == expected.keys()
    for key in expected:
        assert actual[key] == expected[key], key
    with scope(account=acme):
        charge = Charge.objects.get(stripe_id="ch_1")
        assert (charge.status, charge.amount_refunded, charge.fee) == ("succeeded", 300, 30)
        assert charge.customer.stripe_id == "cus_1" and charge.payment_intent.stripe_id == "pi_1"
        assert Charge.objects.get(stripe_id="ch_2").disputed is True
        assert Customer.objects.get(stripe_id="cus_3").deleted is True


def test_shuffled_versions_of_one_charge_in_a_batch_land_the_newest(acme, process, in_acme):
    versions = [
        FakeEvent(acme, "charge.pending", so.charge(status="pending"), at(0), sequence=1),
        FakeEvent(acme, "charge.failed", so.charge(status="failed"), at(5), sequence=2),
        FakeEvent(acme, "charge.updated", so.charge(status="pending"), at(9), sequence=3),
        FakeEvent(acme, "charge.succeeded", so.charge(status="succeeded"), at(9), sequence=4),
        FakeEvent(acme, "charge.updated", so.charge(status="pending"), at(9), sequence=4 - 1),
    ]
    for seed in range(4):
        shuffled = versions[:]
        random.Random(seed).shuffle(shuffled)
        process(shuffled)
        assert Charge.objects.get().status == "succeeded"
    assert Charge.objects.count() == 1


def test_references_resolve_within_a_batch_whatever_the_order(acme, process, in_acme):
    process(
        [
            FakeEvent(acme, "refund.created", so.refund(charge="ch_1"), at(4)),
            FakeEvent(
                acme, "charge.succeeded", so.charge(customer="cus_1", payment_intent="pi_1"), at(3)
            ),
            FakeEvent(acme, "payment_intent.created", so.payment_intent(customer="cus_1"), at(1)),
            FakeEvent(acme, "payment_method.attached", so.payment_method(customer="cus_1"), at(2)),
            FakeEvent(acme, "customer.created", so.customer(), at(0)),
        ]
    )

    customer = Customer.objects.get()
    charge = Charge.objects.get()
    assert (charge.customer, charge.payment_intent) == (customer, PaymentIntent.objects.get())
    assert PaymentIntent.objects.get().customer == customer
    assert PaymentMethod.objects.get().customer == customer
    assert Refund.objects.get().charge == charge


def test_references_are_filled_late_across_batches(acme, process, in_acme):
    process(
        [
            FakeEvent(
                acme, "charge.succeeded", so.charge(customer="cus_1", payment_intent="pi_1"), at(3)
            ),
            FakeEvent(acme, "charge.dispute.created", so.dispute(charge="ch_2"), at(5)),
            FakeEvent(acme, "payment_method.attached", so.payment_method(customer="cus_1"), at(2)),
        ]
    )
    assert Charge.objects.get().customer is None

    process(
        [
            FakeEvent(acme, "customer.created", so.customer(), at(0)),
            FakeEvent(acme, "payment_intent.created", so.payment_intent(customer="cus_1"), at(1)),
        ]
    )
    process([FakeEvent(acme, "charge.succeeded", so.charge(id="ch_2"), at(4))])

    customer, charge = Customer.objects.get(), Charge.objects.get(stripe_id="ch_1")
    assert (charge.customer, charge.payment_intent) == (customer, PaymentIntent.objects.get())
    assert PaymentMethod.objects.get().customer == customer
    assert Dispute.objects.get().charge == Charge.objects.get(stripe_id="ch_2")


def test_missing_balance_transactions_are_read_once_per_batch(acme, process, in_acme, monkeypatch):
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
    process([FakeEvent(acme, "charge.succeeded", so.charge(balance_transaction="txn_0"), at(0))])
    assert reads == ["txn_0"]

    events = [
        FakeEvent(
            acme, "charge.succeeded", so.charge(id=f"ch_{n}", balance_transaction=f"txn_{n}"), at(1)
        )
        for n in range(6)
    ]
    events.append(
        FakeEvent(acme, "charge.updated", so.charge(id="ch_1", balance_transaction="txn_1"), at(2))
    )
    with CaptureQueriesContext(connection) as queries:
        process(events)

    assert reads == ["txn_0", "txn_1", "txn_2", "txn_3", "txn_4", "txn_5"]
    assert dict(Charge.objects.values_list("stripe_id", "fee")) == {f"ch_{n}": 59 for n in range(6)}
    # A fixed number of statements, whatever the number of events.
    assert len(queries) < 25


def test_a_batch_costs_a_few_statements_whatever_its_size(acme, process, in_acme):
    def batch(first, size):
        return [
            FakeEvent(
                acme,
                "charge.succeeded",
                so.charge(
                    id=f"ch_{n}",
                    balance_transaction=so.balance_transaction(id=f"txn_{n}", source=f"ch_{n}"),
                ),
                at(n),
            )
            for n in range(first, first + size)
        ]

    with CaptureQueriesContext(connection) as small:
        process(batch(0, 2))
    with CaptureQueriesContext(connection) as large:
        process(batch(100, 200))

    assert len(large) == len(small)
    assert Charge.objects.count() == 202 and BalanceTransaction.objects.count() == 202
