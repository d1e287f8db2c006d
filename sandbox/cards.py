"""Stripe's test cards: brand and behaviour by number, and the `pm_card_*` test ids.

A card number is only ever held in a local variable while a payment method is created:
last4, brand, fingerprint and the test behaviour are derived and the number is dropped.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings

from sandbox.errors import StripeError


@dataclass(frozen=True)
class Behaviour:
    """What happens when the card is charged: a decline, 3DS, a dispute, or success."""

    decline_code: str | None = None
    error_code: str = "card_declined"
    message: str = "Your card was declined."
    declines_on_attach: bool = False
    requires_action: bool = False
    disputes: bool = False


SUCCESS = Behaviour()
BEHAVIOURS = {
    "success": SUCCESS,
    "generic_decline": Behaviour("generic_decline", declines_on_attach=True),
    "insufficient_funds": Behaviour(
        "insufficient_funds", message="Your card has insufficient funds."
    ),
    "lost_card": Behaviour("lost_card", declines_on_attach=True),
    "stolen_card": Behaviour("stolen_card", declines_on_attach=True),
    "expired_card": Behaviour(
        "expired_card", error_code="expired_card", message="Your card has expired."
    ),
    "incorrect_cvc": Behaviour(
        "incorrect_cvc",
        error_code="incorrect_cvc",
        message="Your card's security code is incorrect.",
    ),
    "processing_error": Behaviour(
        "processing_error",
        error_code="processing_error",
        message="An error occurred while processing your card. Try again in a little bit.",
    ),
    "three_d_secure": Behaviour(requires_action=True),
    "dispute_fraudulent": Behaviour(disputes=True),
}

# number: (behaviour, funding, country)
TEST_CARDS = {
    "4242424242424242": ("success", "credit", "US"),
    "4000056655665556": ("success", "debit", "US"),
    "5555555555554444": ("success", "credit", "US"),
    "2223003122003222": ("success", "credit", "US"),
    "378282246310005": ("success", "credit", "US"),
    "6011111111111117": ("success", "credit", "US"),
    "4000000000000077": ("success", "credit", "US"),
    "4000000000000002": ("generic_decline", "credit", "US"),
    "4000000000009995": ("insufficient_funds", "credit", "US"),
    "4000000000009987": ("lost_card", "credit", "US"),
    "4000000000009979": ("stolen_card", "credit", "US"),
    "4000000000000069": ("expired_card", "credit", "US"),
    "4000000000000127": ("incorrect_cvc", "credit", "US"),
    "4000000000000119": ("processing_error", "credit", "US"),
    "4000002500003155": ("three_d_secure", "credit", "US"),
    "4000000000003220": ("three_d_secure", "credit", "US"),
    "4000000000000259": ("dispute_fraudulent", "credit", "US"),
    "4000000760000002": ("success", "credit", "BR"),
    "4000000560000004": ("success", "credit", "FR"),
    "4000008260000000": ("success", "credit", "GB"),
}

TEST_PAYMENT_METHODS = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_amex": "378282246310005",
    "pm_card_discover": "6011111111111117",
    "pm_card_us": "4000000000000077",
    "pm_card_br": "4000000760000002",
    "pm_card_fr": "4000000560000004",
    "pm_card_gb": "4000008260000000",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_authenticationRequired": "4000002500003155",
    "pm_card_threeDSecure2Required": "4000000000003220",
    "pm_card_createDispute": "4000000000000259",
}


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    if number.startswith(("6011", "65", "644", "645", "646", "647", "648", "649")):
        return "discover"
    if number.startswith("35"):
        return "jcb"
    if number[:2] in {"30", "36", "38"}:
        return "diners"
    if number.startswith("62"):
        return "unionpay"
    return "unknown"


def luhn_valid(number: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = int(digit)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def fingerprint(number: str, account_id: str) -> str:
    """The same card gives the same fingerprint within one emulated account, as at Stripe."""
    key = f"{settings.SECRET_KEY}:{account_id}".encode()
    digest = hmac.new(key, number.encode(), hashlib.sha256).hexdigest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    number_value = int(digest, 16)
    return "".join(alphabet[(number_value >> (6 * i)) % 62] for i in range(16))


def card_error(
    message: str, *, code: str, param: str | None = None, decline_code: str | None = None
) -> StripeError:
    return StripeError(
        message, type="card_error", status=402, code=code, param=param, decline_code=decline_code
    )


def describe(number: str, account_id: str) -> dict[str, str]:
    """Validate a card number and return what may be kept of it (never the number)."""
    digits = number.replace(" ", "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise card_error(
            "Your card number is incorrect.", code="invalid_number", param="card[number]"
        )
    if not luhn_valid(digits):
        raise card_error(
            "Your card number is incorrect.", code="incorrect_number", param="card[number]"
        )
    behaviour, funding, country = TEST_CARDS.get(digits, ("success", "credit", "US"))
    return {
        "brand": brand_of(digits),
        "last4": digits[-4:],
        "fingerprint": fingerprint(digits, account_id),
        "funding": funding,
        "country": country,
        "behaviour": behaviour,
    }
