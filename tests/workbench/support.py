"""Test helpers: signed deliveries, event payloads, a fake Stripe HTTP client, a test mirror."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from urllib.parse import parse_qsl, urlsplit

import stripe
from django.db import models

from workbench.mirror import StripeObject

_ids = itertools.count(1)


def event_payload(
    type: str = "widget.updated",
    *,
    obj: dict | None = None,
    created: int | None = None,
    livemode: bool = False,
    event_id: str | None = None,
    account: str | None = None,
    previous_attributes: dict | None = None,
) -> dict:
    number = next(_ids)
    data: dict = {"object": obj or {"id": f"wid_{number}", "object": "widget", "created": 1}}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    payload = {
        "id": event_id or f"evt_test_{number}_{int(time.time() * 1000)}",
        "object": "event",
        "api_version": stripe.api_version,
        "created": created if created is not None else int(time.time()),
        "data": data,
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type,
    }
    if account:
        payload["account"] = account
    return payload


def sign(body: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The v1 signature Stripe computes: HMAC-SHA256 of "<timestamp>.<body>"."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(
    body: bytes, *secrets: str, timestamp: int | None = None, extra_v1: tuple[str, ...] = ()
) -> str:
    """`t=…,v1=…[,v1=…]`: one v1 value per secret, as Stripe sends while a secret rolls."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    values = [sign(body, secret, timestamp=timestamp) for secret in secrets] + list(extra_v1)
    return ",".join([f"t={timestamp}"] + [f"v1={value}" for value in values])


def signed_delivery(
    payload: dict | bytes, secret: str, *, timestamp: int | None = None
) -> tuple[bytes, str]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return body, signature_header(body, secret, timestamp=timestamp)


def post_delivery(client, endpoint, body: bytes, header: str | None):
    extra = {"HTTP_STRIPE_SIGNATURE": header} if header is not None else {}
    return client.post(
        f"/webhooks/stripe/{endpoint.uuid}/",
        data=body,
        content_type="application/json",
        **extra,
    )


class FakeStripeHTTPClient(stripe.HTTPClient):
    """Answers the few calls the workbench makes, from a queue or from built-in routes.

    Class-level state because the client is built by name (no constructor arguments).
    """

    name = "fake"
    requests: list[dict] = []
    queued: list[tuple[int, dict, dict]] = []
    valid_keys: set[str] | None = None

    @classmethod
    def reset(cls) -> None:
        cls.requests = []
        cls.queued = []
        cls.valid_keys = None

    @classmethod
    def queue(cls, status: int, body: dict, headers: dict | None = None) -> None:
        cls.queued.append((status, body, headers or {}))

    @classmethod
    def queue_network_error(cls) -> None:
        cls.queued.append(stripe.APIConnectionError("connection reset", should_retry=True))

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        params = dict(parse_qsl(post_data or "")) if isinstance(post_data, str) else {}
        type(self).requests.append(
            {"method": method, "url": url, "headers": dict(headers), "params": params}
        )
        request_id = {"Request-Id": f"req_{len(type(self).requests)}"}
        if type(self).queued:
            answer = type(self).queued.pop(0)
            if isinstance(answer, Exception):
                raise answer
            status, body, extra = answer
            return json.dumps(body), status, {**request_id, **extra}
        key = headers.get("Authorization", "").removeprefix("Bearer ")
        if type(self).valid_keys is not None and key not in type(self).valid_keys:
            # Worst case: the key quoted back in full (Stripe masks it; we must not rely on it).
            message = f"Invalid API Key provided: {key}"
            error = {"type": "invalid_request_error", "message": message}
            return json.dumps({"error": error}), 401, request_id
        path = urlsplit(url).path
        if method == "get" and path == "/v1/account":
            token = key.rsplit("_", 1)[-1]
            body = {"id": f"acct_{token[:16]}", "object": "account"}
            return json.dumps(body), 200, request_id
        if method == "post" and path == "/v1/webhook_endpoints":
            body = {
                "id": f"we_{len(type(self).requests)}",
                "object": "webhook_endpoint",
                "url": params.get("url"),
                "secret": f"whsec_fake{len(type(self).requests):06d}",
            }
            return json.dumps(body), 200, request_id
        error = {"type": "invalid_request_error", "message": f"Unrecognized request URL {path}"}
        return json.dumps({"error": error}), 404, request_id

    def close(self):
        pass


class Widget(StripeObject):
    """A mirror table that exists only in these tests (created by the `widget_table` fixture)."""

    color = models.CharField(max_length=20, blank=True)

    class Meta(StripeObject.Meta):
        app_label = "workbench_tests"
        db_table = "workbench_tests_widget"
        constraints = [
            models.UniqueConstraint(fields=["account", "stripe_id"], name="test_widget_unique")
        ]
