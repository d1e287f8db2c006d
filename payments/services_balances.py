"""Money out and in: manual payouts, cancelling a pending payout, top-ups.

Same rules as payments/services.py (kept apart so the two areas do not edit one file at
once): Stripe through the workbench client with an idempotency key, the answer mirrored at
once (write-through, with the balance transaction it created expanded so the balance moves
before the webhook arrives), an audit entry in the same transaction. A refusal by Stripe
raises `PaymentError` with Stripe's message and nothing is written.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_scopes import scope

from dashboard.models import Account, User
from dashboard.services import RequestContext, audit_record
from payments import mirroring
from payments.mirroring import Source, as_dict
from payments.models import BalanceTransaction, Payout, TopUp
from payments.services import (
    PaymentError,
    client_for,
    request_options,
    stripe_errors,
    without_blanks,
)


def _check_amount(amount: int, currency: str) -> str:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise PaymentError("The amount must be a positive whole number of minor units.")
    currency = currency.lower()
    if len(currency) != 3:
        raise PaymentError("Give a three-letter currency code.")
    return currency


def _store_with_transaction(source: Source, obj: dict[str, Any], *fields: str) -> None:
    """Mirror the balance transactions an answer carries expanded (payout, cancellation)."""
    for name in fields:
        expanded = obj.get(name)
        if isinstance(expanded, dict):
            mirroring.store_balance_transaction(source, expanded)


def payout_create(
    *,
    account: Account,
    livemode: bool,
    amount: int,
    currency: str,
    actor: User | None,
    description: str = "",
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> Payout:
    """A manual payout of `amount` minor units from the available balance to the bank."""
    currency = _check_amount(amount, currency)
    params = without_blanks(
        {
            "amount": amount,
            "currency": currency,
            "description": description,
            "expand": ["balance_transaction"],
        }
    )
    client = client_for(account, livemode)
    with stripe_errors():
        answer = as_dict(
            client.v1.payouts.create(params=params, options=request_options(idempotency_key))
        )
    source = Source.api_read(account=account, livemode=livemode)
    with scope(account=account), transaction.atomic():
        _store_with_transaction(source, answer, "balance_transaction")
        payout = mirroring.store_payout(source, answer)
        audit_record(
            account=account,
            actor=actor,
            action="payout.created",
            target=payout,
            metadata={"amount": amount, "currency": currency, "description": description},
            context=context,
        )
    return payout


def payout_cancel(
    *,
    account: Account,
    livemode: bool,
    payout: Payout,
    actor: User | None,
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> Payout:
    """Cancels a payout Stripe has not sent yet; the amount returns to the balance."""
    client = client_for(account, livemode)
    with stripe_errors():
        answer = as_dict(
            client.v1.payouts.cancel(
                payout.stripe_id,
                params={"expand": ["failure_balance_transaction"]},
                options=request_options(idempotency_key, payout.stripe_account),
            )
        )
    source = Source.api_read(
        account=account, livemode=livemode, stripe_account=payout.stripe_account
    )
    with scope(account=account), transaction.atomic():
        _store_with_transaction(source, answer, "failure_balance_transaction")
        payout = mirroring.store_payout(source, answer)
        audit_record(
            account=account,
            actor=actor,
            action="payout.canceled",
            target=payout,
            metadata={"amount": payout.amount, "currency": payout.currency},
            context=context,
        )
    return payout


def topup_create(
    *,
    account: Account,
    livemode: bool,
    amount: int,
    currency: str,
    actor: User | None,
    description: str = "",
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> TopUp:
    """Adds funds to the balance from the account's bank account."""
    currency = _check_amount(amount, currency)
    params = without_blanks(
        {
            "amount": amount,
            "currency": currency,
            "description": description,
            "expand": ["balance_transaction"],
        }
    )
    client = client_for(account, livemode)
    with stripe_errors():
        answer = as_dict(
            client.v1.topups.create(params=params, options=request_options(idempotency_key))
        )
    source = Source.api_read(account=account, livemode=livemode)
    with scope(account=account), transaction.atomic():
        _store_with_transaction(source, answer, "balance_transaction")
        topup = mirroring.store_topup(source, answer)
        audit_record(
            account=account,
            actor=actor,
            action="topup.created",
            target=topup,
            metadata={"amount": amount, "currency": currency, "description": description},
            context=context,
        )
    return topup


# --- Which balance transactions a payout settled ----------------------------------------


def _link(account: Account, livemode: bool, payout_id: str, transaction_ids: list[str]) -> int:
    return (
        BalanceTransaction.objects.filter(
            account=account, livemode=livemode, stripe_id__in=[t for t in transaction_ids if t]
        )
        .exclude(payout_stripe_id=payout_id)
        .update(payout_stripe_id=payout_id)
    )


def payout_transactions_link(*, account: Account, livemode: bool, payout: Payout) -> int:
    """Records which balance transactions `payout` settled, as Stripe lists them with
    `GET /v1/balance_transactions?payout=` (a balance transaction carries no payout field).
    Stripe answers that filter for automatic payouts only; a manual payout settles nothing
    but its own transaction, which the mirror links already.

    Transactions we do not mirror yet are stored from the same answer. Call inside the
    account's scope; returns how many rows were linked anew.
    """
    client = client_for(account, livemode)
    options = {"stripe_account": payout.stripe_account} if payout.stripe_account else {}
    source = Source.api_read(
        account=account, livemode=livemode, stripe_account=payout.stripe_account
    )
    listed: list[str] = []
    with stripe_errors():
        page = client.v1.balance_transactions.list(
            params={"payout": payout.stripe_id, "limit": 100}, options=options
        )
        for item in page.auto_paging_iter():
            item = as_dict(item)
            if not BalanceTransaction.objects.filter(
                account=account, stripe_id=item["id"]
            ).exists():
                mirroring.store_balance_transaction(source, item)
            listed.append(item["id"])
    return _link(account, livemode, payout.stripe_id, listed)
