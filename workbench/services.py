"""Writes for the workbench: the Stripe connection, webhook ingestion, event processing.

Ingestion and processing are split: the webhook view only verifies and stores (one
transaction), and a Celery "drain" task processes stored events in batches. Publishing a
Celery message per event would cost more CPU than the work itself, so a commit publishes a
drain only when none is already scheduled (a Redis SET NX key), and the drain loops over
batches until nothing is pending.
"""

from __future__ import annotations

import json
import logging
import secrets
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import redis
import stripe
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from dashboard.models import Account, User
from dashboard.services import RequestContext, audit_record
from workbench import selectors
from workbench.client import build_client, stripe_client
from workbench.dispatch import dispatch, registrations_for
from workbench.models import (
    ApiIncomingLog,
    ApiRequestLog,
    Event,
    StripeConnection,
    UnroutedDelivery,
    WebhookDelivery,
    WebhookEndpoint,
    secret_hint,
)

logger = logging.getLogger(__name__)

SIGNATURE_TOLERANCE_SECONDS = 300
KEPT_HEADERS = ("Stripe-Signature", "Content-Type", "Content-Length", "User-Agent")
DRAIN_KEY = "paydesk:drain-scheduled"
# Long enough to absorb a burst of commits, short enough that a lost drain message delays
# processing by seconds only (the next commit after expiry publishes again).
DRAIN_KEY_TTL_SECONDS = 10
KEY_PREFIXES = {"sk_test_": False, "rk_test_": False, "sk_live_": True, "rk_live_": True}


def _setting(name: str, default):
    return getattr(settings, name, default)


# --- Connecting an account to Stripe ------------------------------------------------------


class StripeConnectError(Exception):
    """A connection attempt failed; the message is shown to the user as is."""


def _key_livemode(secret_key: str) -> bool:
    for prefix, livemode in KEY_PREFIXES.items():
        if secret_key.startswith(prefix):
            return livemode
    raise StripeConnectError(
        "That is not a secret key: it starts with sk_test_, sk_live_, rk_test_ or rk_live_."
    )


def _retrieve_account(client: stripe.StripeClient) -> stripe.Account:
    try:
        return client.v1.accounts.retrieve_current()
    except stripe.AuthenticationError:
        raise StripeConnectError(
            "Stripe rejected this key: it is wrong, revoked or expired. Copy it again from "
            "Developers → API keys in the Stripe Dashboard."
        )
    except stripe.PermissionError:
        raise StripeConnectError(
            "This restricted key cannot read the account. Give it read access to Account."
        )
    except stripe.StripeError as error:
        raise StripeConnectError(
            f"Stripe could not check the key: {error.user_message or 'no response'}."
        )


def connect_stripe(
    *,
    account: Account,
    actor: User | None,
    secret_key: str,
    context: RequestContext | None = None,
) -> StripeConnection:
    """Saves a Stripe secret key for its mode, after Stripe confirmed it works."""
    secret_key = secret_key.strip()
    livemode = _key_livemode(secret_key)
    client = build_client(account=account, livemode=livemode, api_key=secret_key, sandbox=False)
    stripe_account = _retrieve_account(client)
    with transaction.atomic():
        connection = StripeConnection.objects.select_for_update().filter(account=account).first()
        if connection is not None and connection.mode == StripeConnection.Mode.STRIPE:
            if connection.stripe_account_id and connection.stripe_account_id != stripe_account.id:
                raise StripeConnectError(
                    f"This key belongs to {stripe_account.id}, but this account is connected "
                    f"to {connection.stripe_account_id}. Disconnect first to switch."
                )
        else:
            if connection is not None:
                _retire(account=account, connection=connection)
            connection = StripeConnection(account=account, mode=StripeConnection.Mode.STRIPE)
        hint = secret_hint(secret_key)
        if livemode:
            connection.live_secret_key, connection.live_key_hint = secret_key, hint
        else:
            connection.test_secret_key, connection.test_key_hint = secret_key, hint
        connection.stripe_account_id = stripe_account.id
        connection.connected_at = timezone.now()
        connection.connected_by = actor
        connection.save()
        if not webhook_endpoints_exist(account=account, livemode=livemode):
            WebhookEndpoint.objects.create(account=account, livemode=livemode)
        audit_record(
            account=account,
            actor=actor,
            action="stripe.connected",
            target=connection,
            target_id=stripe_account.id,
            metadata={"mode": "stripe", "livemode": livemode, "key": hint},
            context=context,
        )
    return connection


