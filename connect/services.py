"""Actions on connected accounts: call Stripe, mirror the answer at once, audit.

Same shape as `payments.services`: the workbench client with an idempotency key, a
write-through upsert of what Stripe answered, and an audit entry, in one transaction.
Login links and Express sessions are Paydesk's own: random tokens of which only the
SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from connect import mirroring
from connect.models import (
    ConnectedAccount,
    ExpressSession,
    ExpressSettings,
    LoginLink,
    Transfer,
)
from dashboard.models import Account, User
from dashboard.services import RequestContext, audit_record
from payments import mirroring as payments_mirroring
from payments.mirroring import Source
from payments.models import Payout
from payments.services import PaymentError, client_for, request_options, stripe_errors

ACCOUNT_TYPES = ("express", "custom", "standard")
REJECT_REASONS = ("fraud", "terms_of_service", "other")
INTERVALS = ("manual", "daily", "weekly", "monthly")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
LOGIN_LINK_LIFETIME = timedelta(minutes=5)
EXPRESS_IDLE_TIMEOUT = timedelta(hours=1)
CAPABILITIES = {"card_payments": {"requested": True}, "transfers": {"requested": True}}


class ConnectError(PaymentError):
    """A refused Connect action, with Stripe's message when Stripe refused it."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _source(account: Account, livemode: bool) -> Source:
    return Source.api_read(account=account, livemode=livemode)


def _audit(account, actor, action, target, context, **metadata) -> None:
    audit_record(
        account=account,
        actor=actor,
        action=action,
        target=target,
        target_repr=getattr(target, "display_name", "") or str(target),
        metadata=metadata,
        context=context,
    )


def _stripe_call(call):
    try:
        with stripe_errors():
            return call()
    except PaymentError as error:
        raise ConnectError(error.message, code=error.code, param=error.param) from error


# --- Connected accounts -----------------------------------------------------------------


