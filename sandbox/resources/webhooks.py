"""Webhook endpoints and events."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from sandbox import ids, store
from sandbox.errors import invalid, missing_param
from sandbox.params import boolean, metadata, string, string_list
from sandbox.routes import route
from sandbox.store import Context


def _enabled_events(params: dict[str, Any]) -> list[str]:
    enabled = string_list(params, "enabled_events")
    if not enabled:
        raise missing_param("enabled_events")
    for name in enabled:
        if name != "*" and "." not in name:
            raise invalid(
                f"Invalid enabled_events[0]: must be one of the event types. Got {name}.",
                param="enabled_events[0]",
            )
    return enabled


def _url(params: dict[str, Any]) -> str:
    url = string(params, "url", required=True)
    if not url.startswith(("http://", "https://")):
        raise invalid("Invalid URL: URL must be publicly accessible.", param="url")
    return url


@route("POST", r"/v1/webhook_endpoints")
def create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    secret = "whsec_" + ids.random_token(32)
    data = {
        "id": ids.new_id("we"),
        "object": "webhook_endpoint",
        "api_version": string(params, "api_version"),
        "application": None,
        "created": ctx.now,
        "description": string(params, "description"),
        "enabled_events": _enabled_events(params),
        "livemode": ctx.livemode,
        "metadata": metadata({}, params),
        "status": "enabled",
        "url": _url(params),
    }
    store.create(ctx, "webhook_endpoint", data, hidden={"secret": secret})
    # As at Stripe, the signing secret is returned only when the endpoint is created.
    return {**data, "secret": secret}


@route("GET", r"/v1/webhook_endpoints/{id}")
def retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    return store.get(ctx, "webhook_endpoint", id).data


@route("POST", r"/v1/webhook_endpoints/{id}")
def update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "webhook_endpoint", id, for_update=True)
    data = dict(row.data)
    if "url" in params:
        data["url"] = _url(params)
    if "enabled_events" in params:
        data["enabled_events"] = _enabled_events(params)
    if "description" in params:
        data["description"] = params["description"] or None
    disabled = boolean(params, "disabled")
    if disabled is not None:
        data["status"] = "disabled" if disabled else "enabled"
    data["metadata"] = metadata(data.get("metadata"), params)
    row.data = data
    store.save(row)
    return data


@route("DELETE", r"/v1/webhook_endpoints/{id}")
def delete(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "webhook_endpoint", id, for_update=True)
    row.delete()
    return {"id": id, "object": "webhook_endpoint", "deleted": True}


@route("GET", r"/v1/webhook_endpoints")
def list_endpoints(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return store.page(ctx, store.scoped(ctx, "webhook_endpoint"), params, "/v1/webhook_endpoints")


@route("GET", r"/v1/events/{id}")
def retrieve_event(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    return store.get(ctx, "event", id).data


def _type_condition(pattern: str) -> Q:
    if pattern.endswith("*"):
        return Q(type__startswith=pattern[:-1])
    return Q(type=pattern)


@route("GET", r"/v1/events")
def list_events(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows = store.scoped(ctx, "event").filter(store.created_filter(params))
    event_type = string(params, "type")
    types = string_list(params, "types")
    if event_type and types:
        raise invalid("You may only specify one of these parameters: type, types.", param="types")
    if event_type:
        rows = rows.filter(_type_condition(event_type))
    if types:
        condition = Q()
        for name in types:
            condition |= _type_condition(name)
        rows = rows.filter(condition)
    return store.page(ctx, rows, params, "/v1/events")