def webhook_endpoints_exist(*, account: Account, livemode: bool) -> bool:
    return WebhookEndpoint.objects.filter(account=account, livemode=livemode, enabled=True).exists()


def _retire(*, account: Account, connection: StripeConnection) -> None:
    """Forgets a connection; its endpoints stop accepting deliveries but keep their history."""
    WebhookEndpoint.objects.filter(account=account, enabled=True).update(enabled=False)
    connection.delete()


def connect_sandbox(
    *, account: Account, actor: User | None, context: RequestContext | None = None
) -> StripeConnection:
    """Connects the account to the built-in sandbox (idempotent: a second call is a no-op).

    The sandbox provisions an emulated Stripe account per key token; the webhook endpoints
    are created in the sandbox through the SDK, exactly as they would be at Stripe.
    """
    existing = StripeConnection.objects.filter(account=account).first()
    if existing is not None and existing.is_sandbox:
        return existing
    token = secrets.token_hex(16)
    keys = {False: f"sk_test_sbx_{token}", True: f"sk_live_sbx_{token}"}
    clients = {
        livemode: build_client(account=account, livemode=livemode, api_key=key, sandbox=True)
        for livemode, key in keys.items()
    }
    stripe_account = _retrieve_account(clients[False])
    with transaction.atomic():
        connection = StripeConnection.objects.select_for_update().filter(account=account).first()
        if connection is not None:
            _retire(account=account, connection=connection)
        connection = StripeConnection.objects.create(
            account=account,
            mode=StripeConnection.Mode.SANDBOX,
            test_secret_key=keys[False],
            test_key_hint=secret_hint(keys[False]),
            live_secret_key=keys[True],
            live_key_hint=secret_hint(keys[True]),
            stripe_account_id=stripe_account.id,
            connected_by=actor,
        )
        for livemode, client in clients.items():
            endpoint = WebhookEndpoint.objects.create(account=account, livemode=livemode)
            _register_endpoint(client=client, endpoint=endpoint)
        audit_record(
            account=account,
            actor=actor,
            action="stripe.connected",
            target=connection,
            target_id=stripe_account.id,
            metadata={"mode": "sandbox"},
            context=context,
        )
    return connection


def stripe_disconnect(
    *, account: Account, actor: User | None, context: RequestContext | None = None
) -> None:
    with transaction.atomic():
        connection = StripeConnection.objects.select_for_update().filter(account=account).first()
        if connection is None:
            return
        stripe_account_id = connection.stripe_account_id
        _retire(account=account, connection=connection)
        audit_record(
            account=account,
            actor=actor,
            action="stripe.disconnected",
            target_type="StripeConnection",
            target_id=stripe_account_id,
            target_repr=stripe_account_id,
            context=context,
        )


def _set_secret(*, endpoint: WebhookEndpoint, secret: str) -> None:
    """Makes `secret` current; the old one stays valid for the overlap Stripe allows."""
    if endpoint.secret and endpoint.secret != secret:
        overlap = _setting("PAYDESK_WEBHOOK_SECRET_OVERLAP", timedelta(hours=24))
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + overlap
    endpoint.secret = secret
    endpoint.secret_hint = secret_hint(secret)


