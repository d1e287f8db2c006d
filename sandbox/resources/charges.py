"""Charges: made by confirming a PaymentIntent; listed, retrieved and updated here."""

from __future__ import annotations

from typing import Any

from sandbox import cards, events, fees, ids, store
from sandbox.models import StateObject
from sandbox.params import metadata, string
from sandbox.resources import balance
from sandbox.routes import route
from sandbox.store import Context

APPROVED = {
    "advice_code": None,
    "network_advice_code": None,
    "network_decline_code": None,
    "network_status": "approved_by_network",
    "reason": None,
    "risk_level": "normal",
    "risk_score": 32,
    "seller_message": "Payment complete.",
    "type": "authorized",
}


def declined_outcome(behaviour: cards.Behaviour) -> dict[str, Any]:
    return {
        "advice_code": "try_again_later" if behaviour.decline_code == "processing_error" else None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "declined_by_network",
        "reason": behaviour.decline_code,
        "risk_level": "normal",
        "risk_score": 40,
        "seller_message": "The bank did not return any further details with this decline.",
        "type": "issuer_declined",
    }


def card_details(payment_method: dict[str, Any], amount: int) -> dict[str, Any]:
    card = payment_method["card"]
    return {
        "card": {
            "amount_authorized": amount,
            "authorization_code": ids.random_token(6).upper(),
            "brand": card["brand"],
            "checks": card["checks"],
            "country": card["country"],
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"],
            "extended_authorization": {"status": "disabled"},
            "fingerprint": card["fingerprint"],
            "funding": card["funding"],
            "incremental_authorization": {"status": "unavailable"},
            "installments": None,
            "last4": card["last4"],
            "mandate": None,
            "multicapture": {"status": "unavailable"},
            "network": card["brand"],
            "network_token": {"used": False},
            "network_transaction_id": ids.random_token(15),
            "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
            "regulated_status": card.get("regulated_status"),
            "three_d_secure": None,
            "wallet": None,
        },
        "type": "card",
    }


def build(
    ctx: Context,
    *,
    intent: dict[str, Any],
    payment_method: dict[str, Any],
    status: str,
    captured: bool,
    outcome: dict[str, Any],
    failure: cards.Behaviour | None = None,
) -> dict[str, Any]:
    charge_id = ids.new_id("ch", random_length=15)
    amount = intent["amount"]
    return {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if captured else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": intent.get("application_fee_amount"),
        "balance_transaction": None,
        "billing_details": payment_method["billing_details"],
        "calculated_statement_descriptor": (
            intent.get("statement_descriptor") or "SANDBOX"
        ).upper()[:22],
        "captured": captured,
        "created": ctx.now,
        "currency": intent["currency"],
        "customer": intent.get("customer"),
        "description": intent.get("description"),
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": failure.error_code if failure else None,
        "failure_message": failure.message if failure else None,
        "fraud_details": {},
        "livemode": ctx.livemode,
        "metadata": dict(intent.get("metadata") or {}),
        "on_behalf_of": intent.get("on_behalf_of"),
        "outcome": outcome,
        "paid": status == "succeeded",
        "payment_intent": intent["id"],
        "payment_method": payment_method["id"],
        "payment_method_details": card_details(payment_method, amount),
        "radar_options": {},
        "receipt_email": intent.get("receipt_email"),
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/{charge_id}",
        "refunded": False,
        "refunds": {
            "object": "list",
            "data": [],
            "has_more": False,
            "total_count": 0,
            "url": f"/v1/charges/{charge_id}/refunds",
        },
        "review": None,
        "shipping": intent.get("shipping"),
        "source": None,
        "source_transfer": None,
        "statement_descriptor": intent.get("statement_descriptor"),
        "statement_descriptor_suffix": intent.get("statement_descriptor_suffix"),
        "status": status,
        "transfer_data": intent.get("transfer_data"),
        "transfer_group": intent.get("transfer_group"),
    }


def settle(ctx: Context, charge: dict[str, Any], amount: int) -> StateObject:
    """The charge balance transaction for a captured amount, with Stripe's card fee."""
    fee = fees.card_fee(amount, charge["currency"])
    return balance.add_transaction(
        ctx,
        amount=amount,
        currency=charge["currency"],
        type="charge",
        reporting_category="charge",
        source=charge["id"],
        description=charge.get("description"),
        fee_details=[balance.fee_detail(fee, charge["currency"], "Stripe processing fees")],
    )


@route("GET", r"/v1/charges/{id}")
def retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    return store.get(ctx, "charge", id).data


@route("POST", r"/v1/charges/{id}")
def update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "charge", id, for_update=True)
    before = row.data
    data = dict(before)
    for name in ("description", "receipt_email"):
        if name in params:
            data[name] = params[name] or None
    data["metadata"] = metadata(before.get("metadata"), params)
    row.data = data
    store.save(row)
    events.emit(ctx, "charge.updated", data, previous_attributes=events.changed(before, data))
    return data


@route("GET", r"/v1/charges")
def list_charges(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows = store.scoped(ctx, "charge").filter(store.created_filter(params))
    for name in ("customer", "payment_intent"):
        value = string(params, name)
        if value:
            rows = rows.filter(**{name: value})
    return store.page(ctx, rows, params, "/v1/charges")
