"""Stripe-like processing fees: one table, per currency (percentage + fixed minor units)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

# currency: (percentage, fixed amount in minor units). Domestic card pricing.
CARD_FEES: dict[str, tuple[Decimal, int]] = {
    "usd": (Decimal("2.9"), 30),
    "cad": (Decimal("2.9"), 30),
    "aud": (Decimal("1.75"), 30),
    "eur": (Decimal("1.5"), 25),
    "gbp": (Decimal("1.5"), 20),
    "chf": (Decimal("2.9"), 30),
    "jpy": (Decimal("3.6"), 0),
}
DEFAULT_FEE = (Decimal("2.9"), 30)
DISPUTE_FEES = {"usd": 1500, "eur": 2000, "gbp": 2000, "jpy": 1500}
DEFAULT_DISPUTE_FEE = 1500


def card_fee(amount: int, currency: str) -> int:
    table = {**CARD_FEES, **getattr(settings, "SANDBOX_CARD_FEES", {})}
    percentage, fixed = table.get(currency, DEFAULT_FEE)
    percentage = Decimal(str(percentage))
    variable = (Decimal(amount) * percentage / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(variable) + int(fixed)


def dispute_fee(currency: str) -> int:
    return DISPUTE_FEES.get(currency, DEFAULT_DISPUTE_FEE)