def _register_endpoint(*, client: stripe.StripeClient, endpoint: WebhookEndpoint) -> None:
    created = client.v1.webhook_endpoints.create(
        params={
            "url": selectors.webhook_url(endpoint=endpoint),
            "enabled_events": ["*"],
            "api_version": stripe.api_version,
        }
    )
    endpoint.stripe_endpoint_id = created.id
    _set_secret(endpoint=endpoint, secret=created.secret)
    endpoint.save()


def webhook_secret_save(
    *,
    account: Account,
    actor: User | None,
    endpoint: WebhookEndpoint,
    secret: str,
    context: RequestContext | None = None,
) -> WebhookEndpoint:
    """Saves the signing secret copied from Stripe (rolling the previous one)."""
    secret = secret.strip()
    if not secret.startswith("whsec_") or len(secret) < 12:
        raise StripeConnectError("A signing secret starts with whsec_. Copy it from Stripe.")
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk, account=account)
        _set_secret(endpoint=endpoint, secret=secret)
        endpoint.save()
        audit_record(
            account=account,
            actor=actor,
            action="stripe.webhook_secret_saved",
            target=endpoint,
            target_id=str(endpoint.uuid),
            metadata={"livemode": endpoint.livemode, "secret": endpoint.secret_hint},
            context=context,
        )
    return endpoint


def webhook_endpoint_register(
    *,
    account: Account,
    actor: User | None,
    endpoint: WebhookEndpoint,
    context: RequestContext | None = None,
) -> WebhookEndpoint:
    """Creates the endpoint at Stripe through the API (needs a public PAYDESK_BASE_URL)."""
    client = stripe_client(account=account, livemode=endpoint.livemode)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk, account=account)
        try:
            _register_endpoint(client=client, endpoint=endpoint)
        except stripe.StripeError as error:
            raise StripeConnectError(
                f"Stripe did not create the endpoint: {error.user_message or error}"
            )
        audit_record(
            account=account,
            actor=actor,
            action="stripe.webhook_endpoint_created",
            target=endpoint,
            target_id=endpoint.stripe_endpoint_id,
            metadata={
                "livemode": endpoint.livemode,
                "url": selectors.webhook_url(endpoint=endpoint),
            },
            context=context,
        )
    return endpoint


# --- Ingestion ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryResult:
    status: int
    reason: str = ""
    event_stripe_id: str = ""
    duplicate: bool = False


def _signature_failure(*, active: tuple[str, ...], body: bytes, header: str) -> str:
    """Why the signature is refused; empty when a valid, recent v1 of an active secret."""
    if not active:
        return "endpoint has no signing secret yet"
    if not header:
        return "no Stripe-Signature header"
    reasons = []
    for secret in active:
        try:
            stripe.WebhookSignature.verify_header(
                body, header, secret, tolerance=SIGNATURE_TOLERANCE_SECONDS
            )
            return ""
        except stripe.SignatureVerificationError as error:
            reasons.append(str(error.user_message))
        except UnicodeDecodeError:
            return "body is not UTF-8"
    # A stale timestamp means a secret matched: that is the more useful reason to show.
    return next((reason for reason in reasons if "tolerance" in reason), reasons[0])[:255]


def _parse_event(body: bytes) -> dict:
    try:
        payload = json.loads(body)
    except ValueError:
        raise ValueError("body is not JSON")
    if not isinstance(payload, dict) or payload.get("object") != "event":
        raise ValueError("body is not a Stripe event")
    if not isinstance(payload.get("id"), str) or not isinstance(payload.get("type"), str):
        raise ValueError("event has no id or type")
    if not isinstance(payload.get("created"), int) or not isinstance(
        (payload.get("data") or {}).get("object"), dict
    ):
        raise ValueError("event has no created time or data.object")
    return payload


