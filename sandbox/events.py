"""Events: every state change records one, and queues a delivery per matching endpoint."""

from __future__ import annotations

import copy
import json
from typing import Any

from django.utils import timezone

from sandbox import ids, store
from sandbox.models import Delivery, StateObject
from sandbox.store import Context


def _endpoints(ctx: Context) -> list[StateObject]:
    if ctx.endpoint_cache is None:
        # Endpoints belong to the platform; events of connected accounts reach them too.
        ctx.endpoint_cache = list(
            StateObject.objects.filter(
                account=ctx.account,
                livemode=ctx.livemode,
                stripe_account="",
                object_type="webhook_endpoint",
                status="enabled",
            )
        )
    return ctx.endpoint_cache


def listens_to(endpoint: dict[str, Any], event_type: str) -> bool:
    enabled = endpoint.get("enabled_events") or []
    return "*" in enabled or event_type in enabled


def emit(
    ctx: Context,
    event_type: str,
    obj: dict[str, Any],
    *,
    previous_attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    endpoints = [row for row in _endpoints(ctx) if listens_to(row.data, event_type)]
    data: dict[str, Any] = {"object": copy.deepcopy(obj)}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    event = {
        "id": ids.new_id("evt", random_length=16),
        "object": "event",
        "api_version": ctx.api_version,
        "created": ctx.now,
        "data": data,
        "livemode": ctx.livemode,
        "pending_webhooks": len(endpoints),
        "request": {"id": ctx.request_id, "idempotency_key": ctx.idempotency_key},
        "type": event_type,
    }
    if ctx.stripe_account:
        event["account"] = ctx.stripe_account
    store.create(ctx, "event", event)
    if endpoints:
        payload = json.dumps(event, indent=2)
        now = timezone.now()
        deliveries = [
            Delivery(
                account=ctx.account,
                event_id=event["id"],
                endpoint_id=endpoint.stripe_id,
                url=endpoint.data["url"],
                payload=payload,
                next_attempt_at=now,
            )
            for endpoint in endpoints
        ]
        if ctx.defer_writes:
            ctx.new_deliveries.extend(deliveries)
        else:
            Delivery.objects.bulk_create(deliveries)
        ctx.deliveries_queued += len(deliveries)
    ctx.events_created += 1
    return event


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """`data.previous_attributes`: the old values of the top-level keys that changed."""
    return {key: before.get(key) for key in after if before.get(key) != after.get(key)}
