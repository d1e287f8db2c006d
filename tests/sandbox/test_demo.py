"""`seed_demo --scale small` end to end: the sandbox, signed webhooks, the drain, the mirror.

The seed runs once for the module (committed, like `make demo` does) and is deleted after;
each test reads it inside its own transaction, so the tests that seed again (--reset) roll
back to the module's seed.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
import stripe
from django.core.management import CommandError, call_command
from django.db.models import Max, Min, Sum
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from dashboard.models import Account, User
from payments.models import (
    BalanceTransaction,
    Charge,
    Customer,
    Dispute,
    Payout,
    Refund,
    TopUp,
)
from payments.selectors_balances import balance_summary, payout_transactions
from reporting.handlers import COUNTED_REFUND_STATUSES, local_day
from reporting.models import DailyRollup
from sandbox import demo
from workbench.client import stripe_client
from workbench.models import Event

SEED = 7
MODELS = [Customer, Charge, Refund, Dispute, BalanceTransaction, Payout, TopUp, DailyRollup]


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", "--scale", "small", "--seed", str(SEED))
        yield {spec["slug"]: Account.objects.get(slug=spec["slug"]) for spec in demo.ACCOUNTS}
        demo.delete_demo()


@pytest.fixture
def acme(seeded, db):
    return seeded["acme"]


@pytest.fixture
def globex(seeded, db):
    return seeded["globex"]


def counts() -> dict[str, int]:
    with scopes_disabled():
        return {model.__name__: model.objects.count() for model in MODELS}


def figures(account: Account) -> dict:
    """What a rerun with the same seed must reproduce: counts and amounts, not ids."""
    with scope(account=account):
        result = {}
        for livemode in (False, True):
            result[livemode] = {
                "charges": sorted(
                    Charge.objects.filter(livemode=livemode).values_list(
                        "amount", "status", "amount_refunded", "decline_code", "card_brand"
                    )
                ),
                "refunds": sorted(
                    Refund.objects.filter(livemode=livemode).values_list("amount", "reason")
                ),
                "disputes": sorted(
                    Dispute.objects.filter(livemode=livemode).values_list("amount", "status")
                ),
                "payouts": sorted(
                    Payout.objects.filter(livemode=livemode).values_list("amount", "status")
                ),
                "customers": Customer.objects.filter(livemode=livemode).count(),
            }
        return result


def test_every_event_reached_the_mirror(seeded, db):
    with scopes_disabled():
        assert Event.objects.count() > 500
        assert not Event.objects.exclude(status__in=["processed", "ignored"]).exists()


def test_both_accounts_have_a_history_in_both_modes(acme, globex):
    for account, currency in ((acme, "usd"), (globex, "eur")):
        with scope(account=account):
            for livemode in (False, True):
                charges = Charge.objects.filter(livemode=livemode)
                assert charges.filter(status="succeeded").exists()
                assert set(charges.values_list("currency", flat=True)) == {currency}
                assert Customer.objects.filter(livemode=livemode).exists()


def test_acme_live_has_what_a_real_year_has(acme):
    with scope(account=acme):
        live = {"livemode": True, "stripe_account": ""}  # the platform's own rows
        assert Charge.objects.filter(**live, status="failed").exclude(decline_code="").exists()
        assert len(set(Charge.objects.filter(**live).values_list("card_brand", flat=True))) >= 2
        assert Refund.objects.filter(**live).exists()
        assert Dispute.objects.filter(**live).exists()
        assert TopUp.objects.filter(**live).exists()
        assert Payout.objects.filter(**live, automatic=True, status="paid").exists()
        failed = Payout.objects.get(**live, status="failed")
        assert failed.failure_code == "account_closed"
        span = Charge.objects.filter(**live).aggregate(first=Min("created"), last=Max("created"))
        # Dated in the past by the test clock, over the scale's three weeks.
        assert (timezone.now() - span["first"]).days >= 19
        assert (span["last"] - span["first"]).days >= 15


def mirrored_balances(account: Account, livemode: bool) -> tuple[dict, dict]:
    """(what the Balances page shows, the sums of the mirrored balance transactions)."""
    with scope(account=account):
        shown = {
            (row.currency, status): getattr(row, status)
            for row in balance_summary(account=account, livemode=livemode)
            for status in ("available", "pending")
        }
        summed = defaultdict(int)
        for currency, status, net in BalanceTransaction.objects.filter(
            livemode=livemode, stripe_account=""
        ).values_list("currency", "status", "net"):
            summed[(currency, status)] += net
    return shown, summed


def test_the_balance_page_shows_the_sum_of_the_balance_transactions_by_status(acme, globex):
    for account in (acme, globex):
        for livemode in (False, True):
            shown, summed = mirrored_balances(account, livemode)
            assert shown and shown == {key: summed[key] for key in shown}
    # Acme sells every day, and the last two days' payments are not available yet.
    shown, _ = mirrored_balances(acme, True)
    assert shown[("usd", "pending")] > 0


def test_the_mirrored_balance_is_the_one_stripe_reports(acme, globex):
    for account in (acme, globex):
        for livemode in (False, True):
            shown, _ = mirrored_balances(account, livemode)
            stripe_balance = stripe_client(account=account, livemode=livemode).v1.balance.retrieve()
            at_stripe = {
                (entry.currency, status): entry.amount
                for status in ("available", "pending")
                for entry in getattr(stripe_balance, status)
            }
            assert shown == at_stripe, (account.slug, livemode)


def test_each_paid_payout_is_the_sum_of_what_it_settled(acme, globex):
    checked = 0
    for account in (acme, globex):
        with scope(account=account):
            for payout in Payout.objects.filter(automatic=True, status="paid", stripe_account=""):
                settled = payout_transactions(account=account, payout=payout)
                own = [row for row in settled if row.type == "payout"]
                others = [row for row in settled if row.type != "payout"]
                assert len(own) == 1
                assert own[0].amount == -payout.amount
                assert sum(row.net for row in others) == payout.amount
                checked += 1
    assert checked >= 10


def test_daily_rollups_are_the_sums_of_the_charges_and_refunds_of_each_day(acme, globex):
    for account in (acme, globex):
        with scope(account=account):
            for livemode in (False, True):
                expected = defaultdict(lambda: defaultdict(int))
                for charge in Charge.objects.filter(livemode=livemode, stripe_account=""):
                    day = expected[local_day(charge.created, account)]
                    if charge.status == "succeeded":
                        day["gross_volume"] += charge.amount_captured if charge.captured else 0
                        day["successful_payments"] += 1 if charge.paid else 0
                    elif charge.status == "failed":
                        day["failed_payments"] += 1
                for refund in Refund.objects.filter(
                    livemode=livemode, status__in=COUNTED_REFUND_STATUSES
                ):
                    expected[local_day(refund.created, account)]["refunds"] += refund.amount
                stored = {
                    rollup.day: rollup for rollup in DailyRollup.objects.filter(livemode=livemode)
                }
                for day, measures in expected.items():
                    for name, value in measures.items():
                        assert getattr(stored[day], name) == value, (account.slug, day, name)
                gross = Charge.objects.filter(livemode=livemode, status="succeeded").aggregate(
                    total=Sum("amount_captured")
                )["total"]
                assert sum(rollup.gross_volume for rollup in stored.values()) == gross


def test_each_account_sees_only_its_own_data(acme, globex):
    seen = {}
    for account in (acme, globex):
        with scope(account=account):
            seen[account.slug] = {
                model.__name__: set(model.objects.values_list("account_id", flat=True))
                for model in MODELS
            }
            charges = set(Charge.objects.values_list("stripe_id", flat=True))
        seen[account.slug]["charges"] = charges
        assert all(
            owners == {account.pk}
            for name, owners in seen[account.slug].items()
            if name in {model.__name__ for model in MODELS} and owners
        )
    assert not seen["acme"]["charges"] & seen["globex"]["charges"]
    one_of_acme = next(iter(seen["acme"]["charges"]))
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client(account=globex, livemode=True).v1.charges.retrieve(one_of_acme)


def test_test_mode_and_live_mode_differ(acme):
    with scope(account=acme):
        test = set(Charge.objects.filter(livemode=False).values_list("stripe_id", flat=True))
        live = set(Charge.objects.filter(livemode=True).values_list("stripe_id", flat=True))
        test_gross = DailyRollup.objects.filter(livemode=False).aggregate(Sum("gross_volume"))
        live_gross = DailyRollup.objects.filter(livemode=True).aggregate(Sum("gross_volume"))
    assert test and live and not test & live
    assert len(live) > 3 * len(test)
    assert test_gross != live_gross


def test_it_refuses_to_seed_twice_and_changes_nothing(seeded, db):
    before = counts()
    with pytest.raises(CommandError, match="already seeded"):
        call_command("seed_demo", "--scale", "small")
    assert counts() == before
    with scopes_disabled():
        assert User.objects.filter(email__endswith="@demo.paydesk.test").count() == 4


def test_the_same_seed_makes_the_same_history(acme, globex):
    before = {account.slug: figures(account) for account in (acme, globex)}
    call_command("seed_demo", "--scale", "small", "--seed", str(SEED), "--reset")
    again = {slug: figures(Account.objects.get(slug=slug)) for slug in before}
    assert again == before
    assert before["acme"][True]["charges"]