def _store_event_and_delivery(
    *, route: selectors.WebhookRoute, payload: dict, body: bytes, headers: dict
) -> bool:
    """Stores the event (unless (account, id) is already there) and its delivery in one
    statement, so both or neither are written. True when the event was new.

    One round trip on the hot path: INSERT … ON CONFLICT DO NOTHING for the event (a
    duplicate costs no savepoint and no error), chained into the delivery's INSERT.
    """
    event_table = Event._meta.db_table
    delivery_table = WebhookDelivery._meta.db_table
    now = timezone.now()
    # Table names are ours; every value is a parameter.
    sql = f"""
        WITH new_event AS (
            INSERT INTO {event_table}
                (account_id, livemode, stripe_id, type, created, payload, received_at,
                 status, attempts, last_error)
            VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s, 0, '')
            ON CONFLICT (account_id, stripe_id) DO NOTHING
            RETURNING sequence
        )
        INSERT INTO {delivery_table}
            (account_id, endpoint_id, received_at, headers, body, verified, failure_reason,
             response_status, event_stripe_id, duplicate)
        SELECT %s, %s, %s, %s::jsonb, %s, true, '', 200, %s, NOT EXISTS (SELECT FROM new_event)
        RETURNING duplicate
    """  # noqa: S608
    stripe_id = payload["id"][:255]
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                route.account_id,
                bool(payload.get("livemode")),
                stripe_id,
                payload["type"][:100],
                datetime.fromtimestamp(payload["created"], tz=UTC),
                body.decode(),
                now,
                Event.Status.PENDING,
                route.account_id,
                route.endpoint_id,
                now,
                json.dumps(headers),
                body,
                stripe_id,
            ],
        )
        (duplicate,) = cursor.fetchone()
    return not duplicate


def delivery_receive(
    *,
    endpoint_uuid: uuid.UUID,
    body: bytes,
    headers: Mapping[str, str],
    remote_address: str | None = None,
) -> DeliveryResult:
    """Verifies and stores one webhook delivery; processing happens later, in a worker."""
    kept = {name: headers[name] for name in KEPT_HEADERS if headers.get(name)}
    route = selectors.webhook_route(endpoint_uuid=endpoint_uuid)
    if route is None:
        _record_unrouted(
            endpoint_uuid=endpoint_uuid, body=body, headers=kept, remote_address=remote_address
        )
        return DeliveryResult(status=404, reason="unknown endpoint")
    # Every write below names the endpoint's account explicitly; nothing is read per tenant.
    if not route.enabled:
        return _record(route, body, kept, status=404, reason="endpoint disabled")
    failure = _signature_failure(
        active=route.secrets, body=body, header=headers.get("Stripe-Signature", "")
    )
    if failure:
        return _record(route, body, kept, status=400, reason=failure)
    try:
        payload = _parse_event(body)
    except ValueError as error:
        return _record(route, body, kept, status=400, reason=str(error), verified=True)
    if bool(payload.get("livemode")) != route.livemode:
        reason = "a live event sent to a test endpoint, or the reverse"
        return _record(route, body, kept, status=400, reason=reason, verified=True)
    new = _store_event_and_delivery(route=route, payload=payload, body=body, headers=kept)
    if new:
        # At once in autocommit mode, or after the caller's transaction commits.
        transaction.on_commit(drain_schedule, robust=True)
    return DeliveryResult(status=200, event_stripe_id=payload["id"], duplicate=not new)


def _record(
    route: selectors.WebhookRoute,
    body: bytes,
    headers: dict,
    *,
    status: int,
    reason: str = "",
    verified: bool = False,
) -> DeliveryResult:
    WebhookDelivery.objects.create(
        account_id=route.account_id,
        endpoint_id=route.endpoint_id,
        headers=headers,
        body=body,
        verified=verified,
        failure_reason=reason[:255],
        response_status=status,
    )
    return DeliveryResult(status=status, reason=reason)


def _record_unrouted(
    *, endpoint_uuid: uuid.UUID, body: bytes, headers: dict, remote_address: str | None
) -> None:
    limit = UnroutedDelivery.BODY_LIMIT
    UnroutedDelivery.objects.create(
        endpoint_uuid=endpoint_uuid,
        headers={name: value[:500] for name, value in headers.items()},
        body=body[:limit],
        body_truncated=len(body) > limit,
        remote_address=remote_address,
        failure_reason="unknown endpoint",
        response_status=404,
    )


