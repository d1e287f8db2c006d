"""Reads of the payments mirror for the REST API (payments/api.py).

Each returns a queryset of one account and mode, unordered: the API pages it by object id
(`workbench.api_auth.cursor_page`), as Stripe's `starting_after`/`ending_before` do. Kept
beside payments/selectors.py, like selectors_balances.py, so the pages and the API can
change at the same time without editing one file.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

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
)


def customers(*, account: Account, livemode: bool, email: str = "") -> QuerySet[Customer]:
    queryset = Customer.objects.filter(
        account=account, livemode=livemode, stripe_account="", deleted=False
    )
    if email:
        queryset = queryset.filter(email__iexact=email.strip())
    return queryset


def payment_methods(
    *, account: Account, livemode: bool, customer: str = "", type: str = ""
) -> QuerySet[PaymentMethod]:
    queryset = PaymentMethod.objects.filter(account=account, livemode=livemode)
    if customer:
        queryset = queryset.filter(customer_stripe_id=customer)
    if type:
        queryset = queryset.filter(type=type)
    return queryset


def payment_intents(
    *, account: Account, livemode: bool, customer: str = ""
) -> QuerySet[PaymentIntent]:
    queryset = PaymentIntent.objects.filter(account=account, livemode=livemode, stripe_account="")
    if customer:
        queryset = queryset.filter(customer_stripe_id=customer)
    return queryset


def charges(*, account: Account, livemode: bool) -> QuerySet[Charge]:
    return Charge.objects.filter(account=account, livemode=livemode, stripe_account="")


def charge_of_intent(*, account: Account, livemode: bool, intent: PaymentIntent) -> Charge | None:
    return charges(account=account, livemode=livemode).filter(
        stripe_id=intent.latest_charge_stripe_id
    ).first() or (
        charges(account=account, livemode=livemode)
        .filter(payment_intent_stripe_id=intent.stripe_id)
        .order_by("-created", "-id")
        .first()
    )


def refunds(
    *, account: Account, livemode: bool, charge: str = "", payment_intent: str = ""
) -> QuerySet[Refund]:
    queryset = Refund.objects.filter(account=account, livemode=livemode, stripe_account="")
    if charge:
        queryset = queryset.filter(charge_stripe_id=charge)
    if payment_intent:
        queryset = queryset.filter(
            charge_stripe_id__in=Charge.objects.filter(
                account=account, payment_intent_stripe_id=payment_intent
            ).values("stripe_id")
        )
    return queryset


def balance_transactions(
    *,
    account: Account,
    livemode: bool,
    type: str = "",
    currency: str = "",
    payout: str = "",
    created_gte: datetime | None = None,
    created_lte: datetime | None = None,
    created_gt: datetime | None = None,
    created_lt: datetime | None = None,
) -> QuerySet[BalanceTransaction]:
    queryset = BalanceTransaction.objects.filter(
        account=account, livemode=livemode, stripe_account=""
    )
    if type:
        queryset = queryset.filter(type=type)
    if currency:
        queryset = queryset.filter(currency=currency.lower())
    if payout:
        queryset = queryset.filter(payout_stripe_id=payout)
    bounds = {
        "created__gte": created_gte,
        "created__lte": created_lte,
        "created__gt": created_gt,
        "created__lt": created_lt,
    }
    return queryset.filter(**{name: value for name, value in bounds.items() if value})


def payouts(*, account: Account, livemode: bool, status: str = "") -> QuerySet[Payout]:
    queryset = Payout.objects.filter(account=account, livemode=livemode, stripe_account="")
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def disputes(
    *, account: Account, livemode: bool, charge: str = "", status: str = ""
) -> QuerySet[Dispute]:
    queryset = Dispute.objects.filter(account=account, livemode=livemode, stripe_account="")
    if charge:
        queryset = queryset.filter(charge_stripe_id=charge)
    if status:
        queryset = queryset.filter(status=status)
    return queryset
