"""Batch rollups: a batch of events gives the daily rollups (and the stored contributions)
that the same events give one by one, whatever the order, with duplicates and replays
adding nothing."""

from __future__ import annotations

import random
from datetime import date

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from payments.models import Charge
from reporting.handlers import refresh_contribution
from reporting.models import ROLLUP_MEASURES, DailyRollup, RollupContribution
from tests.payments import stripe_objects as so
from tests.payments.stripe_objects import FakeEvent, at
from workbench.dispatch import dispatch, handlers_for

pytestmark = pytest.mark.django_db


def one_by_one(events) -> None:
    for event in events:
        with scope(account=event.account), transaction.atomic():
            for handler in handlers_for(event.type):
                handler(event)


def as_batches(events, size) -> None:
    for start in range(0, len(events), size):
        chunk = events[start : start + size]
        with scope(account=chunk[0].account), transaction.atomic():
            dispatch(chunk)


def rollups(account) -> dict:
    with scope(account=account):
        return {
            (r.livemode, r.currency, r.day): r.measures()
            for r in DailyRollup.objects.filter(account=account)
        }


def contributions(account) -> dict:
    """The stored contributions that add something (an object that stopped counting, a
    refund that failed, keeps a row of zeros or has none, depending on the order seen)."""
    with scope(account=account):
        return {
            (c.kind, c.stripe_id): (c.livemode, c.currency, c.day, c.measures())
            for c in RollupContribution.objects.filter(account=account)
            if any(c.measures().values())
        }


def stream(account, seed: int) -> list[FakeEvent]:
    """Several days of customers, charges (some pending first, some failing), partial
    refunds (one failing later), a dispute with its fee, in Stripe's order."""
    rng = random.Random(seed)
    events = []
    for n in range(40):
        second = n * 7919  # spread over several days
        events.append(
            FakeEvent(
                account, "customer.created", so.customer(id=f"cus_{n}", created=second), at(second)
            )
        )
        amount = rng.randrange(500, 5000)
        fee = amount * 29 // 1000 + 30
        charge_id = f"ch_{n}"
        if n % 5 == 0:
            events.append(
                FakeEvent(
                    account,
                    "charge.failed",
                    so.charge(id=charge_id, amount=amount, status="failed", created=second),
                    at(second + 1),
                )
            )
            continue
        if n % 3 == 0:
            events.append(
                FakeEvent(
                    account,
                    "charge.pending",
                    so.charge(id=charge_id, amount=amount, status="pending", created=second),
                    at(second + 1),
                )
            )
        txn = so.balance_transaction(id=f"txn_{n}", amount=amount, fee=fee, source=charge_id)
        events.append(
            FakeEvent(
                account,
                "charge.succeeded",
                so.charge(id=charge_id, amount=amount, created=second, balance_transaction=txn),
                at(second + 2),
            )
        )
        if n % 4 == 1:
            refund = so.refund(
                id=f"re_{n}", charge=charge_id, amount=amount // 2, created=second + 60
            )
            refund_txn = so.balance_transaction(
                id=f"txn_re_{n}", amount=-(amount // 2), fee=0, source=f"re_{n}", type="refund"
            )
            events.append(
                FakeEvent(
                    account,
                    "refund.created",
                    {**refund, "balance_transaction": refund_txn},
                    at(second + 60),
                )
            )
            if n % 8 == 1:
                events.append(
                    FakeEvent(
                        account,
                        "refund.failed",
                        {**refund, "status": "failed", "balance_transaction": refund_txn},
                        at(second + 90),
                    )
                )
        if n == 7:
            withdrawal = so.balance_transaction(
                id="txn_dp", amount=-amount, fee=1500, source="dp_1", type="adjustment"
            )
            events.append(
                FakeEvent(
                    account,
                    "charge.dispute.created",
                    so.dispute(charge=charge_id, amount=amount, balance_transactions=[withdrawal]),
                    at(second + 120),
                )
            )
    return events


def test_batch_rollups_equal_per_event_rollups(acme, globex):
    globex.default_currency, globex.timezone = acme.default_currency, acme.timezone
    globex.save()
    one_by_one(stream(globex, seed=1))

    shuffled = stream(acme, seed=1)
    rng = random.Random(2)
    shuffled += rng.sample(shuffled, len(shuffled) // 10)
    rng.shuffle(shuffled)
    as_batches(shuffled, size=17)

    expected = rollups(globex)
    assert expected and rollups(acme) == expected
    assert contributions(acme) == contributions(globex)
    totals = {name: sum(day[name] for day in expected.values()) for name in ROLLUP_MEASURES}
    assert totals["new_customers"] == 40 and totals["failed_payments"] == 8
    assert totals["disputes"] == 1


def test_replaying_every_batch_adds_nothing(acme):
    events = stream(acme, seed=3)
    as_batches(events, size=50)
    before = rollups(acme)

    as_batches(list(reversed(events)), size=13)
    as_batches(events, size=len(events))

    assert rollups(acme) == before


def test_a_change_moves_the_totals_by_the_change_only(acme, in_acme):
    as_batches(
        [
            FakeEvent(acme, "charge.pending", so.charge(status="pending"), at(0)),
            FakeEvent(acme, "charge.succeeded", so.charge(id="ch_2", amount=700), at(1)),
        ],
        size=10,
    )
    day = rollups(acme)[(False, "usd", date(2025, 6, 15))]
    assert (day["successful_payments"], day["gross_volume"]) == (1, 700)

    as_batches(
        [
            FakeEvent(acme, "charge.succeeded", so.charge(), at(5)),
            FakeEvent(acme, "charge.failed", so.charge(id="ch_2", status="failed"), at(6)),
        ],
        size=10,
    )
    day = rollups(acme)[(False, "usd", date(2025, 6, 15))]
    assert (day["successful_payments"], day["failed_payments"], day["gross_volume"]) == (
        1,
        1,
        1000,
    )

    # The single-row entry point (the backfill's) agrees and adds nothing more.
    for charge in Charge.objects.all():
        refresh_contribution(charge, acme)
    assert rollups(acme)[(False, "usd", date(2025, 6, 15))] == day


def test_a_batch_of_rollups_costs_a_few_statements(acme, in_acme):
    def charges(first, size):
        return [
            FakeEvent(
                acme,
                "charge.succeeded",
                so.charge(
                    id=f"ch_{n}",
                    created=n * 3600,
                    balance_transaction=so.balance_transaction(id=f"txn_{n}", source=f"ch_{n}"),
                ),
                at(n * 3600),
            )
            for n in range(first, first + size)
        ]

    with CaptureQueriesContext(connection) as small:
        as_batches(charges(0, 2), size=500)
    with CaptureQueriesContext(connection) as large:
        as_batches(charges(100, 300), size=500)

    assert len(large) == len(small)
    assert sum(day["successful_payments"] for day in rollups(acme).values()) == 302
