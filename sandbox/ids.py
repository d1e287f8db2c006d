"""Stripe-like object ids: a prefix, a time-ordered part, then randomness."""

from __future__ import annotations

import secrets
import time

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(ALPHABET[remainder])
    return "".join(reversed(digits))


def new_id(prefix: str, *, random_length: int = 14) -> str:
    """`cus_0Ux3kV9a...`: the leading part grows with real time (microseconds), so ids
    created later sort later, and the random tail keeps them unique across processes."""
    ordered = _base62(time.time_ns() // 1000, 9)
    return f"{prefix}_{ordered}{random_token(random_length)}"


def random_token(length: int) -> str:
    """`length` characters of ALPHABET from the OS's secure random source.

    One read of random bytes per call rather than one `secrets.choice` (one read) per
    character: ids are made by the dozen per request. Bytes of 248 and up are skipped, so
    that every character stays equally likely (248 = 4 × 62)."""
    characters: list[str] = []
    while len(characters) < length:
        for byte in secrets.token_bytes(length + length // 2 + 2):
            if byte < 248:
                characters.append(ALPHABET[byte % 62])
                if len(characters) == length:
                    break
    return "".join(characters)


# The object type behind each id prefix, for `expand[]` and generic look-ups.
PREFIX_TYPES = {
    "cus": "customer",
    "pm": "payment_method",
    "pi": "payment_intent",
    "ch": "charge",
    "re": "refund",
    "txn": "balance_transaction",
    "po": "payout",
    "tu": "topup",
    "dp": "dispute",
    "du": "dispute",
    "prod": "product",
    "price": "price",
    "evt": "event",
    "we": "webhook_endpoint",
    "py": "charge",
    "tr": "transfer",
    "trr": "transfer_reversal",
    "fee": "application_fee",
    "fr": "fee_refund",
}


def type_of(stripe_id: str) -> str | None:
    return PREFIX_TYPES.get(stripe_id.split("_", 1)[0])