def account_create(
    *,
    account: Account,
    livemode: bool,
    actor: User | None,
    type: str = "express",
    country: str = "US",
    email: str = "",
    business_name: str = "",
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> ConnectedAccount:
    if type not in ACCOUNT_TYPES:
        raise ConnectError(f"Unknown account type {type!r}.")
    params: dict[str, Any] = {"type": type, "country": country.upper()}
    if type != "standard":
        params["capabilities"] = CAPABILITIES
    if email:
        params["email"] = email
    if business_name:
        params["business_profile"] = {"name": business_name}
    client = client_for(account, livemode)
    created = _stripe_call(
        lambda: client.v1.accounts.create(params=params, options=request_options(idempotency_key))
    )
    with scope(account=account), transaction.atomic():
        row = mirroring.store_connected_account(_source(account, livemode), created)
        _audit(account, actor, "connect.account.created", row, context, type=type)
    return row


def _account_update(
    *, account: Account, connected_account: ConnectedAccount, params: dict[str, Any]
) -> Any:
    client = client_for(account, connected_account.livemode)
    return _stripe_call(
        lambda: client.v1.accounts.update(
            connected_account.stripe_id, params=params, options=request_options(None)
        )
    )


def payout_schedule_update(
    *,
    account: Account,
    connected_account: ConnectedAccount,
    interval: str,
    weekly_anchor: str = "",
    monthly_anchor: int | None = None,
    actor: User | None,
    context: RequestContext | None = None,
    via_express: bool = False,
) -> ConnectedAccount:
    if interval not in INTERVALS:
        raise ConnectError(f"Unknown payout interval {interval!r}.")
    schedule: dict[str, Any] = {"interval": interval}
    if interval == "weekly":
        schedule["weekly_anchor"] = weekly_anchor if weekly_anchor in WEEKDAYS else "monday"
    if interval == "monthly":
        schedule["monthly_anchor"] = monthly_anchor or 1
    updated = _account_update(
        account=account,
        connected_account=connected_account,
        params={"settings": {"payouts": {"schedule": schedule}}},
    )
    with scope(account=account), transaction.atomic():
        row = mirroring.store_connected_account(
            _source(account, connected_account.livemode), updated
        )
        _audit(
            account,
            actor,
            "connect.payout_schedule.updated",
            row,
            context,
            interval=interval,
            via="express" if via_express else "console",
        )
    return row


def account_reject(
    *,
    account: Account,
    connected_account: ConnectedAccount,
    reason: str,
    actor: User | None,
    context: RequestContext | None = None,
) -> ConnectedAccount:
    if reason not in REJECT_REASONS:
        raise ConnectError(f"Unknown rejection reason {reason!r}.")
    client = client_for(account, connected_account.livemode)
    rejected = _stripe_call(
        lambda: client.v1.accounts.reject(
            connected_account.stripe_id, params={"reason": reason}, options=request_options(None)
        )
    )
    with scope(account=account), transaction.atomic():
        row = mirroring.store_connected_account(
            _source(account, connected_account.livemode), rejected
        )
        _audit(account, actor, "connect.account.rejected", row, context, reason=reason)
    return row


# --- Transfers --------------------------------------------------------------------------


def transfer_create(
    *,
    account: Account,
    connected_account: ConnectedAccount,
    amount: int,
    currency: str,
    actor: User | None,
    description: str = "",
    transfer_group: str = "",
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> Transfer:
    if amount <= 0:
        raise ConnectError("A transfer needs a positive amount.")
    params: dict[str, Any] = {
        "amount": amount,
        "currency": currency.lower(),
        "destination": connected_account.stripe_id,
    }
    if description:
        params["description"] = description
    if transfer_group:
        params["transfer_group"] = transfer_group
    client = client_for(account, connected_account.livemode)
    created = _stripe_call(
        lambda: client.v1.transfers.create(params=params, options=request_options(idempotency_key))
    )
    with scope(account=account), transaction.atomic():
        row = mirroring.store_transfer(_source(account, connected_account.livemode), created)
        _audit(
            account,
            actor,
            "connect.transfer.created",
            row,
            context,
            amount=amount,
            currency=currency.lower(),
            destination=connected_account.stripe_id,
        )
    return row


def transfer_reverse(
    *,
    account: Account,
    transfer: Transfer,
    amount: int | None,
    actor: User | None,
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> Transfer:
    params = {"amount": amount} if amount else {}
    client = client_for(account, transfer.livemode)
    _stripe_call(
        lambda: client.v1.transfers.reversals.create(
            transfer.stripe_id, params=params, options=request_options(idempotency_key)
        )
    )
    fetched = _stripe_call(lambda: client.v1.transfers.retrieve(transfer.stripe_id))
    with scope(account=account), transaction.atomic():
        row = mirroring.store_transfer(_source(account, transfer.livemode), fetched)
        _audit(
            account,
            actor,
            "connect.transfer.reversed",
            row,
            context,
            amount=amount or transfer.reversible,
        )
    return row


# --- Express: settings, payouts ---------------------------------------------------------


def express_settings_for(account: Account) -> ExpressSettings:
    with scope(account=account):
        found, _ = ExpressSettings.objects.get_or_create(account=account)
    return found


def express_settings_update(
    *,
    account: Account,
    actor: User | None,
    values: dict[str, Any],
    context: RequestContext | None = None,
) -> ExpressSettings:
    with scope(account=account), transaction.atomic():
        found, _ = ExpressSettings.objects.select_for_update().get_or_create(account=account)
        changed = {name: value for name, value in values.items() if getattr(found, name) != value}
        for name, value in changed.items():
            setattr(found, name, value)
        found.save()
        audit_record(
            account=account,
            actor=actor,
            action="connect.express_settings.updated",
            target_type="ExpressSettings",
            target_repr="Express dashboard settings",
            metadata={"changed": sorted(changed)},
            context=context,
        )
    return found


def express_payout_create(
    *, account: Account, connected_account: ConnectedAccount, amount: int, currency: str
) -> Payout:
    """A manual payout asked for by the connected account itself (when the platform lets)."""
    if not express_settings_for(account).manual_payouts_enabled:
        raise ConnectError("Your platform does not offer manual payouts.")
    if amount <= 0:
        raise ConnectError("A payout needs a positive amount.")
    client = client_for(account, connected_account.livemode)
    options = request_options(None, stripe_account=connected_account.stripe_id)
    created = _stripe_call(
        lambda: client.v1.payouts.create(
            params={"amount": amount, "currency": currency.lower()}, options=options
        )
    )
    source = Source.api_read(
        account=account,
        livemode=connected_account.livemode,
        stripe_account=connected_account.stripe_id,
    )
    with scope(account=account), transaction.atomic():
        payout = payments_mirroring.store_payout(source, created)
        _audit(
            account,
            None,
            "connect.express.payout_created",
            connected_account,
            None,
            payout=payout.stripe_id,
            amount=amount,
        )
    return payout


# --- Login links and Express sessions -----------------------------------------------------


def login_link_create(
    *,
    account: Account,
    connected_account: ConnectedAccount,
    actor: User | None,
    context: RequestContext | None = None,
) -> tuple[LoginLink, str]:
    """A single-use link to the account's Express dashboard, valid for five minutes.

    Returns the link and its URL path; the token in the URL is never stored.
    """
    if connected_account.type != "express":
        raise ConnectError("Only Express accounts have an Express dashboard.")
    if connected_account.status == "rejected" or connected_account.deauthorized:
        raise ConnectError("This account is closed to its Express dashboard.")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with scope(account=account), transaction.atomic():
        link = LoginLink.objects.create(
            account=account,
            connected_account=connected_account,
            token_hash=token_hash(token),
            created=now,
            expires_at=now + LOGIN_LINK_LIFETIME,
            created_by=actor,
        )
        _audit(
            account,
            actor,
            "connect.login_link.created",
            connected_account,
            context,
            link=link.public_id,
        )
    url = reverse("connect:express_login", kwargs={"platform": account.slug, "token": token})
    return link, url


def express_session_start(*, platform: str, token: str) -> tuple[ExpressSession, str] | None:
    """Use a login link: None when it is unknown, used or expired (it stays used)."""
    account = Account.objects.filter(slug=platform).first()
    if account is None:
        return None
    now = timezone.now()
    with scope(account=account), transaction.atomic():
        link = (
            LoginLink.objects.select_for_update()
            .select_related("connected_account")
            .filter(account=account, token_hash=token_hash(token))
            .first()
        )
        if link is None or link.used_at is not None or link.expires_at <= now:
            return None
        link.used_at = now
        link.save(update_fields=["used_at"])
        key = secrets.token_urlsafe(32)
        session = ExpressSession.objects.create(
            account=account,
            connected_account=link.connected_account,
            login_link=link,
            key_hash=token_hash(key),
            expires_at=now + EXPRESS_IDLE_TIMEOUT,
        )
    return session, f"{account.slug}.{key}"


def express_session_for(cookie: str) -> ExpressSession | None:
    """The live session a cookie names, its idle expiry pushed back; None otherwise."""
    slug, _, key = (cookie or "").partition(".")
    if not slug or not key:
        return None
    account = Account.objects.filter(slug=slug).first()
    if account is None:
        return None
    now = timezone.now()
    with scope(account=account):
        session = (
            ExpressSession.objects.select_related("connected_account", "account")
            .filter(account=account, key_hash=token_hash(key), ended_at__isnull=True)
            .filter(expires_at__gt=now)
            .first()
        )
        if session is None:
            return None
        ExpressSession.objects.filter(pk=session.pk).update(
            last_seen=now, expires_at=now + EXPRESS_IDLE_TIMEOUT
        )
    return session


def express_session_end(*, session: ExpressSession) -> None:
    with scope(account=session.account):
        ExpressSession.objects.filter(pk=session.pk).update(ended_at=timezone.now())
