"""Keeping the daily rollups current, in the same transaction as the mirror writes.

Registered from ReportingConfig.ready() with an order after every mirror handler, so by the
time the rollups run the batch's objects are in the mirror. They read the mirror rows,
never the events, so out-of-order events end with the newest state (see reporting.models
for why replays add nothing).

Per batch of events (or page of the backfill): one read of the mirror rows per kind, one
read of their stored contributions, the new contributions and the deltas computed in
Python, one upsert of the contributions that changed and one
`INSERT … ON CONFLICT DO UPDATE SET x = x + EXCLUDED.x` of the daily rollups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Model

from dashboard.models import Account
from payments.mirroring import stripe_id_of
from payments.models import BalanceTransaction, Charge, Customer, Dispute, Refund
from payments.sync import on_page_stored
from reporting.models import ROLLUP_MEASURES, DailyRollup, RollupContribution
from workbench.dispatch import handles_batch
from workbench.mirror import execute_binding

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


# After every mirror handler (which keep the default order 0).
ROLLUP_ORDER = 100


def _zone(account: Account) -> ZoneInfo:
    try:
        return ZoneInfo(account.timezone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def local_day(moment: datetime, account: Account) -> date:
    return moment.astimezone(_zone(account)).date()


CHARGE, REFUND, TRANSACTION, DISPUTE, CUSTOMER = (
    model._meta.label_lower for model in (Charge, Refund, BalanceTransaction, Dispute, Customer)
)
# The columns each kind's contribution is computed from (read as dicts on the hot path).
COLUMNS = {
    CHARGE: ("status", "amount_captured", "captured", "paid", "currency"),
    REFUND: ("status", "amount", "currency"),
    TRANSACTION: ("type", "net", "fee", "currency"),
    DISPUTE: ("currency",),
    CUSTOMER: (),
}
BASE_COLUMNS = ("stripe_id", "livemode", "created", "stripe_account")


def measures_of(kind: str, row: Mapping[str, Any], account: Account) -> tuple[str, dict[str, int]]:
    """(currency, measures) that one mirror row (its columns by name) adds to its day."""
    measures = dict.fromkeys(ROLLUP_MEASURES, 0)
    if row.get("stripe_account"):
        # An object on a connected account is that seller's business, not the platform's:
        # a destination charge counts once, as the platform's charge.
        currency = row.get("currency") or account.default_currency.lower()
        return currency, measures
    if kind == CHARGE:
        if row["status"] == "succeeded":
            measures["gross_volume"] = row["amount_captured"] if row["captured"] else 0
            measures["successful_payments"] = 1 if row["paid"] else 0
        elif row["status"] == "failed":
            measures["failed_payments"] = 1
        return row["currency"], measures
    if kind == REFUND:
        if row["status"] in COUNTED_REFUND_STATUSES:
            measures["refunds"] = row["amount"]
        return row["currency"], measures
    if kind == TRANSACTION:
        if row["type"] not in NOT_SALES:
            measures["net_volume"] = row["net"]
            measures["fees"] = row["fee"]
        return row["currency"], measures
    if kind == DISPUTE:
        measures["disputes"] = 1
        return row["currency"], measures
    if kind == CUSTOMER:
        # Customers have no currency: they count in the account's default currency.
        measures["new_customers"] = 1
        return account.default_currency.lower(), measures
    raise TypeError(f"{kind} does not contribute to rollups")


def contribution_of(row: Model, account: Account) -> tuple[str, dict[str, int]]:
    """(currency, measures) that one mirror row adds to its day."""
    kind = row._meta.label_lower
    if kind not in COLUMNS:
        raise TypeError(f"{type(row).__name__} does not contribute to rollups")
    return measures_of(kind, row.__dict__, account)


def _add_all(account: Account, deltas: dict[tuple[bool, str, date], dict[str, int]]) -> None:
    """Adds each delta to its day's row, creating rows as needed: one statement, no race
    (rows in a fixed order, so two workers cannot deadlock on them)."""
    changed = [(key, delta) for key, delta in sorted(deltas.items()) if any(delta.values())]
    if not changed:
        return
    table = DailyRollup._meta.db_table
    names = list(ROLLUP_MEASURES)
    placeholder = "(%s, %s, %s, %s, now(), " + ", ".join(["%s"] * len(names)) + ")"
    parameters: list[Any] = []
    for (livemode, currency, day), delta in changed:
        parameters.extend([account.pk, livemode, currency, day, *(delta[n] for n in names)])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (account_id, livemode, currency, day, updated, {", ".join(names)})
            VALUES {", ".join([placeholder] * len(changed))}
            ON CONFLICT (account_id, livemode, currency, day) DO UPDATE SET
                updated = now(),
                {", ".join(f"{name} = {table}.{name} + EXCLUDED.{name}" for name in names)}
            """,  # noqa: S608 (table and column names are ours, every value is a parameter)
            parameters,
        )


