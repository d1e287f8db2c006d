"""Event handlers of the Balances pages, registered from PaymentsConfig.ready() after
payments.handlers (so the payout row is stored before these run)."""

from __future__ import annotations

from payments.models import Payout
from payments.services_balances import payout_transactions_link
from workbench.dispatch import handles


@handles("payout.paid", "payout.reconciliation_completed")
def payout_settled(event) -> None:
    """Once an automatic payout is paid, Stripe can say which transactions it settled."""
    payout = Payout.objects.filter(account=event.account, stripe_id=event.object["id"]).first()
    if payout is None or not payout.automatic:
        return
    payout_transactions_link(account=event.account, livemode=payout.livemode, payout=payout)
