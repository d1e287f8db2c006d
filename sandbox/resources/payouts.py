"""Payouts (manual and automatic daily) and top-ups.

A payout is `pending` when created, `in_transit` from the next clock step on, and `paid`
(or `failed`, when the account is set to fail payouts) at its `arrival_date`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Sum

from sandbox import events, ids, money, store
from sandbox.errors import invalid
from sandbox.models import SandboxAccount, StateObject
from sandbox.params import currency, integer, metadata, string
from sandbox.resources import balance
from sandbox.routes import route
from sandbox.store import Context

DAY = 86400
ARRIVAL_DAYS = 2
FAILURES = {
    "account_closed": "The bank account has been closed.",
    "no_account": "The bank account details on file are probably incorrect. No bank account "
    "could be located with those details.",
    "insufficient_funds": "Your Stripe account has insufficient funds to cover the payout.",
}


def _lock_account(ctx: Context) -> None:
    # Serialises balance-debiting requests of one emulated account (no double spend).
    SandboxAccount.objects.select_for_update().filter(pk=ctx.account.pk).first()


def build_payout(ctx: Context, *, amount: int, currency_code: str, automatic: bool, **fields):
    payout_id = ids.new_id("po", random_length=15)
    transaction = balance.add_transaction(
        ctx,
        amount=-amount,
        currency=currency_code,
        type="payout",
        reporting_category="payout",
        source=payout_id,
        description=fields.get("description") or "STRIPE PAYOUT",
        available_on=ctx.now,
    )
    transaction.payout = payout_id
    store.save(transaction)
    data = {
        "id": payout_id,
        "object": "payout",
        "amount": amount,
        "application_fee": None,
        "application_fee_amount": None,
        "arrival_date": ctx.now - ctx.now % DAY + ARRIVAL_DAYS * DAY,
        "automatic": automatic,
        "balance_transaction": transaction.stripe_id,
        "created": ctx.now,
        "currency": currency_code,
        "description": fields.get("description") or "STRIPE PAYOUT",
        "destination": ctx.account.settings.get("bank_account", "ba_sandbox"),
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "livemode": ctx.livemode,
        "metadata": fields.get("metadata") or {},
        "method": fields.get("method") or "standard",
        "original_payout": None,
        "payout_method": None,
        "reconciliation_status": "not_applicable" if not automatic else "in_progress",
        "reversed_by": None,
        "source_type": "card",
        "statement_descriptor": fields.get("statement_descriptor"),
        "status": "pending",
        "trace_id": {"status": "pending", "value": None},
        "type": "bank_account",
    }
    row = store.create(ctx, "payout", data)
    events.emit(ctx, "payout.created", data)
    return row


@route("POST", r"/v1/payouts")
def create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    amount = integer(params, "amount", required=True, minimum=1)
    currency_code = currency(params)
    method = string(params, "method") or "standard"
    if method not in {"standard", "instant"}:
        raise invalid(f"Invalid method: {method}", param="method")
    _lock_account(ctx)
    available = balance.available_amounts(ctx).get(currency_code, 0)
    if amount > available:
        raise invalid(
            "You have insufficient funds in your Stripe account for this transfer. Your card "
            f"balance is too low ({money.display(available, currency_code)} available). You "
            "can use the /v1/balance endpoint to view your Stripe balance (for more details, "
            "see stripe.com/docs/api#balance).",
            param="amount",
            code="balance_insufficient",
        )
    row = build_payout(
        ctx,
        amount=amount,
        currency_code=currency_code,
        automatic=False,
        description=string(params, "description"),
        metadata=metadata({}, params),
        method=method,
        statement_descriptor=string(params, "statement_descriptor"),
    )
    return row.data


@route("GET", r"/v1/payouts/{id}")
def retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    return store.get(ctx, "payout", id).data


@route("POST", r"/v1/payouts/{id}")
def update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "payout", id, for_update=True)
    before = row.data
    row.data = dict(before, metadata=metadata(before.get("metadata"), params))
    store.save(row)
    events.emit(
        ctx, "payout.updated", row.data, previous_attributes=events.changed(before, row.data)
    )
    return row.data


@route("POST", r"/v1/payouts/{id}/cancel")
def cancel(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "payout", id, for_update=True)
    if row.data["status"] != "pending":
        raise invalid(
            f"Payouts can only be canceled while they are pending. This payout is "
            f"{row.data['status']}.",
        )
    transaction = balance.add_transaction(
        ctx,
        amount=row.data["amount"],
        currency=row.data["currency"],
        type="payout_cancel",
        reporting_category="payout_reversal",
        source=id,
        description="Payout cancellation",
        available_on=ctx.now,
    )
    before = row.data
    row.data = dict(before, status="canceled", failure_balance_transaction=transaction.stripe_id)
    store.save(row)
    events.emit(ctx, "payout.canceled", row.data, previous_attributes={"status": "pending"})
    return row.data


@route("GET", r"/v1/payouts")
def list_payouts(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows = store.scoped(ctx, "payout").filter(store.created_filter(params))
    status = string(params, "status")
    if status:
        rows = rows.filter(status=status)
    if params.get("arrival_date"):
        # Payouts are few: filter on the JSON value rather than keep a column for it.
        ids_in_range = [
            row.stripe_id
            for row in rows
            if _matches(row.data["arrival_date"], params["arrival_date"])
        ]
        rows = rows.filter(stripe_id__in=ids_in_range)
    return store.page(ctx, rows, params, "/v1/payouts")


def _matches(value: int, condition: Any) -> bool:
    if not isinstance(condition, dict):
        return value == int(condition)
    checks = {"gt": value.__gt__, "gte": value.__ge__, "lt": value.__lt__, "lte": value.__le__}
    return all(checks[name](int(bound)) for name, bound in condition.items() if name in checks)


# --- Time: the payout lifecycle and the automatic daily payout -------------------------


def _set_status(ctx: Context, row: StateObject, status: str, **fields) -> None:
    before = row.data
    row.data = dict(before, status=status, **fields)
    store.save(row)
    events.emit(ctx, "payout.updated", row.data, previous_attributes={"status": before["status"]})
    if status in {"paid", "failed"}:
        events.emit(ctx, f"payout.{status}", row.data)


def advance_payouts(ctx: Context, until: int) -> None:
    failure_code = (ctx.account.settings or {}).get("payout_failure_code")
    for row in store.scoped(ctx, "payout").filter(status__in=["pending", "in_transit"]):
        if row.data["status"] == "pending" and row.created < until:
            _set_status(ctx, row, "in_transit", trace_id={"status": "pending", "value": None})
        if row.data["status"] == "in_transit" and row.data["arrival_date"] <= until:
            if failure_code:
                transaction = balance.add_transaction(
                    ctx,
                    amount=row.data["amount"],
                    currency=row.data["currency"],
                    type="payout_failure",
                    reporting_category="payout_reversal",
                    source=row.stripe_id,
                    description="Payout failure",
                    available_on=ctx.now,
                )
                _set_status(
                    ctx,
                    row,
                    "failed",
                    failure_code=failure_code,
                    failure_message=FAILURES.get(failure_code, "The payout failed."),
                    failure_balance_transaction=transaction.stripe_id,
                )
            else:
                _set_status(
                    ctx,
                    row,
                    "paid",
                    reconciliation_status="completed",
                    trace_id={"status": "supported", "value": ids.random_token(15).upper()},
                )


def automatic_payout(ctx: Context) -> list[StateObject]:
    """Sweep every available, not yet paid out transaction into one payout per currency."""
    _lock_account(ctx)
    unswept = store.scoped(ctx, "balance_transaction").filter(status="available", payout="")
    made = []
    totals = unswept.values("currency").annotate(total=Sum("amount"))
    for entry in totals:
        amount = entry["total"] or 0
        if amount <= 0:
            continue
        ids_swept = list(unswept.filter(currency=entry["currency"]).values_list("id", flat=True))
        row = build_payout(ctx, amount=amount, currency_code=entry["currency"], automatic=True)
        StateObject.objects.filter(id__in=ids_swept).update(payout=row.stripe_id)
        made.append(row)
    return made


# --- Top-ups -------------------------------------------------------------------------


@route("POST", r"/v1/topups")
def create_topup(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    amount = integer(params, "amount", required=True, minimum=1)
    currency_code = currency(params)
    topup_id = ids.new_id("tu", random_length=15)
    transaction = balance.add_transaction(
        ctx,
        amount=amount,
        currency=currency_code,
        type="topup",
        reporting_category="topup",
        source=topup_id,
        description=string(params, "description") or "Top-up",
    )
    data = {
        "id": topup_id,
        "object": "topup",
        "amount": amount,
        "balance_transaction": transaction.stripe_id,
        "created": ctx.now,
        "currency": currency_code,
        "description": string(params, "description"),
        "expected_availability_date": transaction.data["available_on"],
        "failure_code": None,
        "failure_message": None,
        "initiated_by": None,
        "livemode": ctx.livemode,
        "metadata": metadata({}, params),
        "source": None,
        "statement_descriptor": string(params, "statement_descriptor"),
        "status": "succeeded",
        "transfer_group": string(params, "transfer_group"),
    }
    store.create(ctx, "topup", data)
    events.emit(ctx, "topup.created", data)
    events.emit(ctx, "topup.succeeded", data)
    return data


@route("GET", r"/v1/topups/{id}")
def retrieve_topup(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    return store.get(ctx, "topup", id).data


@route("POST", r"/v1/topups/{id}")
def update_topup(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "topup", id, for_update=True)
    before = row.data
    data = dict(before, metadata=metadata(before.get("metadata"), params))
    if "description" in params:
        data["description"] = params["description"] or None
    row.data = data
    store.save(row)
    events.emit(ctx, "topup.updated", data, previous_attributes=events.changed(before, data))
    return data


@route("POST", r"/v1/topups/{id}/cancel")
def cancel_topup(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "topup", id)
    raise invalid(
        f"This top-up cannot be canceled because it has a status of {row.data['status']}. "
        "Only pending top-ups can be canceled.",
    )


@route("GET", r"/v1/topups")
def list_topups(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows = store.scoped(ctx, "topup").filter(store.created_filter(params))
    status = string(params, "status")
    if status:
        rows = rows.filter(status=status)
    return store.page(ctx, rows, params, "/v1/topups")
