"""Reads for the workbench: connections, endpoints, events, request logs."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django_scopes import scopes_disabled

from dashboard.models import Account
from workbench.models import ApiRequestLog, Event, StripeConnection, WebhookEndpoint


def stripe_connection_for(*, account: Account) -> StripeConnection | None:
    return StripeConnection.objects.select_related("connected_by").filter(account=account).first()


def webhook_endpoints_for(*, account: Account) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(account=account)


def webhook_endpoint_for_delivery(*, endpoint_uuid: uuid.UUID) -> WebhookEndpoint | None:
    """The endpoint a delivery names, whichever account owns it.

    The only cross-tenant read in the request path: a webhook carries no session, and its
    unguessable endpoint id is what routes it to an account (its signature is checked next).
    """
    with scopes_disabled():
        return WebhookEndpoint.objects.select_related("account").filter(uuid=endpoint_uuid).first()


def webhook_url(*, endpoint: WebhookEndpoint) -> str:
    base = getattr(settings, "PAYDESK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return base + reverse("workbench:webhook", args=[endpoint.uuid])


def event_list(*, account: Account, livemode: bool) -> QuerySet[Event]:
    return Event.objects.filter(account=account, livemode=livemode)


def api_request_log_list(*, account: Account, livemode: bool) -> QuerySet[ApiRequestLog]:
    return ApiRequestLog.objects.filter(account=account, livemode=livemode)
