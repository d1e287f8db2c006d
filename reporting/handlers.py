"""Keeping the daily rollups current, in the same transaction as the mirror writes.

Registered from ReportingConfig.ready(), which runs after the payments app's: the dispatcher
calls handlers in registration order, so by the time these run the event's objects are in
the mirror. They read the mirror rows, never the event, so out-of-order events end with the
newest state (see reporting.models for why replays add nothing).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Model

from dashboard.models import Account
from payments.mirroring import stripe_id_of
from payments.models import BalanceTransaction, Charge, Customer, Dispute, Refund
from payments.sync import on_page_stored
from reporting.models import ROLLUP_MEASURES, DailyRollup, RollupContribution
from workbench.dispatch import handles

# Balance transactions that move money in or out of the balance without being sales:
# they count neither in net volume nor in fees.
NOT_SALES = frozenset(
    {
        "payout",
        "payout_cancel",
        "payout_failure",
        "payout_reversal",
        "payout_minimum_balance_hold",
        "payout_minimum_balance_release",
        "topup",
        "topup_reversal",
        "transfer",
        "transfer_cancel",
        "transfer_failure",
        "transfer_refund",
    }
)
COUNTED_REFUND_STATUSES = frozenset({"succeeded", "pending", "requires_action"})


def local_day(moment: datetime, account: Account) -> date:
    try:
        zone = ZoneInfo(account.timezone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).date()


def contribution_of(row: Model, account: Account) -> tuple[str, dict[str, int]]:
    """(currency, measures) that one mirror row adds to its day."""
    measures = dict.fromkeys(ROLLUP_MEASURES, 0)
    if isinstance(row, Charge):
        if row.status == "succeeded":
            measures["gross_volume"] = row.amount_captured if row.captured else 0
            measures["successful_payments"] = 1 if row.paid else 0
        elif row.status == "failed":
            measures["failed_payments"] = 1
        return row.currency, measures
    if isinstance(row, Refund):
        if row.status in COUNTED_REFUND_STATUSES:
            measures["refunds"] = row.amount
        return row.currency, measures
    if isinstance(row, BalanceTransaction):
        if row.type not in NOT_SALES:
            measures["net_volume"] = row.net
            measures["fees"] = row.fee
        return row.currency, measures
    if isinstance(row, Dispute):
        measures["disputes"] = 1
        return row.currency, measures
    if isinstance(row, Customer):
        # Customers have no currency: they count in the account's default currency.
        measures["new_customers"] = 1
        return account.default_currency.lower(), measures
    raise TypeError(f"{type(row).__name__} does not contribute to rollups")


def _add(account: Account, livemode: bool, currency: str, day: date, delta: dict[str, int]):
    """Adds `delta` to the day's row, creating it if needed: one statement, no race."""
    if not any(delta.values()):
        return
    table = DailyRollup._meta.db_table
    names = list(ROLLUP_MEASURES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (account_id, livemode, currency, day, updated, {", ".join(names)})
            VALUES (%s, %s, %s, %s, now(), {", ".join(["%s"] * len(names))})
            ON CONFLICT (account_id, livemode, currency, day) DO UPDATE SET
                updated = now(),
                {", ".join(f"{name} = {table}.{name} + EXCLUDED.{name}" for name in names)}
            """,  # noqa: S608 (table and column names are ours, every value is a parameter)
            [account.pk, livemode, currency, day, *(delta[name] for name in names)],
        )


def refresh_contribution(row: Model | None, account: Account) -> None:
    """Bring the rollups in line with the current state of one mirror row."""
    if row is None:
        return
    kind = row._meta.label_lower
    currency, measures = contribution_of(row, account)
    day = local_day(row.created, account)
    stored = (
        RollupContribution.objects.select_for_update()
        .filter(account=account, kind=kind, stripe_id=row.stripe_id)
        .first()
    )
    if stored is None:
        if not any(measures.values()):
            return
        RollupContribution.objects.create(
            account=account,
            livemode=row.livemode,
            kind=kind,
            stripe_id=row.stripe_id,
            currency=currency,
            day=day,
            **measures,
        )
        _add(account, row.livemode, currency, day, measures)
        return
    before = stored.measures()
    if (stored.livemode, stored.currency, stored.day) == (row.livemode, currency, day):
        _add(account, row.livemode, currency, day, {n: measures[n] - before[n] for n in before})
    else:
        _add(account, stored.livemode, stored.currency, stored.day, {n: -before[n] for n in before})
        _add(account, row.livemode, currency, day, measures)
    if before != measures or (stored.livemode, stored.currency, stored.day) != (
        row.livemode,
        currency,
        day,
    ):
        for name, value in measures.items():
            setattr(stored, name, value)
        stored.livemode, stored.currency, stored.day = row.livemode, currency, day
        stored.save()


def _mirrored(model: type[Model], account: Account, stripe_id: str) -> Model | None:
    if not stripe_id:
        return None
    return model.objects.filter(account=account, stripe_id=stripe_id).first()


def _refresh_balance_transactions(account: Account, *stripe_ids: str) -> None:
    for stripe_id in stripe_ids:
        refresh_contribution(_mirrored(BalanceTransaction, account, stripe_id), account)


CONTRIBUTING = (Charge, Refund, BalanceTransaction, Dispute, Customer)


@on_page_stored
def backfilled_rollups(account: Account, rows: list[Model]) -> None:
    """Objects stored by `stripe_sync` count like objects that came by webhook."""
    for row in rows:
        if isinstance(row, CONTRIBUTING):
            refresh_contribution(row, account)


@handles("charge.*")
def charge_rollup(event) -> None:
    account = event.account
    charge = _mirrored(Charge, account, event.object["id"])
    refresh_contribution(charge, account)
    if charge is None:
        return
    _refresh_balance_transactions(account, charge.balance_transaction_stripe_id)
    for refund in Refund.objects.filter(account=account, charge_stripe_id=charge.stripe_id):
        refresh_contribution(refund, account)
        _refresh_balance_transactions(account, refund.balance_transaction_stripe_id)


@handles("refund.*", "charge.refund.updated")
def refund_rollup(event) -> None:
    account = event.account
    refund = _mirrored(Refund, account, event.object["id"])
    refresh_contribution(refund, account)
    if refund is not None:
        _refresh_balance_transactions(account, refund.balance_transaction_stripe_id)


@handles("charge.dispute.*")
def dispute_rollup(event) -> None:
    account = event.account
    dispute = _mirrored(Dispute, account, event.object["id"])
    refresh_contribution(dispute, account)
    if dispute is not None:
        _refresh_balance_transactions(
            account, *(stripe_id_of(t) for t in dispute.data.get("balance_transactions") or [])
        )


@handles("customer.created")
def customer_rollup(event) -> None:
    refresh_contribution(_mirrored(Customer, event.account, event.object["id"]), event.account)
