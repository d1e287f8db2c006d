"""What the passing of simulated time triggers, run in order, one day boundary at a time:
payouts move (pending → in_transit → paid/failed), balance transactions become available,
dispute deadlines pass, and at each midnight (UTC) the automatic daily payout is made."""

from __future__ import annotations

import stripe
from django.conf import settings
from django.db import transaction

from sandbox import clock
from sandbox.models import SandboxAccount, StateObject
from sandbox.store import Context

DAY = 86400


def _steps(start: int, until: int) -> list[tuple[int, bool]]:
    """(time, is_midnight) for each midnight in (start, until], then `until` itself."""
    steps = []
    midnight = start - start % DAY + DAY
    while midnight <= until:
        steps.append((midnight, True))
        midnight += DAY
    if not steps or steps[-1][0] != until:
        steps.append((until, False))
    return steps


def run_due(account: SandboxAccount, until: int | None = None) -> int:
    """Run the triggers up to `until` (default: the account's simulated now); returns the
    number of events they created."""
    from sandbox.resources import accounts, balance, disputes, payouts

    created_events = queued_deliveries = 0
    with transaction.atomic():
        account = SandboxAccount.objects.select_for_update().get(pk=account.pk)
        if until is None:
            until = clock.now_timestamp(account)
        start = account.triggers_ran_until if account.triggers_ran_until is not None else until
        if until > start:
            scopes = list(
                StateObject.objects.filter(
                    account=account,
                    object_type__in=["balance_transaction", "payout", "dispute"],
                )
                .values_list("livemode", "stripe_account")
                .distinct()
            )
            for moment, is_midnight in _steps(start, until):
                for livemode, stripe_account in scopes:
                    ctx = Context(
                        account=account,
                        livemode=livemode,
                        now=moment,
                        stripe_account=stripe_account,
                        api_version=stripe.api_version,
                    )
                    payouts.advance_payouts(ctx, moment)
                    balance.make_available(ctx, moment)
                    disputes.pass_deadlines(ctx, moment)
                    if is_midnight and accounts.automatic_payouts(ctx):
                        payouts.automatic_payout(ctx)
                    created_events += ctx.events_created
                    queued_deliveries += ctx.deliveries_queued
        account.triggers_ran_until = until
        account.save(update_fields=["triggers_ran_until"])
        if queued_deliveries and getattr(settings, "SANDBOX_AUTO_DELIVER", True):
            from sandbox import delivery

            transaction.on_commit(delivery.deliver_pending)
    return created_events