_IDENTITY = frozenset({"account_id", "kind", "stripe_id"})


class ConcurrentContribution(Exception):
    """Another transaction stored a contribution this one read as missing: retry."""


def _write_contributions(account: Account, rows: list[tuple], locked: list[int]) -> None:
    """Upserts contributions in one statement (a typed array per column). A conflict with
    a row this transaction did not read and lock (another worker inserted it meanwhile)
    must not be overwritten: the delta was computed against nothing, so the batch fails
    and is retried."""
    table = RollupContribution._meta.db_table
    fields = {f.column: f for f in RollupContribution._meta.concrete_fields}
    names = ["account_id", "livemode", "kind", "stripe_id", "currency", "day", *ROLLUP_MEASURES]
    typed = [f"%b::{fields[name].db_type(connection)}[]" for name in names]
    updated = [f"{name} = EXCLUDED.{name}" for name in names if name not in _IDENTITY]
    returned = execute_binding(
        f"""
            INSERT INTO {table} ({", ".join(names)})
            SELECT * FROM unnest({", ".join(typed)})
            ON CONFLICT (account_id, kind, stripe_id) DO UPDATE SET {", ".join(updated)}
            WHERE {table}.id = ANY(%s::bigint[])
            RETURNING 1
            """,  # noqa: S608 (table and column names are ours, every value is a parameter)
        [*(list(column) for column in zip(*rows, strict=True)), locked],
    )
    if len(returned) != len(rows):
        raise ConcurrentContribution("a rollup contribution was stored concurrently")


