"""Disputes: opened by test card 4000000000000259 or `services.dispute_create`; evidence,
close (accept), won/lost with the dispute fee, and deadlines that pass on the test clock."""

from __future__ import annotations

from typing import Any

from sandbox import events, fees, ids, store
from sandbox.errors import invalid
from sandbox.models import StateObject
from sandbox.params import boolean, metadata, string
from sandbox.resources import balance
from sandbox.routes import route
from sandbox.store import Context

DAY = 86400
EVIDENCE_DAYS = 7
EVIDENCE_FIELDS = [
    "access_activity_log", "billing_address", "cancellation_policy",
    "cancellation_policy_disclosure", "cancellation_rebuttal", "customer_communication",
    "customer_email_address", "customer_name", "customer_purchase_ip", "customer_signature",
    "duplicate_charge_documentation", "duplicate_charge_explanation", "duplicate_charge_id",
    "product_description", "receipt", "refund_policy", "refund_policy_disclosure",
    "refund_refusal_explanation", "service_date", "service_documentation", "shipping_address",
    "shipping_carrier", "shipping_date", "shipping_documentation", "shipping_tracking_number",
    "uncategorized_file", "uncategorized_text",
]  # fmt: skip
OPEN = {"needs_response", "warning_needs_response", "under_review", "warning_under_review"}
REASONS = {
    "fraudulent": "10.4",
    "product_not_received": "13.1",
    "duplicate": "12.6.1",
    "general": "13.7",
    "subscription_canceled": "13.2",
    "product_unacceptable": "13.3",
    "credit_not_processed": "13.6",
}


