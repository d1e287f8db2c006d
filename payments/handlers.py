"""Webhook event handlers of the payments core, registered from PaymentsConfig.ready().

Each handler stores the event's object through `payments.mirroring` with the event's time
and arrival sequence, so an older event never overwrites newer data and a replay writes
the same row again.

Balance transactions: Stripe sends a charge's and a refund's `balance_transaction` as an id
and has no event of its own for it. When the mirror does not hold that transaction yet, the
handler reads it through the workbench client (once: a mirrored transaction is not read
again; its later move from pending to available is applied on `balance.available`). This
keeps fees and net volume exact against Stripe as well as the sandbox, at the cost of one
API read per new charge or refund.
"""

from __future__ import annotations

from typing import Any

from payments import mirroring
from payments.mirroring import Source, stripe_id_of
from payments.models import BalanceTransaction
from workbench import client as workbench_client
from workbench.dispatch import handles

CUSTOMER_EVENTS = ("customer.created", "customer.updated", "customer.deleted")
PAYMENT_METHOD_EVENTS = (
    "payment_method.attached",
    "payment_method.detached",
    "payment_method.updated",
    "payment_method.automatically_updated",
)
DISPUTE_EVENTS = ("charge.dispute.*",)
REFUND_EVENTS = ("refund.*", "charge.refund.updated")


def ensure_balance_transaction(source: Source, balance_transaction: Any) -> None:
    """Mirror a balance transaction known only by id, reading it from Stripe if needed."""
    if not balance_transaction or not isinstance(balance_transaction, str):
        return
    if BalanceTransaction.objects.filter(
        account=source.account, stripe_id=balance_transaction
    ).exists():
        return
    client = workbench_client.stripe_client(account=source.account, livemode=source.livemode)
    options = {"stripe_account": source.stripe_account} if source.stripe_account else {}
    fetched = client.v1.balance_transactions.retrieve(balance_transaction, options=options)
    mirroring.store_balance_transaction(
        Source.api_read(
            account=source.account,
            livemode=source.livemode,
            stripe_account=source.stripe_account,
        ),
        fetched,
    )


@handles(*CUSTOMER_EVENTS)
def customer_changed(event) -> None:
    mirroring.store_customer(Source.from_event(event), event.object)


@handles(*PAYMENT_METHOD_EVENTS)
def payment_method_changed(event) -> None:
    mirroring.store_payment_method(Source.from_event(event), event.object)


@handles("payment_intent.*")
def payment_intent_changed(event) -> None:
    mirroring.store_payment_intent(Source.from_event(event), event.object)


@handles("charge.*")
def charge_changed(event) -> None:
    source = Source.from_event(event)
    mirroring.store_charge(source, event.object)
    ensure_balance_transaction(source, event.object.get("balance_transaction"))
    for refund in (event.object.get("refunds") or {}).get("data") or []:
        ensure_balance_transaction(source, refund.get("balance_transaction"))


@handles(*REFUND_EVENTS)
def refund_changed(event) -> None:
    source = Source.from_event(event)
    mirroring.store_refund(source, event.object)
    ensure_balance_transaction(source, event.object.get("balance_transaction"))


@handles(*DISPUTE_EVENTS)
def dispute_changed(event) -> None:
    source = Source.from_event(event)
    mirroring.store_dispute(source, event.object)
    for transaction in event.object.get("balance_transactions") or []:
        ensure_balance_transaction(source, stripe_id_of(transaction))


@handles("balance.available")
def balance_available(event) -> None:
    mirroring.mark_funds_available(
        account=event.account, livemode=bool(event.livemode), as_of=event.created
    )


@handles("payout.*")
def payout_changed(event) -> None:
    mirroring.store_payout(Source.from_event(event), event.object)


@handles("topup.*")
def topup_changed(event) -> None:
    mirroring.store_topup(Source.from_event(event), event.object)