def _stored_contributions(account: Account, keys: Iterable[tuple[str, str]]) -> dict:
    """{(kind, stripe_id): (id, livemode, currency, day, measures)} of the stored
    contributions of these objects, locked (FOR UPDATE) until the transaction ends."""
    keys = set(keys)
    names = ", ".join(ROLLUP_MEASURES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT id, kind, stripe_id, livemode, currency, day, {names}
            FROM {RollupContribution._meta.db_table}
            WHERE account_id = %s AND stripe_id = ANY(%s)
            ORDER BY id FOR UPDATE
            """,  # noqa: S608 (table and column names are ours, every value is a parameter)
            [account.pk, sorted({stripe_id for _, stripe_id in keys})],
        )
        return {
            (kind, stripe_id): (
                pk,
                livemode,
                currency,
                day,
                dict(zip(ROLLUP_MEASURES, rest, strict=True)),
            )
            for pk, kind, stripe_id, livemode, currency, day, *rest in cursor.fetchall()
            if (kind, stripe_id) in keys
        }


def refresh_contributions(account: Account, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
    """Bring the rollups in line with the current state of these mirror rows, given as
    (kind, columns by name) with kind a model label ("payments.charge"): one read of their
    stored contributions, one write of those that changed, one update of the days."""
    zone = _zone(account)
    current: dict[tuple[str, str], tuple[bool, str, date, dict[str, int]]] = {}
    for kind, row in rows:
        currency, measures = measures_of(kind, row, account)
        day = row["created"].astimezone(zone).date()
        current[(kind, row["stripe_id"])] = (bool(row["livemode"]), currency, day, measures)
    if not current:
        return
    stored = _stored_contributions(account, current)
    deltas: dict[tuple[bool, str, date], dict[str, int]] = {}

    def add(key: tuple[bool, str, date], delta: Mapping[str, int], sign: int = 1) -> None:
        total = deltas.setdefault(key, dict.fromkeys(ROLLUP_MEASURES, 0))
        for name, value in delta.items():
            total[name] += sign * value

    writes: list[tuple] = []
    for key, (livemode, currency, day, measures) in current.items():
        before = stored.get(key)
        if before is None:
            if not any(measures.values()):
                continue
        else:
            _, *place, old = before
            if place == [livemode, currency, day] and old == measures:
                continue
            add(tuple(place), old, -1)
        add((livemode, currency, day), measures)
        writes.append(
            (account.pk, livemode, *key, currency, day)
            + tuple(measures[name] for name in ROLLUP_MEASURES)
        )
    if writes:
        writes.sort(key=lambda write: (write[2], write[3]))  # a fixed lock order
        _write_contributions(account, writes, [before[0] for before in stored.values()])
        _add_all(account, deltas)


def refresh_contribution(row: Model | None, account: Account) -> None:
    """Bring the rollups in line with the current state of one mirror row."""
    if row is not None:
        refresh_contributions(account, [(row._meta.label_lower, row.__dict__)])


def _rows(model: type[Model], account: Account, where: str, params: list, *extra: str):
    """The columns a contribution needs of the rows matching `where`, as dicts."""
    kind = model._meta.label_lower
    names = [*BASE_COLUMNS, *COLUMNS[kind], *extra]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(names)} FROM {model._meta.db_table} "  # noqa: S608 (ours)
            f"WHERE account_id = %s AND ({where})",
            [account.pk, *params],
        )
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def rollup_objects(
    account: Account,
    *,
    charges: Iterable[str] = (),
    refunds: Iterable[str] = (),
    disputes: Iterable[str] = (),
    customers: Iterable[str] = (),
) -> None:
    """Refresh the contributions of these objects (by Stripe id) and of what comes with
    them: a charge's balance transaction and refunds (with theirs), a refund's balance
    transaction, a dispute's balance transactions. Objects not mirrored are skipped."""
    charges, refunds, disputes, customers = (
        {i for i in ids if i} for ids in (charges, refunds, disputes, customers)
    )
    found: list[tuple[str, Mapping[str, Any]]] = []
    transactions: set[str] = set()
    if charges:
        charge_rows = _rows(
            Charge, account, "stripe_id = ANY(%s)", [list(charges)], "balance_transaction_stripe_id"
        )
        found.extend((CHARGE, row) for row in charge_rows)
        transactions.update(row["balance_transaction_stripe_id"] for row in charge_rows)
        charges = {row["stripe_id"] for row in charge_rows}
    if refunds or charges:
        refund_rows = _rows(
            Refund,
            account,
            "stripe_id = ANY(%s) OR charge_stripe_id = ANY(%s)",
            [list(refunds), list(charges)],
            "balance_transaction_stripe_id",
        )
        found.extend((REFUND, row) for row in refund_rows)
        transactions.update(row["balance_transaction_stripe_id"] for row in refund_rows)
    if disputes:
        dispute_rows = list(
            Dispute.objects.filter(account=account, stripe_id__in=disputes).values(
                *BASE_COLUMNS, *COLUMNS[DISPUTE], "data"
            )
        )
        found.extend((DISPUTE, row) for row in dispute_rows)
        for row in dispute_rows:
            transactions.update(
                stripe_id_of(t) for t in row["data"].get("balance_transactions") or []
            )
    transactions.discard("")
    if transactions:
        rows = _rows(BalanceTransaction, account, "stripe_id = ANY(%s)", [list(transactions)])
        found.extend((TRANSACTION, row) for row in rows)
    if customers:
        rows = _rows(Customer, account, "stripe_id = ANY(%s)", [list(customers)])
        found.extend((CUSTOMER, row) for row in rows)
    refresh_contributions(account, found)


CONTRIBUTING = (Charge, Refund, BalanceTransaction, Dispute, Customer)


@on_page_stored
def backfilled_rollups(account: Account, rows: list[Model]) -> None:
    """Objects stored by `stripe_sync` count like objects that came by webhook."""
    refresh_contributions(
        account,
        [(row._meta.label_lower, row.__dict__) for row in rows if isinstance(row, CONTRIBUTING)],
    )


@handles_batch(
    "charge.*",
    "refund.*",
    "charge.refund.updated",
    "charge.dispute.*",
    "customer.created",
    order=ROLLUP_ORDER,
)
def rollups(events) -> None:
    """The rollups of a batch's charges, refunds, disputes and new customers."""
    ids: dict[str, set[str]] = {"charges": set(), "refunds": set(), "disputes": set()}
    ids["customers"] = set()
    for event in events:
        stripe_id = event.object["id"]
        if event.type.startswith("charge.dispute."):
            ids["disputes"].add(stripe_id)
        elif event.type.startswith("refund.") or event.type == "charge.refund.updated":
            ids["refunds"].add(stripe_id)
        elif event.type.startswith("charge."):
            ids["charges"].add(stripe_id)
        elif event.type == "customer.created":
            ids["customers"].add(stripe_id)
    rollup_objects(events[0].account, **ids)
