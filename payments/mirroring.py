"""Turning Stripe objects into mirror rows.

One pure function per object kind (`charge_fields`, …) says what an object puts in its
columns. Two write paths use them, so a row looks the same whichever path wrote it:

- `store_*` (write-through services, the backfill, rarely hot events): one object through
  `workbench.mirror.upsert`, returning the row;
- `MirrorBatch` (the webhook handlers of hot events): many objects of one account, each
  kind written with one `workbench.mirror.bulk_upsert` statement.

Both keep the newest data per row (by source time, then sequence) and link rows by Stripe
id in both directions: a new row points at what it references when that is mirrored
already, and rows that referenced it before it arrived get their foreign key now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
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
from workbench.mirror import bulk_upsert, from_timestamp, newest_per_id, upsert
from workbench.selectors import event_sequence_watermark


@dataclass(frozen=True)
class Source:
    """Where a version of an object comes from, and how new it is.

    Events carry their `created` and arrival `sequence`; an API read is as new as the second
    we read it in (Stripe's clock) and the last event received before it, so that events of
    that second received earlier lose to it and events received later win.
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
            # Stripe's clock, not ours: the sandbox's test clock may run in the past. Within
            # its second, a read is newer than every event received so far, older than the
            # ones still to come (see event_sequence_watermark).
            time=stripe_time(),
            sequence=event_sequence_watermark(),
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


# --- What each object kind puts in its columns ------------------------------------------
#
# One pure function per kind: a Stripe object (a plain dict, references as ids) in, the
# typed column values out. References keep their Stripe id (`customer_stripe_id`); the
# foreign key next to it (`customer_id`) is resolved by the write step, see REFERENCES.
# The single-object `store_*` functions and the batch writer (`MirrorBatch`) both use
# these, so a row looks the same whichever path wrote it.

PAYOUT_TRANSACTION_TYPES = frozenset({"payout", "payout_cancel", "payout_failure"})


def customer_fields(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "email": text(obj.get("email"))[:512],
        "name": text(obj.get("name"))[:256],
        "phone": text(obj.get("phone"))[:64],
        "description": text(obj.get("description")),
        "delinquent": bool(obj.get("delinquent")),
        "deleted": bool(obj.get("deleted")),
    }


def payment_method_fields(obj: dict[str, Any]) -> dict[str, Any]:
    card = obj.get("card") or {}
    wallet = card.get("wallet") or {}
    return {
        "customer_stripe_id": stripe_id_of(obj.get("customer")),
        "type": text(obj.get("type")),
        "card_brand": text(card.get("brand")),
        "card_last4": text(card.get("last4"))[:4],
        "card_exp_month": card.get("exp_month"),
        "card_exp_year": card.get("exp_year"),
        "card_fingerprint": text(card.get("fingerprint")),
        "card_country": text(card.get("country"))[:2],
        "card_wallet": text(wallet.get("type")),
    }


def payment_intent_fields(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "amount": int(obj.get("amount") or 0),
        "amount_received": int(obj.get("amount_received") or 0),
        "amount_capturable": int(obj.get("amount_capturable") or 0),
        "currency": lower(obj.get("currency")),
        "status": text(obj.get("status")),
        "customer_stripe_id": stripe_id_of(obj.get("customer")),
        "payment_method_stripe_id": stripe_id_of(obj.get("payment_method")),
        "capture_method": text(obj.get("capture_method")),
        "description": text(obj.get("description")),
        "latest_charge_stripe_id": stripe_id_of(obj.get("latest_charge")),
    }


def charge_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """A charge's columns but its `fee`, which comes from its balance transaction."""
    details = obj.get("payment_method_details") or {}
    card = details.get("card") or {}
    outcome = obj.get("outcome") or {}
    return {
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
        "customer_stripe_id": stripe_id_of(obj.get("customer")),
        "payment_intent_stripe_id": stripe_id_of(obj.get("payment_intent")),
        "payment_method_stripe_id": stripe_id_of(obj.get("payment_method")),
        "card_brand": text(card.get("brand")),
        "card_last4": text(card.get("last4"))[:4],
        "balance_transaction_stripe_id": stripe_id_of(obj.get("balance_transaction")),
        "receipt_email": text(obj.get("receipt_email"))[:512],
        "description": text(obj.get("description")),
    }


def refund_fields(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "charge_stripe_id": stripe_id_of(obj.get("charge")),
        "amount": int(obj.get("amount") or 0),
        "currency": lower(obj.get("currency")),
        "status": text(obj.get("status")),
        "reason": text(obj.get("reason")),
        "balance_transaction_stripe_id": stripe_id_of(obj.get("balance_transaction")),
    }


def dispute_fields(obj: dict[str, Any]) -> dict[str, Any]:
    evidence_details = obj.get("evidence_details") or {}
    return {
        "charge_stripe_id": stripe_id_of(obj.get("charge")),
        "amount": int(obj.get("amount") or 0),
        "currency": lower(obj.get("currency")),
        "status": text(obj.get("status")),
        "reason": text(obj.get("reason")),
        "evidence_due_by": from_timestamp(evidence_details.get("due_by")),
    }


def balance_transaction_fields(obj: dict[str, Any]) -> dict[str, Any]:
    kind = text(obj.get("type"))
    source_id = stripe_id_of(obj.get("source"))
    return {
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
    }


def payout_fields(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "amount": int(obj.get("amount") or 0),
        "currency": lower(obj.get("currency")),
        "status": text(obj.get("status")),
        "arrival_date": from_timestamp(obj.get("arrival_date")),
        "method": text(obj.get("method")),
        "automatic": bool(obj.get("automatic")),
        "failure_code": text(obj.get("failure_code")),
    }


def topup_fields(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "amount": int(obj.get("amount") or 0),
        "currency": lower(obj.get("currency")),
        "status": text(obj.get("status")),
    }


# Foreign keys by model: (field name, referenced model). The row keeps `<name>_stripe_id`
# and gets `<name>_id` when the referenced row is mirrored; rows written before it get it
# when it arrives ("late filling").
REFERENCES: dict[type[Model], tuple[tuple[str, type[Model]], ...]] = {
    PaymentMethod: (("customer", Customer),),
    PaymentIntent: (("customer", Customer),),
    Charge: (("customer", Customer), ("payment_intent", PaymentIntent)),
    Refund: (("charge", Charge),),
    Dispute: (("charge", Charge),),
}


def referencing(model: type[Model]) -> list[tuple[type[Model], str]]:
    """The (model, field name) pairs whose foreign key points at `model`."""
    return [
        (source, name)
        for source, references in REFERENCES.items()
        for name, target in references
        if target is model
    ]


# Expanded references: an object may carry another object where Stripe usually sends an
# id (write-through asks for some). The expanded one is mirrored too; the row keeps the id.


def _expanded(obj: dict[str, Any], key: str) -> tuple[dict[str, Any], Mapping | None]:
    value = obj.get(key)
    if isinstance(value, Mapping):
        return {**obj, key: value["id"]}, value
    return obj, None


def _balance_transaction_object(obj: dict[str, Any]) -> dict[str, Any]:
    return {**obj, "source": stripe_id_of(obj.get("source")) or None}


def _dispute_object(obj: dict[str, Any]) -> tuple[dict[str, Any], list[Mapping]]:
    transactions, expanded = [], []
    for transaction in obj.get("balance_transactions") or []:
        if isinstance(transaction, Mapping) and transaction.get("id"):
            expanded.append(transaction)
        transactions.append(stripe_id_of(transaction))
    return {**obj, "balance_transactions": transactions}, expanded


def _embedded_refunds(obj: dict[str, Any]) -> list[Mapping]:
    refunds = (obj.get("refunds") or {}).get("data") or []
    return [r for r in refunds if isinstance(r, Mapping) and r.get("id")]


# --- Storing one object (write-through, backfill, rarely hot events) --------------------


def _store(model, source: Source, obj: dict[str, Any], fields: dict[str, Any]):
    """Upsert one row with its foreign keys resolved, then fill the rows that named it."""
    for name, target in REFERENCES.get(model, ()):
        fields[f"{name}_id"] = pk_of(target, source.account, fields[f"{name}_stripe_id"])
    row, written = store_row(model, source, obj, fields)
    references = referencing(model)
    if references:
        fill_references(references, row, source.account)
    return row, written


def store_customer(source: Source, obj: Any) -> Customer:
    obj = as_dict(obj)
    if obj.get("deleted"):
        obj = merge_deleted(Customer, source, obj)
    row, _ = _store(Customer, source, obj, customer_fields(obj))
    return row


def store_payment_method(source: Source, obj: Any) -> PaymentMethod:
    obj = as_dict(obj)
    row, _ = _store(PaymentMethod, source, obj, payment_method_fields(obj))
    return row


def store_payment_intent(source: Source, obj: Any) -> PaymentIntent:
    obj, latest_charge = _expanded(as_dict(obj), "latest_charge")
    if latest_charge is not None:
        # Expanded (write-through asks for it): mirror the charge too, keep only its id here.
        store_charge(source, latest_charge)
    row, _ = _store(PaymentIntent, source, obj, payment_intent_fields(obj))
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
    obj, balance_transaction = _expanded(as_dict(obj), "balance_transaction")
    if balance_transaction is not None:
        # The charge row is written next with this fee: no need to update charges here.
        store_balance_transaction(source, balance_transaction, update_charges=False)
    fields = charge_fields(obj)
    fields["fee"] = _fee_of(source, fields["balance_transaction_stripe_id"])
    row, written = _store(Charge, source, obj, fields)
    if written:
        for refund in _embedded_refunds(obj):
            store_refund(source, refund)
    return row


def store_refund(source: Source, obj: Any) -> Refund:
    obj, balance_transaction = _expanded(as_dict(obj), "balance_transaction")
    if balance_transaction is not None:
        store_balance_transaction(source, balance_transaction)
    obj, charge = _expanded(obj, "charge")
    if charge is not None:
        # Expanded by a write-through refund: the charge's new refunded amount comes with it.
        store_charge(source, charge)
    row, _ = _store(Refund, source, obj, refund_fields(obj))
    return row


def store_dispute(source: Source, obj: Any) -> Dispute:
    obj, transactions = _dispute_object(as_dict(obj))
    for transaction in transactions:
        store_balance_transaction(source, transaction)
    fields = dispute_fields(obj)
    charge_id = fields["charge_stripe_id"]
    row, _ = _store(Dispute, source, obj, fields)
    # Stripe flags the charge as disputed without always sending a charge event for it.
    if charge_id:
        Charge.objects.filter(account=source.account, stripe_id=charge_id).update(disputed=True)
    return row


def store_balance_transaction(
    source: Source, obj: Any, *, update_charges: bool = True
) -> BalanceTransaction:
    obj = as_dict(obj)
    row, _ = _store(
        BalanceTransaction,
        source,
        _balance_transaction_object(obj),
        balance_transaction_fields(obj),
    )
    if update_charges:
        Charge.objects.filter(
            account=source.account, balance_transaction_stripe_id=row.stripe_id
        ).exclude(fee=row.fee).update(fee=row.fee)
    return row


def store_payout(source: Source, obj: Any) -> Payout:
    obj = as_dict(obj)
    row, _ = _store(Payout, source, obj, payout_fields(obj))
    return row


def store_topup(source: Source, obj: Any) -> TopUp:
    obj = as_dict(obj)
    row, _ = _store(TopUp, source, obj, topup_fields(obj))
    return row


# --- Storing many objects at once (webhook batches) -------------------------------------

# The order kinds are written in, so that a row finds what it references (and a charge
# its fee) among the rows of the same batch.
BATCH_ORDER: tuple[type[Model], ...] = (
    BalanceTransaction,
    Customer,
    PaymentMethod,
    PaymentIntent,
    Charge,
    Refund,
    Dispute,
    Payout,
    TopUp,
)
FIELDS_OF: dict[type[Model], Any] = {
    Customer: customer_fields,
    PaymentMethod: payment_method_fields,
    PaymentIntent: payment_intent_fields,
    Charge: charge_fields,
    Refund: refund_fields,
    Dispute: dispute_fields,
    BalanceTransaction: balance_transaction_fields,
    Payout: payout_fields,
    TopUp: topup_fields,
}


class MirrorBatch:
    """Objects of one account collected from many events, then written with a few
    statements per kind (`flush`): one `bulk_upsert`, one query per referenced model to
    resolve foreign keys, one UPDATE per foreign key pointing here for late filling.

    Gives the rows the single-object `store_*` functions would give for the same objects
    in any order: the same field functions, newest wins per row (by source time, then
    sequence), and the same expansions (a charge's balance transaction and refunds, a
    refund's charge, a dispute's balance transactions, a payment intent's latest charge).
    Call inside the account's scope.
    """

    def __init__(self, account: Account) -> None:
        self.account = account
        self.pending: dict[type[Model], list[tuple[Source, dict[str, Any]]]] = {}
        # Balance transactions whose charges take their fee (as `update_charges=True`).
        self.fees_to_copy: set[str] = set()
        # Charges a dispute flags as disputed.
        self.disputed: set[str] = set()
        # {model: {stripe_id: pk}} of the rows written by this batch.
        self.written: dict[type[Model], dict[str, int]] = {}

    # Collecting ----------------------------------------------------------------------

    def _add(self, model: type[Model], source: Source, obj: dict[str, Any]) -> None:
        self.pending.setdefault(model, []).append((source, obj))

    def add_customer(self, source: Source, obj: Any) -> None:
        # A delete ({id, object, deleted}) is merged with what we know when written.
        self._add(Customer, source, as_dict(obj))

    def add_payment_method(self, source: Source, obj: Any) -> None:
        self._add(PaymentMethod, source, as_dict(obj))

    def add_payment_intent(self, source: Source, obj: Any) -> None:
        obj, latest_charge = _expanded(as_dict(obj), "latest_charge")
        if latest_charge is not None:
            self.add_charge(source, latest_charge)
        self._add(PaymentIntent, source, obj)

    def add_charge(self, source: Source, obj: Any) -> None:
        obj, balance_transaction = _expanded(as_dict(obj), "balance_transaction")
        if balance_transaction is not None:
            self.add_balance_transaction(source, balance_transaction, update_charges=False)
        self._add(Charge, source, obj)

    def add_refund(self, source: Source, obj: Any) -> None:
        obj, balance_transaction = _expanded(as_dict(obj), "balance_transaction")
        if balance_transaction is not None:
            self.add_balance_transaction(source, balance_transaction)
        obj, charge = _expanded(obj, "charge")
        if charge is not None:
            self.add_charge(source, charge)
        self._add(Refund, source, obj)

    def add_dispute(self, source: Source, obj: Any) -> None:
        obj, transactions = _dispute_object(as_dict(obj))
        for transaction in transactions:
            self.add_balance_transaction(source, transaction)
        self._add(Dispute, source, obj)
        if charge_id := stripe_id_of(obj.get("charge")):
            self.disputed.add(charge_id)

    def add_balance_transaction(
        self, source: Source, obj: Any, *, update_charges: bool = True
    ) -> None:
        obj = as_dict(obj)
        self._add(BalanceTransaction, source, _balance_transaction_object(obj))
        if update_charges:
            self.fees_to_copy.add(obj["id"])

    def add_payout(self, source: Source, obj: Any) -> None:
        self._add(Payout, source, as_dict(obj))

    def add_topup(self, source: Source, obj: Any) -> None:
        self._add(TopUp, source, as_dict(obj))

    # Writing -------------------------------------------------------------------------

    def flush(self) -> None:
        # Writing charges can add refunds (embedded), refunds can add charges (expanded):
        # go round until nothing is left.
        while any(self.pending.values()):
            for model in BATCH_ORDER:
                entries = self.pending.pop(model, None)
                if entries:
                    self._write(model, entries)
        if self.fees_to_copy:
            self._copy_fees(sorted(self.fees_to_copy))
            self.fees_to_copy.clear()
        if self.disputed:
            Charge.objects.filter(account=self.account, stripe_id__in=self.disputed).update(
                disputed=True
            )
            self.disputed.clear()

    def _merge_deleted(self, model: type[Model], entries: list) -> list:
        """Deletes keep what we knew, as `merge_deleted`: the newest full version of the
        object in this batch, else the mirrored one (one query for all of them)."""
        deleted = {obj["id"] for _, obj in entries if "created" not in obj and obj.get("deleted")}
        if not deleted:
            return entries
        known: dict[str, tuple[Source, dict[str, Any]]] = {}
        for source, obj in entries:
            if obj["id"] in deleted and "created" in obj:
                held = known.get(obj["id"])
                if held is None or (held[0].time, held[0].sequence) <= (
                    source.time,
                    source.sequence,
                ):
                    known[obj["id"]] = (source, obj)
        mirrored = dict(
            model.objects.filter(
                account=self.account, stripe_id__in=deleted - set(known)
            ).values_list("stripe_id", "data")
        )
        merged = []
        for source, obj in entries:
            if obj["id"] in deleted and "created" not in obj:
                base = known[obj["id"]][1] if obj["id"] in known else mirrored.get(obj["id"], {})
                obj = {**base, **obj}
            merged.append((source, obj))
        return merged

    def _write(self, model: type[Model], entries: list[tuple[Source, dict[str, Any]]]) -> None:
        account_id = self.account.pk
        if model is Customer:
            entries = self._merge_deleted(model, entries)
        field_function = FIELDS_OF[model]
        rows = []
        for source, obj in entries:
            row = field_function(obj)
            row.update(
                account_id=account_id,
                stripe_id=obj["id"],
                livemode=source.livemode,
                stripe_account=source.stripe_account,
                created=from_timestamp(obj.get("created")) or source.time,
                data=obj,
                source_time=source.time,
                source_sequence=source.sequence,
            )
            rows.append(row)
        for name, target in REFERENCES.get(model, ()):
            found = self._pks(target, {row[f"{name}_stripe_id"] for row in rows})
            for row in rows:
                row[f"{name}_id"] = found.get(row[f"{name}_stripe_id"])
        if model is Charge:
            fees = self._fees({row["balance_transaction_stripe_id"] for row in rows})
            for row in rows:
                row["fee"] = fees.get(row["balance_transaction_stripe_id"])
        written = bulk_upsert(model, rows)
        self.written.setdefault(model, {}).update(written)
        ids = sorted({row["stripe_id"] for row in rows})
        for source_model, name in referencing(model):
            self._fill(source_model, name, model, ids)
        if model is Charge and written:
            # The refunds a written charge lists (as `store_charge` does), from the version
            # of the charge that was written.
            newest = {row["stripe_id"]: row for row in newest_per_id(rows)}
            for (source, obj), row in zip(entries, rows, strict=True):
                if row["stripe_id"] in written and newest[row["stripe_id"]] is row:
                    for refund in _embedded_refunds(obj):
                        self.add_refund(source, refund)

    def _select(self, model: type[Model], column: str, stripe_ids: set[str]) -> dict[str, Any]:
        """{stripe_id: column} of the rows of `model` with these ids: one query."""
        stripe_ids.discard("")
        if not stripe_ids:
            return {}
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT stripe_id, {column} FROM {model._meta.db_table} "  # noqa: S608 (ours)
                "WHERE account_id = %s AND stripe_id = ANY(%s)",
                [self.account.pk, list(stripe_ids)],
            )
            return dict(cursor.fetchall())

    def _pks(self, model: type[Model], stripe_ids: set[str]) -> dict[str, int]:
        return self._select(model, "id", stripe_ids)

    def _fees(self, stripe_ids: set[str]) -> dict[str, int]:
        return self._select(BalanceTransaction, "fee", stripe_ids)

    def _fill(self, model: type[Model], name: str, target: type[Model], ids: list[str]) -> None:
        """Rows of `model` that named these `target` rows before they were mirrored get
        their foreign key: one UPDATE."""
        table = connection.ops.quote_name(model._meta.db_table)
        target_table = connection.ops.quote_name(target._meta.db_table)
        column = connection.ops.quote_name(model._meta.get_field(name).column)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {table} AS referencing SET {column} = referenced.id
                FROM {target_table} AS referenced
                WHERE referenced.account_id = %s AND referenced.stripe_id = ANY(%s)
                  AND referencing.account_id = %s
                  AND referencing.{name}_stripe_id = referenced.stripe_id
                  AND referencing.{column} IS NULL
                """,  # noqa: S608 (names come from the models; every value is a parameter)
                [self.account.pk, ids, self.account.pk],
            )

    def _copy_fees(self, stripe_ids: list[str]) -> None:
        """Charges take the fee of their balance transaction (one UPDATE)."""
        charges = connection.ops.quote_name(Charge._meta.db_table)
        transactions = connection.ops.quote_name(BalanceTransaction._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {charges} AS charge SET fee = txn.fee
                FROM {transactions} AS txn
                WHERE txn.account_id = %s AND txn.stripe_id = ANY(%s)
                  AND charge.account_id = %s
                  AND charge.balance_transaction_stripe_id = txn.stripe_id
                  AND charge.fee IS DISTINCT FROM txn.fee
                """,  # noqa: S608 (names come from the models; every value is a parameter)
                [self.account.pk, stripe_ids, self.account.pk],
            )


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
