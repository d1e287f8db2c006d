"""Reads for the workbench: connections, endpoints, events, request logs."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import Count, F, Func, Max, Q, QuerySet, Value
from django.urls import reverse
from django.utils import timezone

from dashboard.models import Account
from workbench.crypto import decrypt
from workbench.models import (
    ApiRequestLog,
    Event,
    StripeConnection,
    WebhookDelivery,
    WebhookEndpoint,
)


def stripe_connection_for(*, account: Account) -> StripeConnection | None:
    return StripeConnection.objects.select_related("connected_by").filter(account=account).first()


def webhook_endpoints_for(*, account: Account) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(account=account)


@dataclass(frozen=True)
class WebhookRoute:
    """What the webhook view needs of an endpoint, read without the ORM's per-query cost
    (this is the hottest query of ingestion)."""

    endpoint_id: int
    account_id: int
    livemode: bool
    enabled: bool
    secrets: tuple[str, ...]


def webhook_route(*, endpoint_uuid: uuid.UUID) -> WebhookRoute | None:
    """The endpoint a delivery names, whichever account owns it.

    The only cross-tenant read in the request path: a webhook carries no session, and its
    unguessable endpoint id is what routes it to an account (its signature is checked next).
    """
    table = WebhookEndpoint._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, account_id, livemode, enabled, secret, previous_secret, "  # noqa: S608
            f"previous_secret_expires_at FROM {table} WHERE uuid = %s",
            [endpoint_uuid],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    endpoint_id, account_id, livemode, enabled, secret, previous, previous_expires_at = row
    endpoint = WebhookEndpoint(
        secret=decrypt(secret),
        previous_secret=decrypt(previous),
        previous_secret_expires_at=previous_expires_at,
    )
    return WebhookRoute(
        endpoint_id=endpoint_id,
        account_id=account_id,
        livemode=livemode,
        enabled=enabled,
        secrets=tuple(endpoint.active_secrets()),
    )


def webhook_url(*, endpoint: WebhookEndpoint) -> str:
    base = getattr(settings, "PAYDESK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return base + reverse("workbench:webhook", args=[endpoint.uuid])


def event_list(*, account: Account, livemode: bool) -> QuerySet[Event]:
    return Event.objects.filter(account=account, livemode=livemode)


def api_request_log_list(*, account: Account, livemode: bool) -> QuerySet[ApiRequestLog]:
    return ApiRequestLog.objects.filter(account=account, livemode=livemode)


# --- Workbench pages: request logs, events, deliveries, mirror lookups -------------------

WORKBENCH_PAGE_SIZE = 50
# Object ids in API paths (/v1/charges/ch_123/refunds) become {id}, so errors group by
# endpoint rather than by object.
_PATH_ID = r"/[A-Za-z]{2,6}_[A-Za-z0-9_]+"


@dataclass(frozen=True)
class RequestLogFilters:
    method: str = ""
    path: str = ""
    status: str = ""  # "200", or a class: "2xx", "4xx", "5xx", "error" (no response)
    error_type: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None = None


def _cursor_encode(created: datetime, pk: int) -> str:
    raw = f"{created.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, pk = raw.rsplit("|", 1)
        return datetime.fromisoformat(created), int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _keyset(queryset: QuerySet, *, key: str, after: str | None, limit: int) -> KeysetPage:
    """Newest first by (created, `key`); a cursor that does not decode starts over."""
    queryset = queryset.order_by("-created", f"-{key}")
    position = _cursor_decode(after) if after else None
    if position is not None:
        created, pk = position
        queryset = queryset.filter(
            Q(created__lt=created) | Q(created=created, **{f"{key}__lt": pk}),
            created__lte=created,
        )
    rows = list(queryset[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows and more else None
    return KeysetPage(rows, _cursor_encode(last.created, getattr(last, key)) if last else None)


def request_log_page(
    *,
    account: Account,
    livemode: bool,
    filters: RequestLogFilters,
    after: str | None = None,
    limit: int = WORKBENCH_PAGE_SIZE,
) -> KeysetPage:
    logs = api_request_log_list(account=account, livemode=livemode)
    if filters.method:
        logs = logs.filter(method=filters.method.upper())
    if filters.path:
        logs = logs.filter(path__icontains=filters.path)
    if filters.status == "error":
        logs = logs.filter(status__isnull=True)
    elif filters.status.endswith("xx") and filters.status[:1].isdigit():
        base = int(filters.status[0]) * 100
        logs = logs.filter(status__gte=base, status__lt=base + 100)
    elif filters.status.isdigit():
        logs = logs.filter(status=int(filters.status))
    if filters.error_type:
        logs = logs.filter(error_type=filters.error_type)
    if filters.created_from:
        logs = logs.filter(created__gte=filters.created_from)
    if filters.created_to:
        logs = logs.filter(created__lt=filters.created_to)
    return _keyset(logs, key="id", after=after, limit=limit)


LOG_ID_SALT = "workbench.request-log"


def request_log_public_id(log: ApiRequestLog) -> str:
    """An opaque id for a log row (integer keys are never shown)."""
    return signing.dumps(log.pk, salt=LOG_ID_SALT, compress=True)


def request_log_get(*, account: Account, public_id: str) -> ApiRequestLog | None:
    try:
        pk = signing.loads(public_id, salt=LOG_ID_SALT)
    except signing.BadSignature:
        return None
    return ApiRequestLog.objects.filter(account=account, pk=pk).first()


def request_errors_by_endpoint(
    *, account: Account, livemode: bool, days: int = 7, now: datetime | None = None
) -> list[dict]:
    """Failed requests of the last `days`, grouped by error type and endpoint."""
    since = (now or timezone.now()) - timedelta(days=days)
    endpoint = Func(
        F("path"), Value(_PATH_ID), Value("/{id}"), Value("g"), function="regexp_replace"
    )
    return list(
        api_request_log_list(account=account, livemode=livemode)
        .filter(created__gte=since)
        .filter(Q(status__gte=400) | Q(status__isnull=True) | ~Q(error_type=""))
        .annotate(endpoint=endpoint)
        .values("error_type", "method", "endpoint")
        .annotate(count=Count("id"), last_seen=Max("created"))
        .order_by("-count", "-last_seen")[:50]
    )


def request_error_types(*, account: Account, livemode: bool) -> list[str]:
    return list(
        api_request_log_list(account=account, livemode=livemode)
        .exclude(error_type="")
        .order_by("error_type")
        .values_list("error_type", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class EventFilters:
    type: str = ""  # exact, or a prefix ending in "*" ("charge.*")
    status: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None


def event_page(
    *,
    account: Account,
    livemode: bool,
    filters: EventFilters,
    after: str | None = None,
    limit: int = WORKBENCH_PAGE_SIZE,
) -> KeysetPage:
    events = event_list(account=account, livemode=livemode).defer("payload")
    if filters.type.endswith("*"):
        events = events.filter(type__startswith=filters.type[:-1])
    elif filters.type:
        events = events.filter(type=filters.type)
    if filters.status:
        events = events.filter(status=filters.status)
    if filters.created_from:
        events = events.filter(created__gte=filters.created_from)
    if filters.created_to:
        events = events.filter(created__lt=filters.created_to)
    return _keyset(events, key="sequence", after=after, limit=limit)


def event_get(*, account: Account, livemode: bool, stripe_id: str) -> Event | None:
    return event_list(account=account, livemode=livemode).filter(stripe_id=stripe_id).first()


def event_failed_count(*, account: Account, livemode: bool) -> int:
    return event_list(account=account, livemode=livemode).filter(status=Event.Status.FAILED).count()


def event_deliveries(*, account: Account, event: Event) -> list[WebhookDelivery]:
    return list(
        WebhookDelivery.objects.filter(account=account, event_stripe_id=event.stripe_id)
        .select_related("endpoint")
        .defer("body")
    )


def mirror_models() -> list[type]:
    """Every mirror table, whichever app owns it: the registry is Django's app registry,
    so workbench needs no import of the apps that define them."""
    from workbench.mirror import StripeObject

    return [model for model in apps.get_models() if issubclass(model, StripeObject)]


@dataclass(frozen=True)
class MirrorRow:
    kind: str
    stripe_id: str
    created: datetime
    source_time: datetime


def mirror_rows_for(*, account: Account, livemode: bool, stripe_id: str) -> list[MirrorRow]:
    """The mirror rows holding the object an event carried (data.object.id)."""
    found = []
    for model in mirror_models():
        for row in model.objects.filter(
            account=account, livemode=livemode, stripe_id=stripe_id
        ).only("stripe_id", "created", "source_time"):
            found.append(
                MirrorRow(
                    model._meta.verbose_name.capitalize(),
                    row.stripe_id,
                    row.created,
                    row.source_time,
                )
            )
    return found


def delivery_list(
    *, account: Account, endpoint: WebhookEndpoint | None = None, limit: int = 50
) -> list[WebhookDelivery]:
    deliveries = WebhookDelivery.objects.filter(account=account).select_related("endpoint")
    if endpoint is not None:
        deliveries = deliveries.filter(endpoint=endpoint)
    return list(deliveries.defer("body")[:limit])


def api_versions(*, account: Account, livemode: bool) -> dict[str, str]:
    """The version the client pins (the SDK's) and the one recent events were sent with."""
    import stripe

    latest = (
        event_list(account=account, livemode=livemode)
        .order_by("-created", "-sequence")
        .values_list("payload__api_version", flat=True)
        .first()
    )
    return {
        "pinned": stripe.api_version,
        "sdk": stripe.VERSION,
        "events": latest or "",
    }


def event_sequence_watermark() -> int:
    """The last arrival number handed to an event (0 before the first).

    What an API read returns is at least as new as every event received before it, so a
    write-through stamped with this number wins a same-second tie against those events,
    and loses it to events received afterwards (its own action's event among them).
    Events still being stored by another transaction already hold a number at or below it.
    """
    table = Event._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_sequence_last_value(pg_get_serial_sequence(%s, 'sequence')::regclass)",
            [table],
        )
        (value,) = cursor.fetchone()
    return int(value or 0)
