"""Webhook handlers for Connect, registered from ConnectConfig.ready().

`account.updated` arrives as an event *of* the connected account (its `account` field is
the connected account's id) but the account row belongs to the platform.
"""

from __future__ import annotations

from connect import mirroring
from connect.models import ConnectedAccount
from payments import mirroring as payments_mirroring
from payments.handlers import ensure_balance_transaction
from payments.mirroring import Source, stripe_id_of
from payments.models import BalanceTransaction
from workbench import client as workbench_client
from workbench.dispatch import handles


def ensure_connected_transactions(source: Source, stripe_account: str, source_id: str) -> None:
    """Mirror the connected account's side of a movement (its balance transactions whose
    `source` is the fee, fee refund or reversal's refund), read once from Stripe: no event
    carries them."""
    if not stripe_account or not source_id:
        return
    if BalanceTransaction.objects.filter(
        account=source.account, stripe_account=stripe_account, source_stripe_id=source_id
    ).exists():
        return
    client = workbench_client.stripe_client(account=source.account, livemode=source.livemode)
    listed = client.v1.balance_transactions.list(
        params={"source": source_id}, options={"stripe_account": stripe_account}
    )
    read = Source.api_read(
        account=source.account, livemode=source.livemode, stripe_account=stripe_account
    )
    for transaction in listed.data:
        payments_mirroring.store_balance_transaction(read, transaction)


@handles("account.updated")
def account_updated(event) -> None:
    mirroring.store_connected_account(Source.from_event(event), event.object)


@handles("account.application.authorized")
def account_authorized(event) -> None:
    """The event carries the application, not the account: read the account once."""
    source = Source.from_event(event)
    client = workbench_client.stripe_client(account=event.account, livemode=source.livemode)
    fetched = client.v1.accounts.retrieve(event.connected_account)
    mirroring.store_connected_account(source, fetched)


@handles("account.application.deauthorized")
def account_deauthorized(event) -> None:
    ConnectedAccount.objects.filter(
        account=event.account, stripe_id=event.connected_account
    ).update(deauthorized=True)


@handles("transfer.*")
def transfer_changed(event) -> None:
    source = Source.from_event(event)
    transfer = event.object
    mirroring.store_transfer(source, transfer)
    ensure_balance_transaction(source, transfer.get("balance_transaction"))
    destination = stripe_id_of(transfer.get("destination"))
    for reversal in (transfer.get("reversals") or {}).get("data") or []:
        ensure_balance_transaction(source, reversal.get("balance_transaction"))
        ensure_connected_transactions(
            source, destination, stripe_id_of(reversal.get("destination_payment_refund"))
        )


@handles("application_fee.created", "application_fee.refunded")
def application_fee_changed(event) -> None:
    source = Source.from_event(event)
    fee = event.object
    mirroring.store_application_fee(source, fee)
    connected = stripe_id_of(fee.get("account"))
    ensure_balance_transaction(source, fee.get("balance_transaction"))
    ensure_connected_transactions(source, connected, fee["id"])
    for refund in (fee.get("refunds") or {}).get("data") or []:
        ensure_balance_transaction(source, refund.get("balance_transaction"))
        ensure_connected_transactions(source, connected, refund.get("id"))


@handles("payout.created", "payout.failed", "payout.canceled")
def connected_payout_changed(event) -> None:
    """A connected account's balance must drop by its payouts: mirror the payout's balance
    transaction (and a failure's or cancellation's return) with the account's rows."""
    if not event.connected_account:
        return
    source = Source.from_event(event)
    ensure_balance_transaction(source, event.object.get("balance_transaction"))
    ensure_balance_transaction(source, event.object.get("failure_balance_transaction"))
