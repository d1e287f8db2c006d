"""Sandbox-only actions, for tests, the demo and the `sandbox_clock` command: the test
clock, and what a card network or bank would do (dispute outcomes, failed payouts, 3DS).

Each takes `token_or_account`: an API key (`sk_test_sbx_<token>`), a bare token, or a
`SandboxAccount`. Everything else goes through the API, as the console does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import stripe
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sandbox import api, clock, store
from sandbox.models import SandboxAccount
from sandbox.store import Context


def resolve_account(token_or_account: str | SandboxAccount) -> SandboxAccount:
    if isinstance(token_or_account, SandboxAccount):
        return SandboxAccount.objects.get(pk=token_or_account.pk)
    found = api.KEY_PATTERN.match(token_or_account)
    token = found["token"] if found else token_or_account
    return api.account_for_token(token)


def _context(account: SandboxAccount, *, livemode: bool, stripe_account: str = "") -> Context:
    return Context(
        account=account,
        livemode=livemode,
        now=clock.now_timestamp(account),
        stripe_account=stripe_account,
        api_version=stripe.api_version,
    )


def _deliver_after_commit(ctx: Context) -> None:
    if ctx.deliveries_queued and getattr(settings, "SANDBOX_AUTO_DELIVER", True):
        from sandbox import delivery

        transaction.on_commit(delivery.deliver_pending)


def clock_advance(*, token_or_account: str | SandboxAccount, to: datetime) -> SandboxAccount:
    """Move simulated time forward to `to` and fire what becomes due on the way."""
    from sandbox import timeline

    account = resolve_account(token_or_account)
    if to < clock.now(account):
        raise ValueError("The test clock only advances; use clock_set to go back in time.")
    _set_offset(account, to)
    # The offset is whole seconds and real time has moved on since `to` was computed, so
    # the clock may read up to a second short of `to`: what is due at `to` (a midnight
    # payout) still fires now, not on the next request.
    timeline.run_due(account, until=max(int(to.timestamp()), clock.now_timestamp(account)))
    account.refresh_from_db()
    return account


def clock_set(*, token_or_account: str | SandboxAccount, to: datetime) -> SandboxAccount:
    """Put simulated time anywhere, the past included (to generate dated history); nothing
    fires until the clock is advanced again."""
    account = resolve_account(token_or_account)
    _set_offset(account, to)
    target = int(to.timestamp())
    if account.triggers_ran_until is None or account.triggers_ran_until > target:
        account.triggers_ran_until = target
        account.save(update_fields=["triggers_ran_until"])
    return account


def _set_offset(account: SandboxAccount, to: datetime) -> None:
    account.clock_offset_seconds = round((to - timezone.now()).total_seconds())
    account.save(update_fields=["clock_offset_seconds"])


@transaction.atomic
def dispute_create(
    *,
    token_or_account: str | SandboxAccount,
    charge: str,
    reason: str = "fraudulent",
    livemode: bool = False,
    stripe_account: str = "",
) -> dict[str, Any]:
    from sandbox.resources import disputes

    ctx = _context(
        resolve_account(token_or_account), livemode=livemode, stripe_account=stripe_account
    )
    row = store.get(ctx, "charge", charge, for_update=True, param="charge")
    if row.data["disputed"] or not row.data["captured"]:
        raise ValueError(f"Charge {charge} is already disputed or was never captured.")
    dispute = disputes.open_for_charge(ctx, row, reason=reason).data
    _deliver_after_commit(ctx)
    return dispute


@transaction.atomic
def dispute_resolve(
    *,
    token_or_account: str | SandboxAccount,
    dispute: str,
    won: bool,
    livemode: bool = False,
    stripe_account: str = "",
) -> dict[str, Any]:
    """The card network's decision on an open dispute."""
    from sandbox.resources import disputes

    ctx = _context(
        resolve_account(token_or_account), livemode=livemode, stripe_account=stripe_account
    )
    row = store.get(ctx, "dispute", dispute, for_update=True)
    if row.data["status"] not in disputes.OPEN:
        raise ValueError(f"Dispute {dispute} is already closed ({row.data['status']}).")
    result = disputes.close(ctx, row, status="won" if won else "lost")
    _deliver_after_commit(ctx)
    return result


@transaction.atomic
def three_d_secure_complete(
    *,
    token_or_account: str | SandboxAccount,
    payment_intent: str,
    succeed: bool = True,
    livemode: bool = False,
    stripe_account: str = "",
) -> dict[str, Any]:
    """The customer passes (or fails) 3D Secure for an intent in `requires_action`."""
    from sandbox import events
    from sandbox.resources import payment_intents, payment_methods

    ctx = _context(
        resolve_account(token_or_account), livemode=livemode, stripe_account=stripe_account
    )
    row = store.get(ctx, "payment_intent", payment_intent, for_update=True)
    data = dict(row.data)
    if data["status"] != "requires_action":
        raise ValueError(f"PaymentIntent {payment_intent} does not require action.")
    pm_row = store.get(ctx, "payment_method", data["payment_method"])
    if succeed:
        behaviour = payment_methods.behaviour_of(pm_row)
        result = payment_intents.succeed(ctx, row, data, pm_row.data, behaviour)
    else:
        data.update(
            status="requires_payment_method",
            next_action=None,
            payment_method=None,
            last_payment_error={
                "code": "payment_intent_authentication_failure",
                "message": "The provided PaymentMethod has failed authentication. You can "
                "provide payment_method_data or a new PaymentMethod to attempt to fulfill "
                "this PaymentIntent again.",
                "payment_method": pm_row.data,
                "type": "invalid_request_error",
            },
        )
        row.data = data
        store.save(row)
        events.emit(ctx, "payment_intent.payment_failed", data)
        result = data
    _deliver_after_commit(ctx)
    return result


def payouts_fail(
    *, token_or_account: str | SandboxAccount, failure_code: str | None = "account_closed"
) -> None:
    """Make the account's payouts fail on arrival (None: succeed again), like Stripe's
    test bank account numbers do."""
    account = resolve_account(token_or_account)
    account.settings = {**account.settings, "payout_failure_code": failure_code}
    account.save(update_fields=["settings"])


def automatic_payouts_set(*, token_or_account: str | SandboxAccount, enabled: bool) -> None:
    account = resolve_account(token_or_account)
    account.settings = {**account.settings, "automatic_payouts": enabled}
    account.save(update_fields=["settings"])


@transaction.atomic
def connect_account_state(
    *,
    token_or_account: str | SandboxAccount,
    account: str,
    state: str,
    livemode: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """Move a connected account through onboarding as Stripe would after review: `enabled`,
    `restricted`, `restricted_soon` (options: `deadline`, `currently_due`), `in_review`
    (`pending_verification`) or `rejected` (`reason`: fraud, terms_of_service, other)."""
    from sandbox.resources import connect

    ctx = _context(resolve_account(token_or_account), livemode=livemode)
    row = connect.get_account(ctx, account, for_update=True)
    result = connect.set_state(ctx, row, state, **options)
    _deliver_after_commit(ctx)
    return result
