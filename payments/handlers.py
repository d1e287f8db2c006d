"""Webhook event handlers of the payments core, registered from PaymentsConfig.ready().

The hot kinds (customers, payment methods, payment intents, charges, refunds, disputes) are
batch handlers: each gets all of a batch's events of its kinds for one account and stores
their objects through one `payments.mirroring.MirrorBatch` (a few statements per kind,
whatever the number of events), with each event's time and arrival sequence, so an older
event never overwrites newer data and a replay writes the same rows again. Rarer kinds
(balance, payouts, top-ups) stay per event.

They run in registration order, which is the order references need (customers before
payment intents before charges before refunds and disputes; funds made available after the
balance transactions of the batch are mirrored); the rollups (reporting.handlers) run after
them all.

Balance transactions: Stripe sends a charge's and a refund's `balance_transaction` as an id
and has no event of its own for it. When the mirror does not hold that transaction yet, the
handler reads it through the workbench client (once: a mirrored transaction is not read
again; its later move from pending to available is applied on `balance.available`). This
keeps fees and net volume exact against Stripe as well as the sandbox, at the cost of one
API read per new charge or refund; a batch finds the missing ones with one query.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dashboard.models import Account
from payments import mirroring
from payments.mirroring import MirrorBatch, Source, stripe_id_of
from payments.models import BalanceTransaction
from workbench import client as workbench_client
from workbench.dispatch import handles, handles_batch

CUSTOMER_EVENTS = ("customer.created", "customer.updated", "customer.deleted")
PAYMENT_METHOD_EVENTS = (
    "payment_method.attached",
    "payment_method.detached",
    "payment_method.updated",
    "payment_method.automatically_updated",
)
DISPUTE_EVENTS = ("charge.dispute.*",)
REFUND_EVENTS = ("refund.*", "charge.refund.updated")


def ensure_balance_transactions(account: Account, wanted: Iterable[tuple[Source, Any]]) -> None:
    """Mirror the balance transactions known only by id that the mirror lacks: one query
    finds which, then each missing one is read from Stripe once."""
    wanted = [(source, txn) for source, txn in wanted if txn and isinstance(txn, str)]
    if not wanted:
        return
    held = set(
        BalanceTransaction.objects.filter(
            account=account, stripe_id__in={txn for _, txn in wanted}
        ).values_list("stripe_id", flat=True)
    )
    batch = MirrorBatch(account)
    for source, txn in wanted:
        if txn in held:
            continue
        held.add(txn)
        client = workbench_client.stripe_client(account=source.account, livemode=source.livemode)
        options = {"stripe_account": source.stripe_account} if source.stripe_account else {}
        fetched = client.v1.balance_transactions.retrieve(txn, options=options)
        read = Source.api_read(
            account=source.account, livemode=source.livemode, stripe_account=source.stripe_account
        )
        batch.add_balance_transaction(read, fetched)
    batch.flush()


def ensure_balance_transaction(source: Source, balance_transaction: Any) -> None:
    """Mirror a balance transaction known only by id, reading it from Stripe if needed."""
    ensure_balance_transactions(source.account, [(source, balance_transaction)])


def _refund_transactions(source: Source, obj: dict[str, Any]) -> list[tuple[Source, Any]]:
    return [
        (source, refund.get("balance_transaction"))
        for refund in (obj.get("refunds") or {}).get("data") or []
    ]


@handles_batch(*CUSTOMER_EVENTS)
def customer_changed(events) -> None:
    batch = MirrorBatch(events[0].account)
    for event in events:
        batch.add_customer(Source.from_event(event), event.object)
    batch.flush()


@handles_batch(*PAYMENT_METHOD_EVENTS)
def payment_method_changed(events) -> None:
    batch = MirrorBatch(events[0].account)
    for event in events:
        batch.add_payment_method(Source.from_event(event), event.object)
    batch.flush()


@handles_batch("payment_intent.*")
def payment_intent_changed(events) -> None:
    batch = MirrorBatch(events[0].account)
    for event in events:
        batch.add_payment_intent(Source.from_event(event), event.object)
    batch.flush()


@handles_batch("charge.*")
def charge_changed(events) -> None:
    batch = MirrorBatch(events[0].account)
    for event in events:
        batch.add_charge(Source.from_event(event), event.object)
    batch.flush()


@handles_batch(*REFUND_EVENTS)
def refund_changed(events) -> None:
    batch = MirrorBatch(events[0].account)
    for event in events:
        batch.add_refund(Source.from_event(event), event.object)
    batch.flush()


@handles_batch(*DISPUTE_EVENTS)
def dispute_changed(events) -> None:
    batch = MirrorBatch(events[0].account)
    for event in events:
        batch.add_dispute(Source.from_event(event), event.object)
    batch.flush()


@handles_batch("charge.*", *REFUND_EVENTS, *DISPUTE_EVENTS)
def balance_transactions_known_by_id(events) -> None:
    """The balance transactions these events name only by id, read if not mirrored yet.

    Runs after every handler that stores objects of the batch (registered after them), so
    a transaction another event of the batch carries expanded is not read again."""
    wanted: list[tuple[Source, Any]] = []
    for event in events:
        source, obj = Source.from_event(event), event.object
        if event.type.startswith("charge.dispute."):
            wanted.extend((source, stripe_id_of(t)) for t in obj.get("balance_transactions") or [])
            continue
        wanted.append((source, obj.get("balance_transaction")))
        if obj.get("object") == "charge":
            wanted.extend(_refund_transactions(source, obj))
    ensure_balance_transactions(events[0].account, wanted)


@handles("balance.available")
def balance_available(event) -> None:
    mirroring.mark_funds_available(
        account=event.account, livemode=bool(event.livemode), as_of=event.created
    )


@handles("payout.*")
def payout_changed(event) -> None:
    source = Source.from_event(event)
    mirroring.store_payout(source, event.object)
    # The payout's own transaction takes the money out of the available balance from the
    # moment the payout is created (and its failure transaction puts it back), as at Stripe.
    ensure_balance_transactions(
        source.account,
        [
            (source, event.object.get(field))
            for field in ("balance_transaction", "failure_balance_transaction")
        ],
    )


@handles("topup.*")
def topup_changed(event) -> None:
    source = Source.from_event(event)
    mirroring.store_topup(source, event.object)
    ensure_balance_transaction(source, event.object.get("balance_transaction"))
