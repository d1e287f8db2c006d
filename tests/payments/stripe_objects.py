"""Small Stripe objects and events for handler tests, shaped like Stripe's (only the keys
the code reads, plus `object`/`created`); ids are made up per test."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from typing import Any

from dashboard.models import Account

T0 = 1_750_000_000  # 2025-06-15 15:06:40 UTC
_sequence = count(1)


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, tz=UTC)


@dataclass
class FakeEvent:
    """The attributes of workbench.models.Event that handlers use."""

    account: Account
    type: str
    object: dict[str, Any]
    created: datetime
    livemode: bool = False
    sequence: int = field(default_factory=lambda: next(_sequence))
    connected_account: str = ""
    stripe_id: str = field(default_factory=lambda: f"evt_{next(_sequence)}")
    previous_attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def payload(self) -> dict[str, Any]:
        return {
            "id": self.stripe_id,
            "object": "event",
            "type": self.type,
            "created": int(self.created.timestamp()),
            "livemode": self.livemode,
            "data": {"object": self.object, "previous_attributes": self.previous_attributes},
        }


def customer(id="cus_1", created=0, **extra):
    return {
        "id": id,
        "object": "customer",
        "created": T0 + created,
        "email": "jenny@example.com",
        "name": "Jenny Rosen",
        "phone": None,
        "description": None,
        "delinquent": False,
        "livemode": False,
        **extra,
    }


def payment_method(id="pm_1", customer=None, **extra):
    return {
        "id": id,
        "object": "payment_method",
        "created": T0,
        "customer": customer,
        "type": "card",
        "card": {
            "brand": "visa",
            "last4": "4242",
            "exp_month": 8,
            "exp_year": 2030,
            "fingerprint": "fp4242",
            "country": "US",
            "wallet": None,
        },
        **extra,
    }


def balance_transaction(id="txn_1", amount=1000, fee=59, source="ch_1", **extra):
    return {
        "id": id,
        "object": "balance_transaction",
        "created": T0,
        "amount": amount,
        "fee": fee,
        "net": amount - fee,
        "currency": "usd",
        "type": "charge",
        "reporting_category": "charge",
        "status": "pending",
        "available_on": T0 + 2 * 86400,
        "source": source,
        **extra,
    }


def charge(id="ch_1", amount=1000, status="succeeded", created=0, **extra):
    succeeded = status == "succeeded"
    return {
        "id": id,
        "object": "charge",
        "created": T0 + created,
        "amount": amount,
        "amount_captured": amount if succeeded else 0,
        "amount_refunded": 0,
        "currency": "usd",
        "status": status,
        "paid": succeeded,
        "captured": succeeded,
        "refunded": False,
        "disputed": False,
        "failure_code": None if succeeded else "card_declined",
        "failure_message": None if succeeded else "Your card was declined.",
        "outcome": {
            "type": "authorized" if succeeded else "issuer_declined",
            "reason": None if succeeded else "generic_decline",
        },
        "customer": None,
        "payment_intent": None,
        "payment_method": "pm_1",
        "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}},
        "balance_transaction": None,
        "receipt_email": None,
        "description": None,
        "refunds": {"object": "list", "data": [], "has_more": False},
        **extra,
    }


def payment_intent(id="pi_1", amount=1000, status="succeeded", **extra):
    return {
        "id": id,
        "object": "payment_intent",
        "created": T0,
        "amount": amount,
        "amount_received": amount if status == "succeeded" else 0,
        "amount_capturable": 0,
        "currency": "usd",
        "status": status,
        "customer": None,
        "payment_method": "pm_1",
        "capture_method": "automatic",
        "description": None,
        "latest_charge": None,
        **extra,
    }


def refund(id="re_1", charge="ch_1", amount=400, status="succeeded", created=60, **extra):
    return {
        "id": id,
        "object": "refund",
        "created": T0 + created,
        "charge": charge,
        "amount": amount,
        "currency": "usd",
        "status": status,
        "reason": None,
        "balance_transaction": None,
        **extra,
    }


def dispute(id="dp_1", charge="ch_1", amount=1000, status="needs_response", **extra):
    return {
        "id": id,
        "object": "dispute",
        "created": T0 + 120,
        "charge": charge,
        "amount": amount,
        "currency": "usd",
        "status": status,
        "reason": "fraudulent",
        "evidence_details": {"due_by": T0 + 7 * 86400},
        "balance_transactions": [],
        **extra,
    }


def payout(id="po_1", status="pending", **extra):
    return {
        "id": id,
        "object": "payout",
        "created": T0,
        "amount": 5000,
        "currency": "usd",
        "status": status,
        "arrival_date": T0 + 86400,
        "method": "standard",
        "automatic": True,
        "failure_code": None,
        **extra,
    }


def topup(id="tu_1", status="pending", **extra):
    return {
        "id": id,
        "object": "topup",
        "created": T0,
        "amount": 10000,
        "currency": "usd",
        "status": status,
        **extra,
    }
