"""The one way the console talks to Stripe: `stripe_client(account=…, livemode=…)`.

The returned `stripe.StripeClient` is pinned to the SDK's API version and goes through
`LoggingHTTPClient`, which writes an `ApiRequestLog` row per HTTP attempt, makes sure every
POST carries an Idempotency-Key, and retries 429s and network errors with the SDK's
exponential backoff (the SDK alone retries network errors, 409 and 5xx, but not 429).

Sandbox connections use the HTTP client named by `PAYDESK_SANDBOX_HTTP_CLIENT`, imported by
name: workbench never imports the sandbox (imports point one way).
"""

from __future__ import annotations

import contextvars
import email.utils
import json
import re
import time
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django_scopes import scope

from dashboard.models import Account
from workbench.models import ApiRequestLog, StripeConnection

DEFAULT_SANDBOX_HTTP_CLIENT = "sandbox.client.SandboxHTTPClient"
DEFAULT_MAX_NETWORK_RETRIES = 2
REDACTED = "[redacted]"

# Parameter name parts (`card[number]` → card, number) whose values never reach the log.
_SENSITIVE_PARTS = frozenset(
    {
        "number",
        "cvc",
        "cvv",
        "exp_month",
        "exp_year",
        "account_number",
        "routing_number",
        "iban",
        "id_number",
        "personal_id_number",
        "ssn_last_4",
        "password",
        "token",
    }
)
# A run of 12–19 digits (optionally spaced or dashed) looks like a card number.
_CARD_LIKE = re.compile(r"(?:\d[ -]?){12,19}")
# A key or secret quoted back in an error message ("Invalid API Key provided: sk_test_…").
_KEY_LIKE = re.compile(r"\b((?:sk|rk|pk)_(?:test|live)_|whsec_)[A-Za-z0-9_*]+")
_PARAM_VALUE_LIMIT = 200
_PARAMS_KEPT = 100


class StripeNotConnected(Exception):
    """The account has no Stripe connection (or no key for the requested mode)."""


def redact_params(encoded: str) -> dict[str, str]:
    """A loggable copy of form-encoded parameters: sensitive values replaced, long ones cut."""
    redacted: dict[str, str] = {}
    for name, value in parse_qsl(encoded or "", keep_blank_values=True)[:_PARAMS_KEPT]:
        parts = {part.lower() for part in re.split(r"[\[\]]+", name) if part}
        sensitive = parts & _SENSITIVE_PARTS or "secret" in name.lower()
        if sensitive or _CARD_LIKE.search(value):
            redacted[name] = REDACTED
        else:
            redacted[name] = value[:_PARAM_VALUE_LIMIT]
    return redacted


# How far Stripe's clock is from ours, learnt from each response's `Date` header. An offset
# (not an instant) stays right for later calls in the same thread or task: a past-dated
# sandbox test clock keeps its distance from real time until it is moved, and the next
# response after a move corrects it.
_stripe_clock_offset: contextvars.ContextVar[timedelta | None] = contextvars.ContextVar(
    "paydesk_stripe_clock_offset", default=None
)


def _remember_stripe_time(date_header: str) -> None:
    if not date_header:
        return
    try:
        stripe_now = email.utils.parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return
    if stripe_now.tzinfo is None:
        return
    _stripe_clock_offset.set(stripe_now - timezone.now())


def stripe_time() -> datetime:
    """Now, on Stripe's clock (the clock events are dated by), in whole seconds.

    What we read from Stripe was true at that moment on Stripe's clock; the sandbox's test
    clock may run days in the past. Stripe dates events and `Date` in whole seconds, so a
    read cannot be ordered within its second: it is stamped at the start of the second, and
    an event of the same second counts as newer. That converges: every change also produces
    an event of its own, and the last event of the second wins.
    """
    offset = _stripe_clock_offset.get()
    now = timezone.now()
    return (now if offset is None else now + offset).replace(microsecond=0)


def _header(headers: Mapping[str, str] | None, name: str) -> str:
    if not headers:
        return ""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return ""


def _error_fields(body: Any) -> dict[str, str]:
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8", errors="replace")
    try:
        error = json.loads(body).get("error") or {}
    except (TypeError, ValueError, AttributeError):
        return {"error_message": "unreadable error response"}
    if not isinstance(error, dict):
        return {}
    return {
        "error_type": str(error.get("type") or "")[:100],
        "error_code": str(error.get("code") or error.get("decline_code") or "")[:100],
        "error_message": _KEY_LIKE.sub(_mask_key, str(error.get("message") or ""))[:2000],
    }


def _mask_key(match: re.Match) -> str:
    return f"{match.group(1)}…{match.group(0)[-4:]}"