def open_for_charge(ctx: Context, charge_row: StateObject, *, reason: str) -> StateObject:
    charge = dict(charge_row.data)
    amount = charge["amount_captured"] - charge["amount_refunded"]
    currency = charge["currency"]
    dispute_id = ids.new_id("dp", random_length=15)
    fee = fees.dispute_fee(currency)
    transaction = balance.add_transaction(
        ctx,
        amount=-amount,
        currency=currency,
        type="adjustment",
        reporting_category="dispute",
        source=dispute_id,
        description=f"Chargeback withdrawal for {charge['id']}",
        fee_details=[balance.fee_detail(fee, currency, "Dispute fee")],
        available_on=ctx.now,
    )
    card = charge["payment_method_details"]["card"]
    dispute = {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [transaction.data],
        "charge": charge["id"],
        "created": ctx.now,
        "currency": currency,
        "enhanced_eligibility_types": [],
        "evidence": dict.fromkeys(EVIDENCE_FIELDS) | {"enhanced_evidence": {}},
        "evidence_details": {
            "due_by": _end_of_day(ctx.now + EVIDENCE_DAYS * DAY),
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": ctx.livemode,
        "metadata": {},
        "payment_intent": charge.get("payment_intent"),
        "payment_method_details": {
            "card": {
                "brand": card["brand"],
                "case_type": "chargeback",
                "network": card["network"],
                "network_reason_code": REASONS.get(reason, "13.7"),
            },
            "type": "card",
        },
        "reason": reason,
        "status": "needs_response",
    }
    row = store.create(ctx, "dispute", dispute)
    charge["disputed"] = True
    charge_row.data = charge
    store.save(charge_row)
    events.emit(ctx, "charge.dispute.created", dispute)
    events.emit(ctx, "charge.dispute.funds_withdrawn", dispute)
    return row


def _end_of_day(timestamp: int) -> int:
    return timestamp - timestamp % DAY + DAY - 1


def close(ctx: Context, row: StateObject, *, status: str) -> dict[str, Any]:
    """Settle an open dispute as `won`, `lost` or `warning_closed`."""
    before = row.data
    dispute = dict(before)
    dispute["status"] = status
    if status == "won":
        fee = sum(detail["amount"] for detail in before["balance_transactions"][0]["fee_details"])
        transaction = balance.add_transaction(
            ctx,
            amount=dispute["amount"],
            currency=dispute["currency"],
            type="adjustment",
            reporting_category="dispute_reversal",
            source=dispute["id"],
            description=f"Chargeback reversal for {dispute['charge']}",
            fee_details=[balance.fee_detail(-fee, dispute["currency"], "Dispute fee refund")],
            available_on=ctx.now,
        )
        dispute["balance_transactions"] = [*before["balance_transactions"], transaction.data]
    row.data = dispute
    store.save(row)
    if status == "won":
        events.emit(ctx, "charge.dispute.funds_reinstated", dispute)
    events.emit(
        ctx, "charge.dispute.closed", dispute, previous_attributes={"status": before["status"]}
    )
    return dispute


@route("GET", r"/v1/disputes/{id}")
def retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    return store.get(ctx, "dispute", id).data


@route("POST", r"/v1/disputes/{id}")
def update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "dispute", id, for_update=True)
    before = row.data
    if before["status"] not in {"needs_response", "warning_needs_response"} and (
        "evidence" in params or boolean(params, "submit")
    ):
        raise invalid(
            f"This dispute is already {before['status']}; evidence can no longer be changed.",
            code="dispute_already_closed" if before["status"] not in OPEN else None,
        )
    dispute = dict(before, evidence=dict(before["evidence"]))
    raw = params.get("evidence")
    if isinstance(raw, dict):
        for name, value in raw.items():
            if name not in EVIDENCE_FIELDS:
                raise invalid(
                    f"Received unknown parameter: evidence[{name}]", param=f"evidence[{name}]"
                )
            dispute["evidence"][name] = value or None
    dispute["metadata"] = metadata(before.get("metadata"), params)
    has_evidence = any(dispute["evidence"].get(name) for name in EVIDENCE_FIELDS)
    details = dict(before["evidence_details"], has_evidence=has_evidence)
    if boolean(params, "submit", default=True) and isinstance(raw, dict):
        details["submission_count"] += 1
        dispute["status"] = (
            "under_review" if before["status"] == "needs_response" else "warning_under_review"
        )
    dispute["evidence_details"] = details
    row.data = dispute
    store.save(row)
    events.emit(
        ctx, "charge.dispute.updated", dispute, previous_attributes=events.changed(before, dispute)
    )
    # Stripe's test evidence: these texts decide the outcome at once.
    text = dispute["evidence"].get("uncategorized_text")
    if dispute["status"] == "under_review" and text in {"winning_evidence", "losing_evidence"}:
        return close(ctx, row, status="won" if text == "winning_evidence" else "lost")
    return dispute


@route("POST", r"/v1/disputes/{id}/close")
def accept(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "dispute", id, for_update=True)
    if row.data["status"] not in OPEN:
        raise invalid(
            f"This dispute is already closed (status: {row.data['status']}).",
            code="dispute_already_closed",
        )
    status = "warning_closed" if row.data["status"].startswith("warning") else "lost"
    return close(ctx, row, status=status)


@route("GET", r"/v1/disputes")
def list_disputes(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows = store.scoped(ctx, "dispute").filter(store.created_filter(params))
    for name in ("charge", "payment_intent"):
        value = string(params, name)
        if value:
            rows = rows.filter(**{name: value})
    return store.page(ctx, rows, params, "/v1/disputes")


def pass_deadlines(ctx: Context, until: int) -> int:
    """Disputes nobody answered by `due_by` are lost (inquiries close with a warning)."""
    passed = 0
    for row in store.scoped(ctx, "dispute").filter(
        status__in=["needs_response", "warning_needs_response"]
    ):
        details = row.data["evidence_details"]
        if details["due_by"] and details["due_by"] <= until:
            row.data = dict(row.data, evidence_details=dict(details, past_due=True))
            status = "warning_closed" if row.data["status"].startswith("warning") else "lost"
            close(ctx, row, status=status)
            passed += 1
    return passed
