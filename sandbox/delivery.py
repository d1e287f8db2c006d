"""Signed webhook deliveries, sent from the `Delivery` queue with retries and backoff.

A URL under `settings.PAYDESK_BASE_URL` (or on localhost/127.0.0.1 while
`SANDBOX_DELIVER_IN_PROCESS` is on) is delivered in-process: the URL is resolved with
Django's resolver and its view is called with a real HttpRequest, so the receiving
endpoint checks the signature exactly as for Stripe. Other URLs are POSTed over HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from django.utils import timezone

from sandbox.models import Delivery, DeliveryAttempt, StateObject

logger = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd, … failed attempt; then the delivery is given up.
BACKOFF = [60, 300, 1800, 7200, 18000, 36000, 86400, 86400]
# A claimed delivery is not claimed again by another worker for this long.
LEASE = timedelta(minutes=5)
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
RESPONSE_LIMIT = 4000


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """`t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<payload>">`, as Stripe signs."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.{payload}".encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def delivers_in_process(url: str) -> bool:
    base = getattr(settings, "PAYDESK_BASE_URL", "") or ""
    if base and url.startswith(base.rstrip("/") + "/"):
        return True
    host = urlsplit(url).hostname or ""
    return host in {"127.0.0.1", "localhost"} and getattr(
        settings, "SANDBOX_DELIVER_IN_PROCESS", True
    )


def _claim(limit: int | None) -> list[Delivery]:
    now = timezone.now()
    with transaction.atomic():
        due = (
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .order_by("id")
        )
        claimed = list(due[:limit] if limit else due)
        Delivery.objects.filter(id__in=[item.id for item in claimed]).update(
            next_attempt_at=now + LEASE
        )
    return claimed


def deliver_pending(*, limit: int | None = None) -> int:
    """Send every due delivery once; returns how many were attempted.

    The bookkeeping of a pass is written in a few statements at its end (attempts, new
    states, the events' `pending_webhooks`), not per delivery: a busy account sends
    thousands of events in a row (the demo seed), and per-row writes were most of the cost.
    """
    claimed = _claim(limit)
    if not claimed:
        return 0
    endpoints: dict[tuple[int, str], StateObject | None] = {}
    attempts = []
    settled: dict[tuple[int, str], int] = {}
    for item in claimed:
        key = (item.account_id, item.endpoint_id)
        if key not in endpoints:
            endpoints[key] = StateObject.objects.filter(
                account_id=item.account_id,
                object_type="webhook_endpoint",
                stripe_id=item.endpoint_id,
            ).first()
        attempt = _attempt(item, endpoints[key])
        attempts.append(attempt)
        if item.status != Delivery.Status.PENDING:
            event_key = (item.account_id, item.event_id)
            settled[event_key] = settled.get(event_key, 0) + 1
    with transaction.atomic():
        DeliveryAttempt.objects.bulk_create(attempts)
        Delivery.objects.bulk_update(claimed, ["status", "attempts", "next_attempt_at"])
        _fewer_pending(settled)
    return len(claimed)


def _send_in_process(url: str, payload: str, headers: dict[str, str]) -> tuple[int, str]:
    parts = urlsplit(url)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return 404, "No view at this path."
    request = RequestFactory().post(
        parts.path + (f"?{parts.query}" if parts.query else ""),
        data=payload,
        content_type="application/json",
        HTTP_HOST=parts.netloc,
        **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()},
    )
    response = match.func(request, *match.args, **match.kwargs)
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    body = b"" if getattr(response, "streaming", False) else response.content
    return response.status_code, body.decode(errors="replace")


def _send_over_http(url: str, payload: str, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(  # noqa: S310  (http(s) URLs only: checked on create)
        url,
        data=payload.encode(),
        headers={"Content-Type": "application/json; charset=utf-8", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read(RESPONSE_LIMIT).decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read(RESPONSE_LIMIT).decode(errors="replace")


def _attempt(item: Delivery, endpoint: StateObject | None) -> DeliveryAttempt:
    """Sends one delivery and updates `item` in memory; the caller saves both."""
    status_code, body, error = None, "", ""
    if endpoint is None:
        error = "The webhook endpoint was deleted."
    else:
        headers = {
            "Stripe-Signature": signature_header(item.payload, endpoint.hidden["secret"]),
            "User-Agent": USER_AGENT,
        }
        try:
            if delivers_in_process(item.url):
                status_code, body = _send_in_process(item.url, item.payload, headers)
            else:
                status_code, body = _send_over_http(item.url, item.payload, headers)
        except Exception as exc:  # A receiver's failure is recorded, never raised here.
            logger.warning("Sandbox webhook delivery %s failed: %r", item.pk, exc)
            error = repr(exc)[:RESPONSE_LIMIT]
    item.attempts += 1
    if status_code is not None and 200 <= status_code < 300:
        item.status = Delivery.Status.SUCCEEDED
    elif endpoint is None or item.attempts > len(BACKOFF):
        item.status = Delivery.Status.FAILED
    else:
        item.next_attempt_at = timezone.now() + timedelta(seconds=BACKOFF[item.attempts - 1])
    return DeliveryAttempt(
        delivery=item, status_code=status_code, response_body=body[:RESPONSE_LIMIT], error=error
    )


def _fewer_pending(settled: dict[tuple[int, str], int]) -> None:
    """Each event's `pending_webhooks` goes down by its deliveries that are settled now."""
    if not settled:
        return
    table = StateObject._meta.db_table
    rows = [(account_id, event_id, count) for (account_id, event_id), count in settled.items()]
    with connection.cursor() as cursor:
        # One statement for the pass; the row lock it takes serialises concurrent passes.
        cursor.execute(
            f"""
            UPDATE {table} AS event
               SET data = jsonb_set(
                   event.data, '{{pending_webhooks}}',
                   to_jsonb(GREATEST(
                       COALESCE((event.data ->> 'pending_webhooks')::int, 1) - settled.count, 0
                   ))
               )
              FROM unnest(%s::bigint[], %s::text[], %s::int[])
                   AS settled(account_id, stripe_id, count)
             WHERE event.account_id = settled.account_id
               AND event.object_type = 'event'
               AND event.stripe_id = settled.stripe_id
            """,  # noqa: S608  (our table name; values are parameters)
            [[row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows]],
        )