# --- Processing ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def drain_schedule() -> None:
    """Publishes a drain task unless one is already scheduled. Runs after a commit.

    Never raises: the events are stored, and the periodic drain picks them up if Redis or
    the broker is down right now.
    """
    from workbench.tasks import drain_events

    try:
        if _redis().set(DRAIN_KEY, "1", nx=True, ex=DRAIN_KEY_TTL_SECONDS):
            drain_events.delay()
    except Exception:
        logger.exception("could not schedule event processing; the periodic drain will")


def _retry_delay(attempts: int) -> timedelta:
    base = _setting("PAYDESK_EVENT_RETRY_BASE_SECONDS", 30)
    return timedelta(seconds=min(base * 4 ** (attempts - 1), 3600))


def _max_attempts() -> int:
    return _setting("PAYDESK_EVENT_MAX_ATTEMPTS", 5)


def events_requeue_due_retries(*, now: datetime | None = None) -> int:
    """Failed events whose backoff has passed go back to pending."""
    with scopes_disabled():
        return Event.objects.filter(
            status=Event.Status.FAILED, next_attempt_at__lte=now or timezone.now()
        ).update(status=Event.Status.PENDING, next_attempt_at=None)


@dataclass
class BatchOutcome:
    claimed: int = 0
    processed: int = 0
    failed: int = 0
    ignored: int = 0
    next_retry_at: datetime | None = None


def events_process_batch(*, batch_size: int = 500) -> BatchOutcome:
    """Claims up to `batch_size` pending events and dispatches them to their handlers.

    The claim is the row lock of this open transaction (FOR UPDATE SKIP LOCKED): concurrent
    workers take different events, and a worker killed mid-batch never commits, so its rows
    are simply pending again for the next drain. No lease to expire, no sweeper to run.

    The events of each account go to the handlers together (`workbench.dispatch.dispatch`:
    a batch handler gets all its events in one call), in one savepoint. If anything
    raises, the savepoint is rolled back and the group is split in halves, each retried in
    its own savepoint, until the failing event is alone: it alone is marked failed (with
    its error and attempt count), every other event is processed.
    """
    outcome = BatchOutcome()
    with transaction.atomic():
        with scopes_disabled():
            # A worker serves every tenant; each account's events are handled in its scope.
            events = list(
                Event.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("account")
                .filter(status=Event.Status.PENDING)
                .order_by("created", "sequence")[:batch_size]
            )
        outcome.claimed = len(events)
        processed, ignored = [], []
        by_account: dict[int, list[Event]] = {}
        for event in events:
            if registrations_for(event.type):
                by_account.setdefault(event.account_id, []).append(event)
            else:
                ignored.append(event.pk)
        for group in by_account.values():
            failures: list[tuple[Event, Exception]] = []
            with scope(account=group[0].account):
                _dispatch_isolated(group, failures)
            failed = {event.pk for event, _ in failures}
            processed.extend(event.pk for event in group if event.pk not in failed)
            for event, error in failures:
                logger.warning("event %s (%s) failed: %r", event.stripe_id, event.type, error)
                outcome.next_retry_at = _mark_failed(event, error, outcome.next_retry_at)
                outcome.failed += 1
        now = timezone.now()
        with scopes_disabled():
            Event.objects.filter(pk__in=processed).update(
                status=Event.Status.PROCESSED,
                attempts=F("attempts") + 1,
                processed_at=now,
                last_error="",
                next_attempt_at=None,
            )
            Event.objects.filter(pk__in=ignored).update(
                status=Event.Status.IGNORED,
                attempts=F("attempts") + 1,
                processed_at=now,
                next_attempt_at=None,
            )
    outcome.processed, outcome.ignored = len(processed), len(ignored)
    return outcome


