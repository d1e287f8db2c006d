"""Money: integer minor units plus an ISO currency, formatted by one helper."""

from __future__ import annotations

from decimal import Decimal

# ISO 4217 currencies Stripe treats as zero-decimal (docs.stripe.com/currencies).
ZERO_DECIMAL = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "krw": "₩", "cad": "CA$", "aud": "A$"}


def decimals_for(currency: str) -> int:
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def to_major(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-decimals_for(currency))


def to_minor(value: Decimal | str, currency: str) -> int:
    """'25.00' USD -> 2500. Refuses more precision than the currency has."""
    quantity = Decimal(str(value)).scaleb(decimals_for(currency))
    if quantity != quantity.to_integral_value():
        raise ValueError(f"{value} has more decimals than {currency.upper()} allows")
    return int(quantity)


def format_money(amount: int | None, currency: str, *, show_code: bool = False) -> str:
    if amount is None:
        return "—"
    code = currency.lower()
    places = decimals_for(code)
    major = to_major(abs(amount), code)
    number = f"{major:,.{places}f}"
    sign = "-" if amount < 0 else ""
    symbol = SYMBOLS.get(code)
    text = f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {code.upper()}"
    if show_code and symbol:
        text = f"{text} {code.upper()}"
    return text
