"""Event handlers of the Balances pages, registered from PaymentsConfig.ready() after
payments.handlers (so the payout row is stored before these run)."""

from __future__ import annotations

import logging

from payments.models import Payout
from payments.services import PaymentError
from payments.services_balances import payout_transactions_link
from workbench.dispatch import handles

logger = logging.getLogger(__name__)


@handles("payout.paid", "payout.reconciliation_completed")
def payout_settled(event) -> None:
    """Once an automatic payout is paid, Stripe can say which transactions it settled."""
    payout = Payout.objects.filter(account=event.account, stripe_id=event.object["id"]).first()
    if payout is None or not payout.automatic:
        return
    try:
        payout_transactions_link(account=event.account, livemode=payout.livemode, payout=payout)
    except PaymentError as error:
        if error.code != "not_connected":
            raise
        # Events can arrive before (or after) an API key is saved; with no key there is no
        # one to ask, and retrying would not change that. The payout itself is mirrored.
        logger.info("payout %s: no Stripe connection to list its transactions", payout.stripe_id)
