"""Reads of the balance, payouts, top-ups and balance history (the Balances pages).

Kept beside payments/selectors.py rather than inside it so the Balances pages and the
payment pages can change at the same time without touching each other's code; the keyset
pagination is the same (`payments.selectors.keyset_page`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum

from dashboard.models import Account
from payments.models import BalanceTransaction, Payout, TopUp
from payments.selectors import Page, keyset_page

UPCOMING_PAYOUT_STATUSES = ("pending", "in_transit")
BALANCE_TRANSACTION_TYPES = (
    ("charge", "Charge"),
    ("payment", "Payment"),
    ("refund", "Refund"),
    ("payment_refund", "Payment refund"),
    ("adjustment", "Adjustment"),
    ("payout", "Payout"),
    ("payout_cancel", "Payout cancellation"),
    ("payout_failure", "Payout failure"),
    ("topup", "Top-up"),
    ("topup_reversal", "Top-up reversal"),
    ("stripe_fee", "Stripe fee"),
    ("application_fee", "Application fee"),
    ("transfer", "Transfer"),
)


@dataclass(frozen=True)
class CurrencyBalance:
    currency: str
    available: int = 0
    pending: int = 0


def balance_summary(*, account: Account, livemode: bool) -> list[CurrencyBalance]:
    """Available and pending funds per currency, as Stripe computes them: the sum of `net`
    over the balance transactions in each status. The default currency comes first."""
    totals: dict[str, dict[str, int]] = {}
    rows = (
        BalanceTransaction.objects.filter(
            account=account,
            livemode=livemode,
            stripe_account="",
            status__in=("available", "pending"),
        )
        .values_list("currency", "status")
        .annotate(total=Sum("net"))
        .order_by()
    )
    for currency, status, total in rows:
        totals.setdefault(currency, {"available": 0, "pending": 0})[status] = total or 0
    default = account.default_currency.lower()
    return [
        CurrencyBalance(currency=code, **totals[code])
        for code in sorted(totals, key=lambda code: (code != default, code))
    ]


def payouts_upcoming(*, account: Account, livemode: bool, limit: int = 20) -> list[Payout]:
    return list(
        Payout.objects.filter(
            account=account,
            livemode=livemode,
            stripe_account="",
            status__in=UPCOMING_PAYOUT_STATUSES,
        ).order_by("arrival_date", "-id")[:limit]
    )


def payout_list(
    *,
    account: Account,
    livemode: bool,
    status: str = "",
    after: str | None = None,
    limit: int = 25,
) -> Page[Payout]:
    queryset = Payout.objects.filter(account=account, livemode=livemode, stripe_account="")
    if status:
        queryset = queryset.filter(status=status)
    return keyset_page(queryset, after=after, limit=limit)


def payout_get(*, account: Account, livemode: bool, stripe_id: str) -> Payout | None:
    return Payout.objects.filter(account=account, livemode=livemode, stripe_id=stripe_id).first()


def payout_transactions(*, account: Account, payout: Payout) -> list[BalanceTransaction]:
    """The balance transactions a payout settled, its own transaction included, as
    `GET /v1/balance_transactions?payout=` lists them (linked by payments.payout_links)."""
    return list(
        BalanceTransaction.objects.filter(
            account=account, livemode=payout.livemode, payout_stripe_id=payout.stripe_id
        ).order_by("-created", "-id")
    )


def balance_transaction_list(
    *,
    account: Account,
    livemode: bool,
    type: str = "",
    currency: str = "",
    after: str | None = None,
    limit: int = 25,
) -> Page[BalanceTransaction]:
    queryset = BalanceTransaction.objects.filter(
        account=account, livemode=livemode, stripe_account=""
    )
    if type:
        queryset = queryset.filter(type=type)
    if currency:
        queryset = queryset.filter(currency=currency.lower())
    return keyset_page(queryset, after=after, limit=limit)


def topup_list(
    *, account: Account, livemode: bool, after: str | None = None, limit: int = 25
) -> Page[TopUp]:
    return keyset_page(
        TopUp.objects.filter(account=account, livemode=livemode, stripe_account=""),
        after=after,
        limit=limit,
    )


def form_currencies(*, account: Account, livemode: bool) -> list[str]:
    """Currencies offered by the payout and top-up forms: the account's default first,
    then every currency the balance holds."""
    default = account.default_currency.lower()
    held = (
        BalanceTransaction.objects.filter(account=account, livemode=livemode, stripe_account="")
        .values_list("currency", flat=True)
        .distinct()
        .order_by()
    )
    return list(dict.fromkeys([default, *sorted(held)]))
