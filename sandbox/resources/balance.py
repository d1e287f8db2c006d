"""Balance and balance transactions: pending until `available_on`, then available."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db.models import Sum

from sandbox import events, ids, store
from sandbox.models import StateObject
from sandbox.params import string
from sandbox.routes import route
from sandbox.store import Context

DAY = 86400


def availability_delay() -> int:
    return int(getattr(settings, "SANDBOX_AVAILABILITY_DAYS", 2)) * DAY


def fee_detail(amount: int, currency: str, description: str) -> dict[str, Any]:
    return {
        "amount": amount,
        "application": None,
        "currency": currency,
        "description": description,
        "type": "stripe_fee",
    }


def add_transaction(
    ctx: Context,
    *,
    amount: int,
    currency: str,
    type: str,
    reporting_category: str,
    source: str | None,
    description: str | None = None,
    fee_details: list[dict[str, Any]] | None = None,
    available_on: int | None = None,
) -> StateObject:
    fee_details = fee_details or []
    fee = sum(detail["amount"] for detail in fee_details)
    if available_on is None:
        available_on = ctx.now + availability_delay()
    data = {
        "id": ids.new_id("txn", random_length=15),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": available_on,
        "balance_type": "payments",
        "created": ctx.now,
        "currency": currency,
        "description": description,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": fee_details,
        "net": amount - fee,
        "reporting_category": reporting_category,
        "source": source,
        "status": "available" if available_on <= ctx.now else "pending",
        "type": type,
    }
    return store.create(ctx, "balance_transaction", data)


def balance_object(ctx: Context) -> dict[str, Any]:
    sums = (
        store.scoped(ctx, "balance_transaction")
        .values("currency", "status")
        .annotate(total=Sum("amount"))
    )
    totals: dict[str, dict[str, int]] = defaultdict(lambda: {"available": 0, "pending": 0})
    for row in sums:
        totals[row["currency"]][row["status"]] += row["total"] or 0
    if not totals:
        totals[(ctx.account.settings or {}).get("default_currency", "usd")]
    return {
        "object": "balance",
        "available": [
            {
                "amount": value["available"],
                "currency": currency,
                "source_types": {"card": value["available"]},
            }
            for currency, value in sorted(totals.items())
        ],
        "connect_reserved": [{"amount": 0, "currency": currency} for currency in sorted(totals)],
        "livemode": ctx.livemode,
        "pending": [
            {
                "amount": value["pending"],
                "currency": currency,
                "source_types": {"card": value["pending"]},
            }
            for currency, value in sorted(totals.items())
        ],
    }


def available_amounts(ctx: Context) -> dict[str, int]:
    rows = (
        store.scoped(ctx, "balance_transaction")
        .filter(status="available")
        .values("currency")
        .annotate(total=Sum("amount"))
    )
    return {row["currency"]: row["total"] or 0 for row in rows}


@route("GET", r"/v1/balance")
def retrieve(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return balance_object(ctx)


@route("GET", r"/v1/balance_transactions/{id}")
def retrieve_transaction(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    return store.get(ctx, "balance_transaction", id).data


@route("GET", r"/v1/balance_transactions")
def list_transactions(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows = store.scoped(ctx, "balance_transaction").filter(store.created_filter(params))
    for name in ("currency", "source", "type"):
        value = string(params, name)
        if value:
            rows = rows.filter(**{name: value})
    payout = string(params, "payout")
    if payout:
        store.get(ctx, "payout", payout, param="payout")
        rows = rows.filter(payout=payout)
    return store.page(ctx, rows, params, "/v1/balance_transactions")


def make_available(ctx: Context, until: int) -> int:
    """Pending transactions whose `available_on` has come become available."""
    due = list(
        store.scoped(ctx, "balance_transaction").filter(status="pending", available_on__lte=until)
    )
    for row in due:
        row.data = dict(row.data, status="available")
        row.status = "available"
    StateObject.objects.bulk_update(due, ["data", "status"], batch_size=500)
    if due:
        events.emit(ctx, "balance.available", balance_object(ctx))
    return len(due)
