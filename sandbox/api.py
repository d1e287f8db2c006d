"""The emulated Stripe API: one function from an HTTP request to an HTTP response.

Authentication by key (auto-provisioning the emulated account), idempotency keys, one
transaction per request, `expand[]`, Stripe's error bodies and headers. Resource
handlers live in `sandbox/resources/` and register their routes on import.
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from sandbox import clock, ids, params, routes, store
from sandbox.errors import StripeError
from sandbox.models import IdempotencyRecord, SandboxAccount
from sandbox.store import Context

logger = logging.getLogger(__name__)

KEY_PATTERN = re.compile(r"^sk_(?P<mode>test|live)_sbx_(?P<token>[A-Za-z0-9_]{1,180})$")
# Time triggers also run lazily when an account is used after this much simulated time.
LAZY_TRIGGER_SECONDS = 3600


def _load_resources() -> None:
    from sandbox import resources  # noqa: F401  (registers the routes)


def _header(headers: dict[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def _mask(key: str) -> str:
    return key[:8] + "*" * max(len(key) - 12, 0) + key[-4:]


def account_for_token(token: str) -> SandboxAccount:
    found = SandboxAccount.objects.filter(token=token).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return SandboxAccount.objects.create(
                token=token, stripe_id="acct_1" + ids.random_token(15)
            )
    except IntegrityError:
        return SandboxAccount.objects.get(token=token)


def _response(
    status: int, body: dict[str, Any], request_id: str, extra: dict[str, str] | None = None
) -> tuple[str, int, dict[str, str]]:
    headers = {
        "Content-Type": "application/json",
        "Request-Id": request_id,
        "Stripe-Version": stripe.api_version,
        "Access-Control-Allow-Origin": "*",
    }
    headers.update(extra or {})
    return json.dumps(body, indent=2), status, headers


def _authenticate(headers: dict[str, str]) -> tuple[SandboxAccount, bool]:
    authorization = _header(headers, "Authorization") or ""
    key = authorization.removeprefix("Bearer ").strip()
    if not key:
        raise StripeError(
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth "
            "(e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            status=401,
        )
    found = KEY_PATTERN.match(key)
    if found is None:
        # Stripe answers a wrong key with HTTP 401 and type invalid_request_error; the SDK
        # turns any 401 into stripe.AuthenticationError.
        raise StripeError(f"Invalid API Key provided: {_mask(key)}", status=401)
    return account_for_token(found["token"]), found["mode"] == "live"


def _fingerprint(method: str, path: str, encoded: str) -> str:
    # Keyed, so that the stored digest of a body with a card number cannot be reversed by
    # hashing the (few) possible card numbers.
    canonical = json.dumps([method, path, sorted(params.parse_pairs(encoded))])
    key = f"{settings.SECRET_KEY}:sandbox-idempotency".encode()
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def _run_lazy_triggers(ctx: Context) -> None:
    ran_until = ctx.account.triggers_ran_until
    if ran_until is None:
        SandboxAccount.objects.filter(pk=ctx.account.pk).update(triggers_ran_until=ctx.now)
        ctx.account.triggers_ran_until = ctx.now
    elif ctx.now - ran_until > LAZY_TRIGGER_SECONDS:
        from sandbox import timeline

        timeline.run_due(ctx.account)


def handle(
    method: str, url: str, headers: dict[str, str], body: str | bytes | None
) -> tuple[str, int, dict[str, str]]:
    _load_resources()
    method = method.upper()
    request_id = "req_" + ids.random_token(14)
    split = urlsplit(url)
    path = split.path.rstrip("/")
    encoded = split.query if method in ("GET", "DELETE") else body or ""
    if isinstance(encoded, bytes):
        encoded = encoded.decode()
    idempotency_key = _header(headers, "Idempotency-Key")
    echo = {"Stripe-Version": _header(headers, "Stripe-Version") or stripe.api_version}
    if idempotency_key:
        echo["Idempotency-Key"] = idempotency_key
    try:
        account, livemode = _authenticate(headers)
        request_params = params.decode(encoded)
        matched = routes.match(method, path)
        if matched is None:
            raise StripeError(
                f"Unrecognized request URL ({method}: {path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                status=404,
            )
    except StripeError as error:
        return _response(error.status, error.body(request_id), request_id, echo)

    handler, path_args = matched
    ctx = Context(
        account=account,
        livemode=livemode,
        now=clock.now_timestamp(account),
        stripe_account=_header(headers, "Stripe-Account") or "",
        api_version=_header(headers, "Stripe-Version") or stripe.api_version,
        request_id=request_id,
        idempotency_key=idempotency_key,
        defer_writes=True,
    )
    # Stripe's `Date` header is its clock; the sandbox's clock is the simulated one, so the
    # console can date what it reads in the same timeline as the events it receives.
    echo["Date"] = email.utils.formatdate(ctx.now, usegmt=True)
    _run_lazy_triggers(ctx)
    fingerprint = None
    if method == "POST" and idempotency_key:
        fingerprint = _fingerprint(method, path, encoded)
        replay = _replay(ctx, idempotency_key, fingerprint, echo)
        if replay is not None:
            return replay
    try:
        status, response_body = _execute(
            ctx, handler, request_params, path_args, fingerprint, method_writes=method != "GET"
        )
    except IntegrityError:
        # A concurrent request with the same idempotency key committed first.
        replay = _replay(ctx, idempotency_key or "", fingerprint or "", echo)
        if replay is None:
            raise
        return replay
    except StripeError as error:
        return _response(error.status, error.body(request_id), request_id, echo)
    if ctx.deliveries_queued and getattr(settings, "SANDBOX_AUTO_DELIVER", True):
        from sandbox import delivery

        transaction.on_commit(delivery.deliver_pending)
    return _response(status, response_body, request_id, echo)


def _execute(
    ctx, handler, request_params, path_args, fingerprint, *, method_writes: bool
) -> tuple[int, dict[str, Any]]:
    expand_paths = params.string_list(request_params, "expand")
    request_params.pop("expand", None)
    with transaction.atomic():
        if method_writes:
            # The emulator's writes need not wait for the disk: losing the last instant of
            # sandbox history in a crash is acceptable, and the commit is ~3x faster.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        try:
            result = handler(ctx, request_params, **path_args)
            status, response_body = result if isinstance(result, tuple) else (200, result)
            store.flush(ctx)
            if expand_paths:
                response_body = store.expand(ctx, response_body, expand_paths)
        except StripeError as error:
            if not error.keeps_state:
                raise
            store.flush(ctx)
            status, response_body = error.status, error.body(ctx.request_id)
        if fingerprint is not None:
            IdempotencyRecord.objects.create(
                account=ctx.account,
                livemode=ctx.livemode,
                stripe_account=ctx.stripe_account,
                key=ctx.idempotency_key,
                fingerprint=fingerprint,
                status_code=status,
                body=json.dumps(response_body),
                request_id=ctx.request_id,
            )
    return status, response_body


def _replay(
    ctx: Context, key: str, fingerprint: str, echo: dict[str, str]
) -> tuple[str, int, dict[str, str]] | None:
    record = IdempotencyRecord.objects.filter(
        account=ctx.account, livemode=ctx.livemode, stripe_account=ctx.stripe_account, key=key
    ).first()
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        error = StripeError(
            "Keys for idempotent requests can only be used with the same parameters they "
            f"were first used with. Try using a key other than '{key}' if you meant to "
            "execute a different request.",
            type="idempotency_error",
        )
        return _response(400, error.body(ctx.request_id), ctx.request_id, echo)
    replayed = {**echo, "Idempotent-Replayed": "true", "Original-Request": record.request_id}
    return _response(record.status_code, json.loads(record.body), record.request_id, replayed)