class LoggingHTTPClient(stripe.HTTPClient):
    """Wraps the real (or sandbox) HTTP client: logs, adds idempotency keys, retries 429s."""

    name = "paydesk-logging"

    def __init__(self, inner: stripe.HTTPClient, *, account: Account, livemode: bool):
        super().__init__()
        self.inner = inner
        self.account = account
        self.livemode = livemode

    def _should_retry(self, response, api_connection_error, num_retries, max_network_retries):
        if response is not None and response[1] == 429:
            headers = response[2] or {}
            if _header(headers, "Stripe-Should-Retry") == "false":
                return False
            return num_retries < (max_network_retries or 0)
        return super()._should_retry(
            response, api_connection_error, num_retries, max_network_retries
        )

    def _prepared_headers(self, method: str, headers: Mapping[str, str] | None) -> dict:
        prepared = dict(headers or {})
        if method.lower() == "post" and not _header(prepared, "Idempotency-Key"):
            prepared["Idempotency-Key"] = str(uuid.uuid4())
        return prepared

    # The key is added once per logical request, before the retry loop, so that every
    # retry of a POST carries the same key (the SDK adds one too; this is the guarantee).
    def request_with_retries(self, method, url, headers, post_data=None, *args, **kwargs):
        headers = self._prepared_headers(method, headers)
        return super().request_with_retries(method, url, headers, post_data, *args, **kwargs)

    def request_stream_with_retries(self, method, url, headers, post_data=None, *args, **kwargs):
        headers = self._prepared_headers(method, headers)
        return super().request_stream_with_retries(method, url, headers, post_data, *args, **kwargs)

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        return self._logged(self.inner.request, method, url, headers, post_data)

    def request_stream(self, method, url, headers, post_data=None, *, _usage=None):
        return self._logged(self.inner.request_stream, method, url, headers, post_data)

    def _logged(self, send, method, url, headers, post_data):
        headers = dict(headers or {})
        started = time.monotonic()
        log = ApiRequestLog(
            account=self.account,
            livemode=self.livemode,
            method=method.upper(),
            path=urlsplit(url).path[:500],
            idempotency_key=_header(headers, "Idempotency-Key")[:255],
            stripe_account=_header(headers, "Stripe-Account")[:255],
            params=self._loggable_params(url, headers, post_data),
        )
        try:
            body, status, response_headers = send(method, url, headers, post_data)
        except stripe.APIConnectionError as error:
            log.error_type = "api_connection_error"
            log.error_message = str(error.user_message or error)[:2000]
            self._save(log, started)
            raise
        log.status = status
        log.request_id = _header(response_headers, "Request-Id")[:255]
        _remember_stripe_time(_header(response_headers, "Date"))
        if status >= 400 and isinstance(body, str | bytes | bytearray):
            for name, value in _error_fields(body).items():
                setattr(log, name, value)
        self._save(log, started)
        return body, status, response_headers

    @staticmethod
    def _loggable_params(url: str, headers: Mapping[str, str], post_data: Any) -> dict:
        params = redact_params(urlsplit(url).query)
        content_type = _header(headers, "Content-Type")
        if isinstance(post_data, bytes | bytearray):
            post_data = post_data.decode("utf-8", errors="replace")
        if isinstance(post_data, str) and post_data:
            if content_type.startswith("application/x-www-form-urlencoded"):
                params.update(redact_params(post_data))
            else:
                # JSON (v2) or multipart bodies: not parsed, so not logged at all.
                params["(body)"] = REDACTED
        return params

    def _save(self, log: ApiRequestLog, started: float) -> None:
        log.duration_ms = max(0, round((time.monotonic() - started) * 1000))
        with scope(account=self.account):
            log.save()

    def close(self):
        self.inner.close()


def _inner_http_client(*, sandbox: bool) -> stripe.HTTPClient:
    if sandbox:
        path = getattr(settings, "PAYDESK_SANDBOX_HTTP_CLIENT", DEFAULT_SANDBOX_HTTP_CLIENT)
        return import_string(path)()
    # Unset in production (the SDK's requests-based client); tests and the localstripe
    # interop suite name another client here.
    path = getattr(settings, "PAYDESK_STRIPE_HTTP_CLIENT", None)
    return import_string(path)() if path else stripe.new_default_http_client()


def build_client(
    *, account: Account, livemode: bool, api_key: str, sandbox: bool
) -> stripe.StripeClient:
    """A client for a key that may not be saved yet (used to verify a key before saving)."""
    http_client = LoggingHTTPClient(
        _inner_http_client(sandbox=sandbox), account=account, livemode=livemode
    )
    api_base = None if sandbox else getattr(settings, "PAYDESK_STRIPE_API_BASE", None)
    return stripe.StripeClient(
        api_key,
        stripe_version=stripe.api_version,
        base_addresses={"api": api_base} if api_base else None,
        http_client=http_client,
        max_network_retries=getattr(
            settings, "PAYDESK_STRIPE_MAX_NETWORK_RETRIES", DEFAULT_MAX_NETWORK_RETRIES
        ),
    )


def stripe_client(*, account: Account, livemode: bool) -> stripe.StripeClient:
    """The client for the account's saved connection in the given mode."""
    with scope(account=account):
        connection = StripeConnection.objects.filter(account=account).first()
    if connection is None:
        raise StripeNotConnected(f"{account.slug} is not connected to Stripe.")
    api_key = connection.secret_key(livemode=livemode)
    if not api_key:
        mode = "live" if livemode else "test"
        raise StripeNotConnected(f"{account.slug} has no {mode} mode secret key.")
    return build_client(
        account=account, livemode=livemode, api_key=api_key, sandbox=connection.is_sandbox
    )
