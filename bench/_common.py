"""Shared set-up for the benchmarks: Django on the configured database, a bench tenant,
signed Stripe-shaped events. Benchmarks print figures; they are not part of the tests."""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paydesk.settings")


def setup_django() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_account(slug: str):
    """A fresh tenant for one benchmark run (its previous rows are deleted)."""
    from dashboard.models import Account

    Account.objects.filter(slug=slug).delete()
    return Account.objects.create(slug=slug, name=f"Bench {slug}", default_currency="usd")


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def charge_object(*, number: int, created: int, amount: int, refunded: int = 0) -> dict:
    """A charge in Stripe's shape, with its balance transaction expanded."""
    fee = amount * 29 // 1000 + 30
    charge_id = f"ch_bench{number:010d}"
    return {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": refunded,
        "balance_transaction": {
            "id": f"txn_bench{number:010d}",
            "object": "balance_transaction",
            "amount": amount,
            "available_on": created + 2 * 86400,
            "created": created,
            "currency": "usd",
            "description": None,
            "fee": fee,
            "fee_details": [
                {
                    "amount": fee,
                    "currency": "usd",
                    "description": "Stripe processing fees",
                    "type": "stripe_fee",
                    "application": None,
                }
            ],
            "net": amount - fee,
            "reporting_category": "charge",
            "source": charge_id,
            "status": "pending",
            "type": "charge",
        },
        "billing_details": {"address": {}, "email": None, "name": None, "phone": None},
        "captured": True,
        "created": created,
        "currency": "usd",
        "customer": None,
        "description": "Bench payment",
        "disputed": False,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": {},
        "outcome": {
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": True,
        "payment_intent": f"pi_bench{number:010d}",
        "payment_method": f"pm_bench{number:010d}",
        "payment_method_details": {
            "card": {
                "brand": random.choice(["visa", "mastercard"]),
                "last4": "4242",
                "exp_month": 12,
                "exp_year": 2030,
                "country": "US",
                "fingerprint": "benchfp",
            },
            "type": "card",
        },
        "receipt_email": None,
        "refunded": refunded == amount,
        "refunds": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/charges/{charge_id}/refunds",
        },
        "status": "succeeded",
    }


def event(*, event_id: str, event_type: str, created: int, obj: dict) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2025-10-29.clover",
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")
