"""Turning Connect objects into mirror rows; handlers, services and backfills share these.

Connected accounts, transfers and application fees are platform objects: their rows have
`stripe_account` "" even when the event that carried them names the connected account.
"""

from __future__ import annotations

from typing import Any

from connect.models import (
    ApplicationFee,
    ConnectedAccount,
    Transfer,
    TransferReversal,
    account_status,
)
from payments.mirroring import Source, as_dict, fill_references, lower, pk_of, stripe_id_of, text
from workbench.mirror import from_timestamp, upsert


def _store(model, source: Source, obj: dict[str, Any], fields: dict[str, Any]):
    return upsert(
        model,
        account=source.account,
        livemode=source.livemode,
        obj=obj,
        fields=fields,
        source_time=source.time,
        source_sequence=source.sequence,
        stripe_account="",
    )


def store_connected_account(source: Source, obj: Any) -> ConnectedAccount:
    obj = as_dict(obj)
    requirements = obj.get("requirements") or {}
    profile = obj.get("business_profile") or {}
    schedule = ((obj.get("settings") or {}).get("payouts") or {}).get("schedule") or {}
    row, _ = _store(
        ConnectedAccount,
        source,
        obj,
        {
            "type": text(obj.get("type")),
            "status": account_status(obj),
            "country": text(obj.get("country"))[:2],
            "email": text(obj.get("email"))[:512],
            "business_name": text(profile.get("name"))[:256],
            "default_currency": lower(obj.get("default_currency"))[:3],
            "charges_enabled": bool(obj.get("charges_enabled")),
            "payouts_enabled": bool(obj.get("payouts_enabled")),
            "details_submitted": bool(obj.get("details_submitted")),
            "requirements": requirements,
            "disabled_reason": text(requirements.get("disabled_reason"))[:64],
            "current_deadline": from_timestamp(requirements.get("current_deadline")),
            "payout_interval": text(schedule.get("interval")),
            "deauthorized": bool(obj.get("deleted")),
        },
    )
    fill_references(
        [(Transfer, "destination"), (ApplicationFee, "connected_account")], row, source.account
    )
    return row


def store_transfer(source: Source, obj: Any) -> Transfer:
    obj = as_dict(obj)
    destination = stripe_id_of(obj.get("destination"))
    row, written = _store(
        Transfer,
        source,
        obj,
        {
            "amount": int(obj.get("amount") or 0),
            "amount_reversed": int(obj.get("amount_reversed") or 0),
            "currency": lower(obj.get("currency")),
            "destination_stripe_id": destination,
            "destination_id": pk_of(ConnectedAccount, source.account, destination),
            "destination_payment_stripe_id": stripe_id_of(obj.get("destination_payment")),
            "source_transaction_stripe_id": stripe_id_of(obj.get("source_transaction")),
            "transfer_group": text(obj.get("transfer_group"))[:255],
            "description": text(obj.get("description")),
            "reversed": bool(obj.get("reversed")),
        },
    )
    if written:
        for reversal in (obj.get("reversals") or {}).get("data") or []:
            store_transfer_reversal(source, reversal)
    fill_references([(TransferReversal, "transfer")], row, source.account)
    return row


def store_transfer_reversal(source: Source, obj: Any) -> TransferReversal:
    obj = as_dict(obj)
    transfer = stripe_id_of(obj.get("transfer"))
    row, _ = _store(
        TransferReversal,
        source,
        obj,
        {
            "transfer_stripe_id": transfer,
            "transfer_id": pk_of(Transfer, source.account, transfer),
            "amount": int(obj.get("amount") or 0),
            "currency": lower(obj.get("currency")),
        },
    )
    return row


def store_application_fee(source: Source, obj: Any) -> ApplicationFee:
    obj = as_dict(obj)
    connected = stripe_id_of(obj.get("account"))
    row, _ = _store(
        ApplicationFee,
        source,
        obj,
        {
            "connected_account_stripe_id": connected,
            "connected_account_id": pk_of(ConnectedAccount, source.account, connected),
            "amount": int(obj.get("amount") or 0),
            "amount_refunded": int(obj.get("amount_refunded") or 0),
            "currency": lower(obj.get("currency")),
            "charge_stripe_id": stripe_id_of(obj.get("charge")),
            "refunded": bool(obj.get("refunded")),
        },
    )
    return row