def _dispatch_isolated(events: list[Event], failures: list[tuple[Event, Exception]]) -> None:
    """Dispatches `events` in a savepoint; on an error, halves the group and tries again,
    so that only the events that fail on their own are rolled back and reported."""
    try:
        with transaction.atomic():
            dispatch(events)
    except Exception as error:
        if len(events) == 1:
            failures.append((events[0], error))
            return
        middle = len(events) // 2
        _dispatch_isolated(events[:middle], failures)
        _dispatch_isolated(events[middle:], failures)


def _mark_failed(event: Event, error: Exception, earliest: datetime | None) -> datetime | None:
    attempts = event.attempts + 1
    now = timezone.now()
    retry_at = now + _retry_delay(attempts) if attempts < _max_attempts() else None
    text = "".join(traceback.format_exception(error))
    with scopes_disabled():
        Event.objects.filter(pk=event.pk).update(
            status=Event.Status.FAILED,
            attempts=attempts,
            last_error=text[-4000:],
            processed_at=now,
            next_attempt_at=retry_at,
        )
    if retry_at is None:
        return earliest
    return retry_at if earliest is None else min(earliest, retry_at)


def events_drain(*, batch_size: int = 500, time_budget_seconds: float = 50.0) -> int:
    """Processes batches until nothing is pending. Returns how many events it claimed."""
    # Cleared first: a commit from now on schedules another drain, so no event committed
    # after our last empty batch can be stranded.
    try:
        _redis().delete(DRAIN_KEY)
    except redis.RedisError:
        logger.warning("could not clear %s; it expires by itself", DRAIN_KEY)
    started = timezone.now()
    claimed = 0
    next_retry_at = None
    events_requeue_due_retries()
    while True:
        outcome = events_process_batch(batch_size=batch_size)
        claimed += outcome.claimed
        if outcome.next_retry_at is not None:
            next_retry_at = min(filter(None, [next_retry_at, outcome.next_retry_at]))
        if outcome.claimed == 0:
            break
        if (timezone.now() - started).total_seconds() > time_budget_seconds:
            # Hand over to a fresh task so one long backlog cannot pin a worker slot forever.
            drain_schedule()
            break
    if next_retry_at is not None:
        _schedule_retry_drain(at=next_retry_at)
    return claimed


def _schedule_retry_drain(*, at: datetime) -> None:
    from workbench.tasks import drain_events

    try:
        drain_events.apply_async(eta=at)
    except Exception:
        logger.exception("could not schedule the retry drain; the periodic drain will")


def events_replay(
    *,
    account: Account | None = None,
    failed_only: bool = False,
    stripe_id: str | None = None,
) -> int:
    """Puts events back to pending so the handlers run again. Returns how many."""
    with scopes_disabled():
        events = Event.objects.exclude(status=Event.Status.PENDING)
        if account is not None:
            events = events.filter(account=account)
        if failed_only:
            events = events.filter(status=Event.Status.FAILED)
        if stripe_id:
            events = events.filter(stripe_id=stripe_id)
        with transaction.atomic():
            count = events.update(status=Event.Status.PENDING, next_attempt_at=None)
            if count:
                transaction.on_commit(drain_schedule)
    return count


def logs_prune(*, now: datetime | None = None) -> int:
    """Deletes request logs (both directions), raw deliveries and API idempotency records
    past their retention (events stay)."""
    from workbench.api_keys import idempotency_prune

    days = _setting("PAYDESK_LOG_RETENTION_DAYS", 30)
    cutoff = (now or timezone.now()) - timedelta(days=days)
    with scopes_disabled():
        deleted, _ = ApiRequestLog.objects.filter(created__lt=cutoff).delete()
        incoming, _ = ApiIncomingLog.objects.filter(created__lt=cutoff).delete()
        deliveries, _ = WebhookDelivery.objects.filter(received_at__lt=cutoff).delete()
        unrouted, _ = UnroutedDelivery.objects.filter(received_at__lt=cutoff).delete()
    return deleted + incoming + deliveries + unrouted + idempotency_prune(now=now)
