"""Small factories for mirror rows (read-only figures: the tests insert what Stripe would
have sent) and the rollups the reporting handlers keep from them. Rows are live mode
unless told otherwise, like a new member's view of the console."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time

from django_scopes import scope

from payments.models import BalanceTransaction, Charge, Customer, Dispute, Payout, TopUp
from reporting.handlers import refresh_contribution

_ids = itertools.count(1)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def mirror(model, account, *, prefix: str, created: datetime, livemode=True, **fields):
    stripe_id = fields.pop("stripe_id", None) or f"{prefix}_test{next(_ids):06d}"
    with scope(account=account):
        return model.objects.create(
            account=account,
            livemode=livemode,
            stripe_id=stripe_id,
            created=created,
            source_time=created,
            data={"id": stripe_id, **fields.pop("data", {})},
            **fields,
        )


def charge(account, day: date, amount: int, *, status="succeeded", currency="usd", **fields):
    succeeded = status == "succeeded"
    fields.setdefault("captured", succeeded)
    fields.setdefault("paid", succeeded)
    fields.setdefault("amount_captured", amount if succeeded else 0)
    return mirror(
        Charge,
        account,
        prefix="ch",
        created=fields.pop("created", noon(day)),
        amount=amount,
        currency=currency,
        status=status,
        **fields,
    )


def balance_transaction(account, day: date, amount: int, *, fee=0, currency="usd", **fields):
    fields.setdefault("type", "charge")
    fields.setdefault("status", "available")
    return mirror(
        BalanceTransaction,
        account,
        prefix="txn",
        created=fields.pop("created", noon(day)),
        amount=amount,
        fee=fee,
        net=amount - fee,
        currency=currency,
        **fields,
    )


def customer(account, day: date, **fields):
    return mirror(Customer, account, prefix="cus", created=noon(day), **fields)


def dispute(account, day: date, amount: int, **fields):
    fields.setdefault("status", "needs_response")
    fields.setdefault("currency", "usd")
    return mirror(Dispute, account, prefix="dp", created=noon(day), amount=amount, **fields)


def payout(account, day: date, amount: int, **fields):
    fields.setdefault("status", "paid")
    fields.setdefault("currency", "usd")
    return mirror(Payout, account, prefix="po", created=noon(day), amount=amount, **fields)


def topup(account, day: date, amount: int, **fields):
    fields.setdefault("status", "succeeded")
    fields.setdefault("currency", "usd")
    return mirror(TopUp, account, prefix="tu", created=noon(day), amount=amount, **fields)


def rolled_up(account, *rows):
    """Run each row through the rollup maintenance, as its event's handler would."""
    with scope(account=account):
        for row in rows:
            refresh_contribution(row, account)
    return rows
