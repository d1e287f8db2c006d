"""seed_bench on a small scale: the bulk rows are consistent the way the handlers' are."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scope, scopes_disabled

from dashboard.models import Account
from payments.models import BalanceTransaction, Charge, Customer, PaymentIntent, Payout, Refund
from reporting.handlers import NOT_SALES, local_day
from reporting.models import DailyRollup
from sandbox import bench_data

pytestmark = pytest.mark.django_db

TARGET = 5000


@pytest.fixture
def figures():
    return bench_data.build(
        balance_transactions=TARGET, days=90, neighbours=1, progress=lambda message: None
    )


@pytest.fixture
def large(figures):
    return Account.objects.get(slug=bench_data.LARGE_SLUG)


def test_it_writes_the_asked_number_of_balance_transactions(figures, large):
    with scope(account=large):
        count = BalanceTransaction.objects.count()
    assert TARGET - 5 <= count <= TARGET
    assert figures.raw_rows == count
    assert figures.rows_per_second > 0 and figures.raw_rows_per_second > 0
    assert figures.total_rows == sum(figures.rows.values())


def test_charges_intents_and_customers_point_at_each_other(large):
    with scope(account=large):
        charges = Charge.objects.select_related("payment_intent", "customer")
        assert charges.count() == PaymentIntent.objects.count()
        for charge in charges.filter(pk__in=charges.values("pk")[:300]):
            assert charge.payment_intent.stripe_id == charge.payment_intent_stripe_id
            assert charge.payment_intent.latest_charge_stripe_id == charge.stripe_id
            assert charge.customer.stripe_id == charge.customer_stripe_id
        assert Customer.objects.count() > 50


def test_fees_and_refunds_match_their_balance_transactions(large):
    with scope(account=large):
        transactions = {row.stripe_id: row for row in BalanceTransaction.objects.all()}
        for charge in Charge.objects.filter(status="succeeded"):
            own = transactions[charge.balance_transaction_stripe_id]
            assert (own.amount, own.fee, own.net) == (
                charge.amount,
                charge.fee,
                charge.amount - charge.fee,
            )
        refunded = defaultdict(int)
        for refund in Refund.objects.all():
            assert transactions[refund.balance_transaction_stripe_id].net == -refund.amount
            refunded[refund.charge_id] += refund.amount
        assert refunded
        for charge in Charge.objects.filter(pk__in=refunded):
            assert charge.amount_refunded == refunded[charge.pk]
        assert not Charge.objects.filter(status="failed", fee__isnull=False).exists()


def test_each_payout_is_the_sum_of_what_it_settled(large):
    with scope(account=large):
        payouts = list(Payout.objects.all())
        assert len(payouts) > 80
        for payout in payouts:
            settled = BalanceTransaction.objects.filter(payout_stripe_id=payout.stripe_id)
            own = settled.get(type="payout")
            assert own.amount == -payout.amount
            assert sum(row.net for row in settled.exclude(type="payout")) == payout.amount
        # What no payout took yet is what is pending, plus what became available today.
        unswept = BalanceTransaction.objects.filter(payout_stripe_id="")
        assert unswept.filter(status="pending").exists()


def test_daily_rollups_are_the_sums_of_each_day(large):
    with scope(account=large):
        expected = defaultdict(lambda: defaultdict(int))
        for charge in Charge.objects.all():
            day = expected[local_day(charge.created, large)]
            if charge.status == "succeeded":
                day["gross_volume"] += charge.amount_captured
                day["successful_payments"] += 1
            else:
                day["failed_payments"] += 1
        for refund in Refund.objects.all():
            expected[local_day(refund.created, large)]["refunds"] += refund.amount
        for row in BalanceTransaction.objects.exclude(type__in=NOT_SALES):
            day = expected[local_day(row.created, large)]
            day["net_volume"] += row.net
            day["fees"] += row.fee
        for customer in Customer.objects.all():
            expected[local_day(customer.created, large)]["new_customers"] += 1
        stored = {rollup.day: rollup for rollup in DailyRollup.objects.all()}
        assert set(stored) == set(expected)
        for day, measures in expected.items():
            for name, value in measures.items():
                assert getattr(stored[day], name) == value, (day, name)


def test_the_neighbour_is_a_tenant_of_its_own(large):
    neighbour = Account.objects.get(slug=bench_data.NEIGHBOURS[0][0])
    with scope(account=neighbour):
        currencies = set(BalanceTransaction.objects.values_list("currency", flat=True))
        assert currencies == {"eur"}
        assert BalanceTransaction.objects.count() >= 500
    with scope(account=large):
        assert set(BalanceTransaction.objects.values_list("currency", flat=True)) == {"usd"}


def test_it_refuses_to_build_twice_unless_reset(figures, large):
    with scopes_disabled():
        before = BalanceTransaction.objects.count()
    with pytest.raises(CommandError, match="exist already"):
        call_command("seed_bench", "--balance-transactions", "1000", "--days", "30")
    with scopes_disabled():
        assert BalanceTransaction.objects.count() == before
    call_command(
        "seed_bench", "--balance-transactions", "1000", "--days", "30", "--neighbours", "0",
        "--reset",
    )  # fmt: skip
    with scopes_disabled():
        assert BalanceTransaction.objects.count() <= 1000
        assert not Account.objects.filter(slug=bench_data.NEIGHBOURS[0][0]).exists()
