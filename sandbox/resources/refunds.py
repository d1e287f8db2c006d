"""Refunds: full or partial, never more than what is left on the charge."""

from __future__ import annotations

from typing import Any

from sandbox import events, ids, money, store
from sandbox.errors import invalid
from sandbox.params import integer, metadata, string
from sandbox.resources import balance
from sandbox.routes import route
from sandbox.store import Context

REASONS = {"duplicate", "fraudulent", "requested_by_customer"}


@route("POST", r"/v1/refunds")
def create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    charge_id = string(params, "charge")
    intent_id = string(params, "payment_intent")
    if not charge_id and not intent_id:
        raise invalid(
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
        )
    if intent_id and not charge_id:
        intent = store.get(ctx, "payment_intent", intent_id, param="payment_intent").data
        if intent["status"] != "succeeded" or not intent.get("latest_charge"):
            raise invalid(
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                param="payment_intent",
                code="charge_not_refundable",
            )
        charge_id = intent["latest_charge"]
    charge_row = store.get(ctx, "charge", charge_id, for_update=True, param="charge")
    charge = dict(charge_row.data)
    if intent_id and charge.get("payment_intent") != intent_id:
        raise invalid(
            f"The charge {charge_id} does not belong to PaymentIntent {intent_id}.",
            param="charge",
        )
    reason = string(params, "reason")
    if reason and reason not in REASONS:
        raise invalid(
            f"Invalid reason: must be one of {', '.join(sorted(REASONS))}", param="reason"
        )
    if charge["status"] != "succeeded" or not charge["captured"]:
        raise invalid(
            f"Charge {charge_id} has not been captured; cancel its PaymentIntent instead.",
            param="charge",
            code="charge_not_refundable",
        )
    if charge["disputed"]:
        raise invalid(
            f"Charge {charge_id} has been charged back; cannot issue a refund.",
            param="charge",
            code="charge_disputed",
        )
    remaining = charge["amount"] - charge["amount_refunded"]
    if remaining <= 0:
        raise invalid(
            f"Charge {charge_id} has already been refunded.", code="charge_already_refunded"
        )
    amount = integer(params, "amount", minimum=1)
    if amount is None:
        amount = remaining
    if amount > remaining:
        currency = charge["currency"]
        raise invalid(
            f"Refund amount ({money.display(amount, currency)}) is greater than unrefunded "
            f"amount on charge ({money.display(remaining, currency)})",
            param="amount",
            code="amount_too_large",
        )
    refund_id = ids.new_id("re", random_length=15)
    transaction = balance.add_transaction(
        ctx,
        amount=-amount,
        currency=charge["currency"],
        type="refund",
        reporting_category="refund",
        source=refund_id,
        description="REFUND FOR CHARGE"
        + (f" ({charge['description']})" if charge.get("description") else ""),
        available_on=ctx.now,
    )
    refund = {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": transaction.stripe_id,
        "charge": charge_id,
        "created": ctx.now,
        "currency": charge["currency"],
        "customer": charge.get("customer"),
        "customer_account": None,
        "destination_details": {
            "card": {
                "reference": ids.random_token(12),
                "reference_status": "available",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "metadata": metadata({}, params),
        "payment_intent": charge.get("payment_intent"),
        "payment_method": charge.get("payment_method"),
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    store.create(ctx, "refund", refund)
    before = charge_row.data
    refunds_list = dict(charge["refunds"])
    refunds_list["data"] = [refund, *refunds_list["data"]][:10]
    refunds_list["total_count"] = refunds_list.get("total_count", 0) + 1
    charge.update(
        amount_refunded=charge["amount_refunded"] + amount,
        refunds=refunds_list,
    )
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    charge_row.data = charge
    store.save(charge_row)
    events.emit(ctx, "refund.created", refund)
    events.emit(
        ctx,
        "charge.refunded",
        charge,
        previous_attributes={
            key: before[key]
            for key in ("amount_refunded", "refunded")
            if before[key] != charge[key]
        },
    )
    return refund


@route("GET", r"/v1/refunds/{id}")
def retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    return store.get(ctx, "refund", id).data


@route("POST", r"/v1/refunds/{id}")
def update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "refund", id, for_update=True)
    before = row.data
    row.data = dict(before, metadata=metadata(before.get("metadata"), params))
    store.save(row)
    events.emit(
        ctx, "refund.updated", row.data, previous_attributes=events.changed(before, row.data)
    )
    return row.data


@route("GET", r"/v1/refunds")
def list_refunds(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows = store.scoped(ctx, "refund").filter(store.created_filter(params))
    for name in ("charge", "payment_intent"):
        value = string(params, name)
        if value:
            rows = rows.filter(**{name: value})
    return store.page(ctx, rows, params, "/v1/refunds")


@route("GET", r"/v1/charges/(?P<charge>[^/]+)/refunds")
def list_charge_refunds(ctx: Context, params: dict[str, Any], charge: str) -> dict[str, Any]:
    store.get(ctx, "charge", charge, param="charge")
    rows = store.scoped(ctx, "refund").filter(charge=charge)
    return store.page(ctx, rows, params, f"/v1/charges/{charge}/refunds")
