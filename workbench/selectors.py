"""Reads for the workbench: connections, endpoints, events, request logs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.urls import reverse

from dashboard.models import Account
from workbench.crypto import decrypt
from workbench.models import ApiRequestLog, Event, StripeConnection, WebhookEndpoint


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
