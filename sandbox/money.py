"""Amounts as Stripe writes them in error messages ("$21.45")."""

from __future__ import annotations

ZERO_DECIMAL = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
    "vuv", "xaf", "xof", "xpf",
}  # fmt: skip
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "$", "aud": "$"}


def display(amount: int, currency: str) -> str:
    symbol = SYMBOLS.get(currency, "")
    suffix = "" if symbol else f" {currency.upper()}"
    if currency in ZERO_DECIMAL:
        return f"{symbol}{amount:,}{suffix}"
    return f"{symbol}{amount // 100:,}.{amount % 100:02d}{suffix}"
