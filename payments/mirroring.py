"""Turning Stripe objects into mirror rows: one `store_*` function per object kind.

Webhook handlers, write-through services and the backfill all store through these, so a
row looks the same whichever path wrote it. Each call goes through `workbench.mirror.upsert`
(newest wins by source time, then sequence) and then links rows by Stripe id in both
directions: the new row points at what it references when that is mirrored already, and
rows that referenced it before it arrived get their foreign key now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Model

from dashboard.models import Account
from payments.models import (
    BalanceTransaction,
    Charge,
    Customer,
    Dispute,
    PaymentIntent,
    PaymentMethod,
    Payout,
    Refund,
    TopUp,
)
from workbench.client import stripe_time
from workbench.mirror import from_timestamp, upsert


@dataclass(frozen=True)
class Source:
    """Where a version of an object comes from, and how new it is.

    Events carry their `created` and arrival `sequence`; an API read is as new as the moment
    we read it, with sequence 0 so that an event of the same instant still wins.
    """

    account: Account
    livemode: bool
    time: datetime
    sequence: int = 0
    stripe_account: str = ""

    @classmethod
    def from_event(cls, event: Any) -> Source:
        return cls(
            account=event.account,
            livemode=bool(event.livemode),
            time=event.created,
            sequence=int(event.sequence),
            stripe_account=event.connected_account or "",
        )

    @classmethod
    def api_read(cls, *, account: Account, livemode: bool, stripe_account: str = "") -> Source:
        return cls(
            account=account,
            livemode=livemode,
            # Stripe's clock, not ours: the sandbox's test clock may run in the past.
            time=stripe_time(),
            sequence=0,
            stripe_account=stripe_account,
        )


def _json_ready(value: Any) -> Any:
    # The SDK turns Stripe's decimal strings (`unit_amount_decimal`) into Decimal; the
    # mirror keeps them as Stripe sent them.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    return value


def as_dict(obj: Any) -> dict[str, Any]:
    """SDK objects and plain dicts alike, as plain JSON-ready dicts."""
    if obj is None:
        return {}
    if hasattr(obj, "to_dict"):
        return _json_ready(obj.to_dict())
    return dict(obj)


def stripe_id_of(value: Any) -> str:
    """A reference as Stripe sends it: null, an id, or the expanded object."""
    if not value:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return str(value.get("id") or "")
    return str(getattr(value, "id", "") or "")


def text(value: Any) -> str:
    return "" if value is None else str(value)


def lower(value: Any) -> str:
    return text(value).lower()


def pk_of(model: type[Model], account: Account, stripe_id: str) -> int | None:
    if not stripe_id:
        return None
    return (
        model.objects.filter(account=account, stripe_id=stripe_id)
        .values_list("pk", flat=True)
        .first()
    )


def fill_references(
    referencing: list[tuple[type[Model], str]], row: Model, account: Account
) -> None:
    """Rows that named `row` by Stripe id before it was mirrored get their foreign key."""
    for model, name in referencing:
        model.objects.filter(
            account=account, **{f"{name}_stripe_id": row.stripe_id, f"{name}__isnull": True}
        ).update(**{name: row.pk})


def store_row(model, source: Source, obj: dict[str, Any], fields: dict[str, Any]):
    return upsert(
        model,
        account=source.account,
        livemode=source.livemode,
        obj=obj,
        fields=fields,
        source_time=source.time,
        source_sequence=source.sequence,
        stripe_account=source.stripe_account,
    )


def merge_deleted(model: type[Model], source: Source, obj: dict[str, Any]) -> dict[str, Any]:
    """A delete answers only {id, object, deleted}: keep what we knew, marked deleted."""
    if "created" in obj:
        return obj
    existing = model.objects.filter(account=source.account, stripe_id=obj["id"]).first()
    return {**(existing.data if existing else {}), **obj}


# --- Customers and payment methods ------------------------------------------------------


def store_customer(source: Source, obj: Any) -> Customer:
    obj = as_dict(obj)
    deleted = bool(obj.get("deleted"))
    if deleted:
        obj = merge_deleted(Customer, source, obj)
    row, _ = store_row(
        Customer,
        source,
        obj,
        {
            "email": text(obj.get("email"))[:512],
            "name": text(obj.get("name"))[:256],
            "phone": text(obj.get("phone"))[:64],
            "description": text(obj.get("description")),
            "delinquent": bool(obj.get("delinquent")),
            "deleted": deleted,
        },
    )
    fill_references(
        [(PaymentMethod, "customer"), (PaymentIntent, "customer"), (Charge, "customer")],
        row,
        source.account,
    )
    return row


def store_payment_method(source: Source, obj: Any) -> PaymentMethod:
    obj = as_dict(obj)
    card = obj.get("card") or {}
    wallet = card.get("wallet") or {}
    customer_id = stripe_id_of(obj.get("customer"))
    row, _ = store_row(
        PaymentMethod,
        source,
        obj,
        {
            "customer_stripe_id": customer_id,
            "customer_id": pk_of(Customer, source.account, customer_id),
            "type": text(obj.get("type")),
            "card_brand": text(card.get("brand")),
            "card_last4": text(card.get("last4"))[:4],
            "card_exp_month": card.get("exp_month"),
            "card_exp_year": card.get("exp_year"),
            "card_fingerprint": text(card.get("fingerprint")),
            "card_country": text(card.get("country"))[:2],
            "card_wallet": text(wallet.get("type")),
        },
    )
    return row


# --- Payment intents, charges, refunds, disputes ----------------------------------------


def store_payment_intent(source: Source, obj: Any) -> PaymentIntent:
    obj = as_dict(obj)
    latest_charge = obj.get("latest_charge")
    if isinstance(latest_charge, Mapping):
        # Expanded (write-through asks for it): mirror the charge too, keep only its id here.
        store_charge(source, latest_charge)
        obj = {**obj, "latest_charge": latest_charge["id"]}
    customer_id = stripe_id_of(obj.get("customer"))
    row, _ = store_row(
        PaymentIntent,
        source,
        obj,
        {
            "amount": int(obj.get("amount") or 0),
            "amount_received": int(obj.get("amount_received") or 0),
            "amount_capturable": int(obj.get("amount_capturable") or 0),
            "currency": lower(obj.get("currency")),
            "status": text(obj.get("status")),
            "customer_stripe_id": customer_id,
            "customer_id": pk_of(Customer, source.account, customer_id),
            "payment_method_stripe_id": stripe_id_of(obj.get("payment_method")),
            "capture_method": text(obj.get("capture_method")),
            "description": text(obj.get("description")),
            "latest_charge_stripe_id": stripe_id_of(obj.get("latest_charge")),
        },
    )
    fill_references([(Charge, "payment_intent")], row, source.account)
    return row


def _fee_of(source: Source, balance_transaction_id: str) -> int | None:
    if not balance_transaction_id:
        return None
    return (
        BalanceTransaction.objects.filter(account=source.account, stripe_id=balance_transaction_id)
        .values_list("fee", flat=True)
        .first()
    )


def store_charge(source: Source, obj: Any) -> Charge:
    obj = as_dict(obj)
    balance_transaction = obj.get("balance_transaction")
    known_fee = None
    if isinstance(balance_transaction, Mapping):
        # The charge row is written next with this fee: no need to update charges here.
        known_fee = store_balance_transaction(source, balance_transaction, update_charges=False).fee
        obj = {**obj, "balance_transaction": balance_transaction["id"]}
    details = obj.get("payment_method_details") or {}
    card = details.get("card") or {}
    outcome = obj.get("outcome") or {}
    customer_id = stripe_id_of(obj.get("customer"))
    intent_id = stripe_id_of(obj.get("payment_intent"))
    balance_transaction_id = stripe_id_of(obj.get("balance_transaction"))
    row, written = store_row(
        Charge,
        source,
        obj,
        {
            "amount": int(obj.get("amount") or 0),
            "amount_captured": int(obj.get("amount_captured") or 0),
            "amount_refunded": int(obj.get("amount_refunded") or 0),
            "currency": lower(obj.get("currency")),
            "status": text(obj.get("status")),
            "paid": bool(obj.get("paid")),
            "captured": bool(obj.get("captured")),
            "refunded": bool(obj.get("refunded")),
            "disputed": bool(obj.get("disputed")),
            "failure_code": text(obj.get("failure_code")),
            "failure_message": text(obj.get("failure_message")),
            "outcome_type": text(outcome.get("type")),
            # Stripe reports the issuer's decline code as the outcome's reason.
            "decline_code": text(outcome.get("reason")) if obj.get("status") == "failed" else "",
            "customer_stripe_id": customer_id,
            "customer_id": pk_of(Customer, source.account, customer_id),
            "payment_intent_stripe_id": intent_id,
            "payment_intent_id": pk_of(PaymentIntent, source.account, intent_id),
            "payment_method_stripe_id": stripe_id_of(obj.get("payment_method")),
            "card_brand": text(card.get("brand")),
            "card_last4": text(card.get("last4"))[:4],
            "balance_transaction_stripe_id": balance_transaction_id,
            "fee": known_fee if known_fee is not None else _fee_of(source, balance_transaction_id),
            "receipt_email": text(obj.get("receipt_email"))[:512],
            "description": text(obj.get("description")),
        },
    )
    fill_references([(Refund, "charge"), (Dispute, "charge")], row, source.account)
    if written:
        refunds = (obj.get("refunds") or {}).get("data") or []
        for refund in refunds:
            if isinstance(refund, Mapping) and refund.get("id"):
                store_refund(source, refund)
    return row


def store_refund(source: Source, obj: Any) -> Refund:
    obj = as_dict(obj)
    balance_transaction = obj.get("balance_transaction")
    if isinstance(balance_transaction, Mapping):
        store_balance_transaction(source, balance_transaction)
        obj = {**obj, "balance_transaction": balance_transaction["id"]}
    charge = obj.get("charge")
    if isinstance(charge, Mapping):
        # Expanded by a write-through refund: the charge's new refunded amount comes with it.
        store_charge(source, charge)
        obj = {**obj, "charge": charge["id"]}
    charge_id = stripe_id_of(obj.get("charge"))
    row, _ = store_row(
        Refund,
        source,
        obj,
        {
            "charge_stripe_id": charge_id,
            "charge_id": pk_of(Charge, source.account, charge_id),
            "amount": int(obj.get("amount") or 0),
            "currency": lower(obj.get("currency")),
            "status": text(obj.get("status")),
            "reason": text(obj.get("reason")),
            "balance_transaction_stripe_id": stripe_id_of(obj.get("balance_transaction")),
        },
    )
    return row


def store_dispute(source: Source, obj: Any) -> Dispute:
    obj = as_dict(obj)
    transactions = []
    for transaction in obj.get("balance_transactions") or []:
        if isinstance(transaction, Mapping) and transaction.get("id"):
            store_balance_transaction(source, transaction)
        transactions.append(stripe_id_of(transaction))
    obj = {**obj, "balance_transactions": transactions}
    charge_id = stripe_id_of(obj.get("charge"))
    evidence_details = obj.get("evidence_details") or {}
    row, _ = store_row(
        Dispute,
        source,
        obj,
        {
            "charge_stripe_id": charge_id,
            "charge_id": pk_of(Charge, source.account, charge_id),
            "amount": int(obj.get("amount") or 0),
            "currency": lower(obj.get("currency")),
            "status": text(obj.get("status")),
            "reason": text(obj.get("reason")),
            "evidence_due_by": from_timestamp(evidence_details.get("due_by")),
        },
    )
    # Stripe flags the charge as disputed without always sending a charge event for it.
    if charge_id:
        Charge.objects.filter(account=source.account, stripe_id=charge_id).update(disputed=True)
    return row


# --- Balance, payouts, top-ups ----------------------------------------------------------

PAYOUT_TRANSACTION_TYPES = frozenset({"payout", "payout_cancel", "payout_failure"})


def store_balance_transaction(
    source: Source, obj: Any, *, update_charges: bool = True
) -> BalanceTransaction:
    obj = as_dict(obj)
    kind = text(obj.get("type"))
    source_id = stripe_id_of(obj.get("source"))
    row, _ = store_row(
        BalanceTransaction,
        source,
        {**obj, "source": source_id or None},
        {
            "amount": int(obj.get("amount") or 0),
            "fee": int(obj.get("fee") or 0),
            "net": int(obj.get("net") or 0),
            "currency": lower(obj.get("currency")),
            "type": kind,
            "reporting_category": text(obj.get("reporting_category")),
            "status": text(obj.get("status")),
            "available_on": from_timestamp(obj.get("available_on")),
            "source_stripe_id": source_id,
            "payout_stripe_id": source_id if kind in PAYOUT_TRANSACTION_TYPES else "",
        },
    )
    if update_charges:
        Charge.objects.filter(
            account=source.account, balance_transaction_stripe_id=row.stripe_id
        ).exclude(fee=row.fee).update(fee=row.fee)
    return row


def store_payout(source: Source, obj: Any) -> Payout:
    obj = as_dict(obj)
    row, _ = store_row(
        Payout,
        source,
        obj,
        {
            "amount": int(obj.get("amount") or 0),
            "currency": lower(obj.get("currency")),
            "status": text(obj.get("status")),
            "arrival_date": from_timestamp(obj.get("arrival_date")),
            "method": text(obj.get("method")),
            "automatic": bool(obj.get("automatic")),
            "failure_code": text(obj.get("failure_code")),
        },
    )
    return row


def store_topup(source: Source, obj: Any) -> TopUp:
    obj = as_dict(obj)
    row, _ = store_row(
        TopUp,
        source,
        obj,
        {
            "amount": int(obj.get("amount") or 0),
            "currency": lower(obj.get("currency")),
            "status": text(obj.get("status")),
        },
    )
    return row


def mark_funds_available(*, account: Account, livemode: bool, as_of: datetime) -> int:
    """Pending balance transactions whose `available_on` has passed are available now.

    Stripe sends no event per balance transaction; it moves each one to `available` at its
    `available_on` and announces `balance.available`. We apply the same rule to the mirror
    instead of re-reading every pending transaction.
    """
    rows = list(
        BalanceTransaction.objects.select_for_update().filter(
            account=account, livemode=livemode, status="pending", available_on__lte=as_of
        )
    )
    for row in rows:
        row.status = "available"
        row.data = {**row.data, "status": "available"}
        row.save(update_fields=["status", "data"])
    return len(rows)
