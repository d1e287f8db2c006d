"""Financial reports: the balance summary reconciles to the balance transactions exactly
(per currency, in the account's time zone), and payout reconciliation itemises payouts."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.db.models import Sum
from django_scopes import scope, scopes_disabled

from dashboard.models import Account, Membership
from payments.models import BalanceTransaction
from reporting import exports, reports
from reporting.models import ReportRun
from sandbox import services as sandbox_services
from tests.payments.sandbox_support import webhooks_arrive
from tests.reporting.support import at, balance_transaction, payout, read_csv

pytestmark = pytest.mark.django_db


def period(account, start, end):
    return reports.Period(date.fromisoformat(start), date.fromisoformat(end), account.timezone)


def net_sum(account, *, livemode=True, **filters) -> int:
    with scope(account=account):
        total = BalanceTransaction.objects.filter(
            account=account, livemode=livemode, **filters
        ).aggregate(total=Sum("net"))["total"]
    return total or 0


@pytest.fixture
def history(acme):
    """March 2026 in USD and EUR, with rows just outside the period on both sides."""
    rows = [
        ("txn_before", 10_000, 300, "usd", "charge", at("2026-02-28", 23)),
        ("txn_c1", 5_000, 175, "usd", "charge", at("2026-03-01", 0)),
        ("txn_c2", 2_500, 103, "usd", "charge", at("2026-03-15")),
        ("txn_r1", -1_000, 0, "usd", "refund", at("2026-03-16")),
        ("txn_d1", -2_500, 1_500, "usd", "dispute", at("2026-03-20")),
        ("txn_po", -8_000, 0, "usd", "payout", at("2026-03-25")),
        ("txn_adj", 42, 0, "usd", "adjustment", at("2026-03-31", 23)),
        ("txn_after", 9_999, 0, "usd", "charge", at("2026-04-01", 0)),
        ("txn_eur", 7_000, 230, "eur", "charge", at("2026-03-10")),
        ("txn_eur_po", -3_000, 0, "eur", "payout", at("2026-03-11")),
    ]
    for stripe_id, amount, fee, currency, kind, created in rows:
        balance_transaction(
            acme, stripe_id, amount=amount, fee=fee, currency=currency, type=kind, created=created
        )
    balance_transaction(
        acme, "txn_test_mode", amount=123_456, livemode=False, created=at("2026-03-05")
    )
    return rows


def test_the_balance_summary_reconciles_to_the_balance_transactions(acme, history):
    march = period(acme, "2026-03-01", "2026-03-31")
    with scope(account=acme):
        usd, eur = reports.balance_summary(account=acme, livemode=True, period=march)

    assert (usd.currency, eur.currency) == ("usd", "eur")
    assert (
        usd.starting == 10_000 - 300 == net_sum(acme, currency="usd", created__lt=march.starts_at)
    )
    assert {line.category: line.net for line in usd.activity} == {
        "adjustment": 42,
        "charge": 4_825 + 2_397,
        "dispute": -4_000,
        "refund": -1_000,
    }
    assert usd.payouts == 8_000 and usd.payout_count == 1
    assert usd.starting + usd.activity_net - usd.payouts == usd.ending
    assert usd.ending == net_sum(acme, currency="usd", created__lt=march.ends_at)
    assert eur.starting == 0
    assert eur.ending == 6_770 - 3_000 == net_sum(acme, currency="eur")


def test_periods_follow_the_account_time_zone(acme, history):
    # 2026-03-01 00:00 UTC is still February 28 in New York.
    acme.timezone = "America/New_York"
    acme.save()
    march = period(acme, "2026-03-01", "2026-03-31")
    with scope(account=acme):
        usd = reports.balance_summary(account=acme, livemode=True, period=march)[0]
    assert usd.starting == 9_700 + 4_825
    # April 1 00:00 UTC is March 31 evening in New York: it belongs to March there.
    assert usd.ending == net_sum(acme, currency="usd")


def test_the_balance_summary_page_shows_the_reconciled_figures(owner, acme, history):
    content = owner.get(
        f"/a/{acme.slug}/reports/balance-summary/?start=2026-03-01&end=2026-03-31"
    ).content.decode()
    usd = content.split('data-testid="summary-usd"', 1)[1].split("</section>", 1)[0]
    figures = dict(
        re.findall(r'data-testid="(starting|activity|payouts|ending)">(?:<strong>)?([^<]+)', usd)
    )
    assert figures == {
        "starting": "$97.00",
        "activity": "$22.64",
        "payouts": "−$80.00",
        "ending": "$39.64",
    }
    assert "Disputes" in usd and "Refunds" in usd
    assert "txn_test_mode" not in content and "$1,234.56" not in content


def test_the_itemised_csv_lists_the_period_activity(owner, acme, history, owner_user):
    with scope(account=acme):
        run = exports.export_create(
            account=acme,
            livemode=True,
            actor=owner_user,
            source_key="balance_activity",
            filters={"from": "2026-03-01", "to": "2026-03-31"},
            columns=["id", "category", "net", "currency"],
            metadata_keys=[],
            format="csv",
        )
    exports.export_execute(run_id=run.pk)
    run.refresh_from_db()
    rows = read_csv(owner.get(exports.download_url(run=run, account=acme)).getvalue())
    ids = [row[0] for row in rows[1:]]
    assert ids == [
        "txn_c1",
        "txn_eur",
        "txn_eur_po",
        "txn_c2",
        "txn_r1",
        "txn_d1",
        "txn_po",
        "txn_adj",
    ]
    usd_net = sum(int(row[2].replace(".", "")) for row in rows[1:] if row[3] == "usd")
    march = period(acme, "2026-03-01", "2026-03-31")
    with scope(account=acme):
        usd = reports.balance_summary(account=acme, livemode=True, period=march)[0]
    assert usd_net == usd.activity_net - usd.payouts


def test_payout_reconciliation_itemises_what_each_payout_settled(owner, acme, owner_user):
    payout(acme, "po_1", amount=6_000, created=at("2026-03-10"))
    balance_transaction(
        acme, "txn_a", amount=5_000, fee=175, payout="po_1", created=at("2026-03-08")
    )
    balance_transaction(
        acme, "txn_b", amount=1_200, fee=25, payout="po_1", created=at("2026-03-09")
    )
    balance_transaction(
        acme, "txn_po_1", amount=-6_000, type="payout", payout="po_1", created=at("2026-03-10")
    )
    balance_transaction(acme, "txn_unpaid", amount=900, created=at("2026-03-09"))
    payout(acme, "po_feb", amount=100, created=at("2026-02-10"))

    march = period(acme, "2026-03-01", "2026-03-31")
    with scope(account=acme):
        (line,) = reports.payout_reconciliation(account=acme, livemode=True, period=march)
    assert (line.payout.stripe_id, line.count, line.gross, line.fees, line.net) == (
        "po_1",
        2,
        6_200,
        200,
        6_000,
    )
    assert line.reconciles

    page = owner.get(
        f"/a/{acme.slug}/reports/payout-reconciliation/?start=2026-03-01&end=2026-03-31"
    ).content.decode()
    assert "po_1" in page and "Reconciled" in page and "po_feb" not in page

    with scope(account=acme):
        run = exports.export_create(
            account=acme,
            livemode=True,
            actor=owner_user,
            source_key="payout_reconciliation",
            filters=march.as_filters(),
            columns=["payout", "id", "amount", "fee", "net"],
            metadata_keys=[],
            format="csv",
        )
    exports.export_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ReportRun.Status.SUCCEEDED
    rows = read_csv(owner.get(exports.download_url(run=run, account=acme)).getvalue())
    assert rows[1:] == [
        ["po_1", "txn_a", "50.00", "1.75", "48.25"],
        ["po_1", "txn_b", "12.00", "0.25", "11.75"],
    ]


def test_the_itemised_csv_button_starts_an_export(owner, acme, history):
    response = owner.post(
        f"/a/{acme.slug}/reports/exports/new/",
        {
            "source": "balance_activity",
            "query": "from=2026-03-01&to=2026-03-31",
            "columns": ["id", "net"],
            "format": "csv",
        },
    )
    assert response.status_code == 302
    with scope(account=acme):
        run = ReportRun.objects.get()
    assert run.parameters["filters"] == {"from": "2026-03-01", "to": "2026-03-31"}


def test_view_only_members_read_reports_but_support_does_not(viewer, member_client, acme):
    assert viewer.get(f"/a/{acme.slug}/reports/balance-summary/").status_code == 200
    assert "Itemised CSV" not in viewer.get(f"/a/{acme.slug}/reports/").content.decode()
    from dashboard.roles import Role

    assert member_client(Role.SUPPORT).get(f"/a/{acme.slug}/reports/").status_code == 403


def test_the_summary_reconciles_on_sandbox_payments_refunds_and_payouts(
    connected,
    stripe,
    acme,
    owner_user,
):
    created = stripe.v1.customers.create(params={"email": "jo@example.com"})
    stripe.v1.payment_methods.attach("pm_card_visa", params={"customer": created.id})
    intents = [
        stripe.v1.payment_intents.create(
            params={
                "amount": amount,
                "currency": "usd",
                "customer": created.id,
                "payment_method": "pm_card_visa",
                "payment_method_types": ["card"],
                "confirm": True,
            }
        )
        for amount in (2_000, 3_500, 10_000)
    ]
    stripe.v1.refunds.create(params={"payment_intent": intents[1].id, "amount": 700})
    webhooks_arrive()
    token = connected.secret_key(livemode=False).removeprefix("sk_test_sbx_")
    with scope(account=acme):
        available_on = BalanceTransaction.objects.order_by("-available_on")[0].available_on
    # The automatic payout sweeps the available balance; its paid event links what it settled.
    sandbox_services.clock_advance(token_or_account=token, to=available_on + timedelta(days=5))
    webhooks_arrive()

    with scopes_disabled():
        account = Account.objects.get(pk=acme.pk)
        assert Membership.objects.filter(account=acme).exists()
    with scope(account=account):
        first = BalanceTransaction.objects.order_by("created")[0].created.date()
        last = BalanceTransaction.objects.order_by("-created")[0].created.date()
        assert BalanceTransaction.objects.filter(type="payout").exists()
        whole = reports.Period(first, last, account.timezone)
        (usd,) = reports.balance_summary(account=account, livemode=False, period=whole)
        # Split in two: the first half's ending balance is the second half's start.
        middle = first + (last - first) / 2
        early = reports.balance_summary(
            account=account, livemode=False, period=reports.Period(first, middle, account.timezone)
        )
        late = reports.balance_summary(
            account=account,
            livemode=False,
            period=reports.Period(middle + timedelta(days=1), last, account.timezone),
        )
    assert usd.starting == 0
    # The automatic payout swept everything that became available.
    assert usd.payouts == 15_500 - 540 - 700 == 14_260
    assert usd.ending == 0
    assert usd.starting + usd.activity_net - usd.payouts == usd.ending
    assert usd.ending == net_sum(account, livemode=False)
    assert early[0].ending == (late[0].starting if late else early[0].ending)
    charges = {line.category: line for line in usd.activity}
    assert charges["charge"].gross == 15_500 and charges["refund"].gross == -700
    with scope(account=account):
        (line,) = reports.payout_reconciliation(account=account, livemode=False, period=whole)
    assert (line.count, line.net, line.reconciles) == (4, 14_260, True)
