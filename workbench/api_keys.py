"""API keys for Paydesk's REST API, and the bookkeeping of API requests.

Keys: created, rolled and revoked by the Developers page (audit-logged); the key itself is
returned once, by the service that made it, and only its SHA-256 is stored. Idempotency
records, the per-key rate limit and the incoming request log are written here too, so the
API layer (`workbench.api_auth`) stays a thin adapter.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_scopes import scope

from dashboard.models import Account, User
from dashboard.services import RequestContext, audit_record
from workbench.models import ApiIdempotencyRecord, ApiIncomingLog, ApiKey

logger = logging.getLogger(__name__)

KEY_ALPHABET = string.ascii_letters + string.digits
KEY_RANDOM_LENGTH = 40
SECRET_PREFIX = "pd_sk_"
RESTRICTED_PREFIX = "pd_rk_"
KEY_PREFIXES = (SECRET_PREFIX, RESTRICTED_PREFIX)
LAST_USED_PRECISION = timedelta(minutes=1)
IDEMPOTENCY_WINDOW = timedelta(hours=24)
# A request still "running" after this long lost its process (requests time out sooner).
ABANDONED_AFTER = timedelta(minutes=5)

# What a restricted key can be limited to, as the API groups its endpoints.
API_RESOURCES: dict[str, str] = {
    "customers": "Customers",
    "payment_methods": "Payment methods",
    "payments": "Payments (payment intents)",
    "refunds": "Refunds",
    "balance": "Balance and balance transactions",
    "payouts": "Payouts",
    "disputes": "Disputes",
    "connected_accounts": "Connected accounts and login links",
    "transfers": "Transfers",
    "exports": "Exports",
}
ROLL_OVERLAPS: dict[str, timedelta] = {
    "now": timedelta(0),
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}


class ApiKeyError(Exception):
    """A refused key action; the message is shown to the user as is."""


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key_hint(secret: str) -> str:
    """`pd_sk_test_…a1b2`."""
    mode = "live" if "_live_" in secret[:12] else "test"
    return f"{secret[:6]}{mode}_…{secret[-4:]}"


def _new_secret(*, livemode: bool, restricted: bool) -> str:
    prefix = RESTRICTED_PREFIX if restricted else SECRET_PREFIX
    random_part = "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_RANDOM_LENGTH))
    return f"{prefix}{'live' if livemode else 'test'}_{random_part}"


def clean_permissions(permissions: dict[str, str]) -> dict[str, str]:
    """Only known resources with read or write; resources left out get no access."""
    unknown = set(permissions) - set(API_RESOURCES)
    if unknown:
        raise ApiKeyError(f"Unknown API resources: {', '.join(sorted(unknown))}.")
    wrong = {access for access in permissions.values() if access not in ApiKey.Access.values}
    if wrong:
        raise ApiKeyError("Each resource takes read or write access.")
    if not permissions:
        raise ApiKeyError("A restricted key needs access to at least one resource.")
    return dict(sorted(permissions.items()))


def _store_key(
    *,
    account: Account,
    livemode: bool,
    name: str,
    actor: User | None,
    permissions: dict[str, str] | None,
    rolled_from: ApiKey | None = None,
) -> tuple[ApiKey, str]:
    restricted = permissions is not None
    secret = _new_secret(livemode=livemode, restricted=restricted)
    api_key = ApiKey.objects.create(
        account=account,
        livemode=livemode,
        name=name,
        key_hash=key_hash(secret),
        hint=key_hint(secret),
        restricted=restricted,
        permissions=permissions or {},
        created_by=actor,
        rolled_from=rolled_from,
    )
    return api_key, secret


def api_key_create(
    *,
    account: Account,
    livemode: bool,
    name: str,
    actor: User | None,
    permissions: dict[str, str] | None = None,
    context: RequestContext | None = None,
) -> tuple[ApiKey, str]:
    """A new key; `permissions` makes it a restricted key. Returns (row, secret): the
    secret exists only in this return value."""
    name = name.strip()
    if not name:
        raise ApiKeyError("Give the key a name, such as the system that will use it.")
    if permissions is not None:
        permissions = clean_permissions(permissions)
    with scope(account=account), transaction.atomic():
        api_key, secret = _store_key(
            account=account, livemode=livemode, name=name, actor=actor, permissions=permissions
        )
        audit_record(
            account=account,
            actor=actor,
            action="api_key.created",
            target=api_key,
            target_repr=str(api_key),
            metadata={"livemode": livemode, "restricted": api_key.restricted, **_perms(api_key)},
            context=context,
        )
    return api_key, secret


def _perms(api_key: ApiKey) -> dict:
    return {"permissions": api_key.permissions} if api_key.restricted else {}


def api_key_roll(
    *,
    account: Account,
    api_key: ApiKey,
    overlap: timedelta,
    actor: User | None,
    context: RequestContext | None = None,
    now: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Replaces a key with a new one (same name, mode and permissions). The old key keeps
    working for `overlap` (zero: stops at once), so systems can switch without downtime."""
    if overlap < timedelta(0) or overlap > max(ROLL_OVERLAPS.values()):
        raise ApiKeyError("Choose an overlap between now and 7 days.")
    now = now or timezone.now()
    with scope(account=account), transaction.atomic():
        current = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if not current.is_active(now=now):
            raise ApiKeyError("This key has expired or been revoked already.")
        expires_at = now + overlap
        if current.expires_at is not None:
            expires_at = min(expires_at, current.expires_at)
        current.expires_at = expires_at
        current.save(update_fields=["expires_at"])
        new_key, secret = _store_key(
            account=account,
            livemode=current.livemode,
            name=current.name,
            actor=actor,
            permissions=current.permissions if current.restricted else None,
            rolled_from=current,
        )
        audit_record(
            account=account,
            actor=actor,
            action="api_key.rolled",
            target=current,
            target_repr=str(current),
            metadata={
                "new_key": new_key.public_id,
                "new_hint": new_key.hint,
                "old_key_expires_at": expires_at.isoformat(),
            },
            context=context,
        )
    return new_key, secret


def api_key_revoke(
    *,
    account: Account,
    api_key: ApiKey,
    actor: User | None,
    context: RequestContext | None = None,
) -> ApiKey:
    with scope(account=account), transaction.atomic():
        current = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if current.revoked_at is not None:
            return current
        current.revoked_at = timezone.now()
        current.save(update_fields=["revoked_at"])
        audit_record(
            account=account,
            actor=actor,
            action="api_key.revoked",
            target=current,
            target_repr=str(current),
            context=context,
        )
    return current


def api_key_touch(*, api_key: ApiKey, now: datetime | None = None) -> None:
    """Records use, at most once per minute per key (one UPDATE, and only then)."""
    now = now or timezone.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_PRECISION:
        return
    with scope(account=api_key.account):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now


# --- Reads for the Developers page --------------------------------------------------------


def api_key_list(*, account: Account, livemode: bool) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(account=account, livemode=livemode).select_related("created_by")


def api_key_get(*, account: Account, public_id: str) -> ApiKey | None:
    return ApiKey.objects.filter(account=account, public_id=public_id).first()


# --- Idempotency ------------------------------------------------------------------------


@dataclass(frozen=True)
class IdempotencyOutcome:
    """What to do with a request carrying an Idempotency-Key."""

    record: ApiIdempotencyRecord | None = None  # run the request, then finish this record
    replay: ApiIdempotencyRecord | None = None  # answer with the stored response
    conflict: str = ""  # "mismatch" (other request) or "in_progress"


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), hashlib.sha256(body).digest()):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def idempotency_begin(
    *, api_key: ApiKey, key: str, fingerprint: str, now: datetime | None = None
) -> IdempotencyOutcome:
    """Claims `key` for this request, or says why it cannot run (call inside the scope).

    A key older than 24 hours is forgotten and may be used again, as at Stripe.
    """
    now = now or timezone.now()
    records = ApiIdempotencyRecord.objects.filter(account=api_key.account, api_key=api_key)
    records.filter(key=key, created__lt=now - IDEMPOTENCY_WINDOW).delete()
    try:
        with transaction.atomic():
            record = ApiIdempotencyRecord.objects.create(
                account=api_key.account,
                api_key=api_key,
                key=key,
                fingerprint=fingerprint,
                created=now,
            )
        return IdempotencyOutcome(record=record)
    except IntegrityError:
        existing = records.filter(key=key).first()
    if existing is None:  # finished and pruned in between: run it as new
        return idempotency_begin(api_key=api_key, key=key, fingerprint=fingerprint, now=now)
    if existing.fingerprint != fingerprint:
        return IdempotencyOutcome(conflict="mismatch")
    if existing.status is None and existing.created < now - ABANDONED_AFTER:
        # Its process died mid-request: let a retry run rather than refuse it for a day.
        existing.delete()
        return idempotency_begin(api_key=api_key, key=key, fingerprint=fingerprint, now=now)
    if existing.status is None:
        return IdempotencyOutcome(conflict="in_progress")
    return IdempotencyOutcome(replay=existing)


def idempotency_finish(*, record: ApiIdempotencyRecord, status: int, body: str) -> None:
    """Keeps the answer for replays; a server error is not kept, so a retry runs again."""
    if status >= 500:
        record.delete()
        return
    record.status = status
    record.body = body
    record.save(update_fields=["status", "body"])


def idempotency_abandon(*, record: ApiIdempotencyRecord) -> None:
    record.delete()


def idempotency_prune(*, now: datetime | None = None) -> int:
    """Forgets keys older than the window (ops code: every tenant at once)."""
    from django_scopes import scopes_disabled

    now = now or timezone.now()
    with scopes_disabled():
        deleted, _ = ApiIdempotencyRecord.objects.filter(
            created__lt=now - IDEMPOTENCY_WINDOW
        ).delete()
    return deleted


# --- Rate limit -------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def rate_limits() -> tuple[int, int]:
    """(reads, writes) allowed per key per second, like Stripe's defaults scaled down."""
    return (
        int(getattr(settings, "PAYDESK_API_RATE_LIMIT_READ", 100)),
        int(getattr(settings, "PAYDESK_API_RATE_LIMIT_WRITE", 25)),
    )


def rate_limit_hit(*, api_key: ApiKey, write: bool, now: float | None = None) -> int:
    """Counts one request in the key's current window (Redis, fixed window; one second
    unless PAYDESK_API_RATE_LIMIT_WINDOW_SECONDS says otherwise).

    Returns 0 when the request may run, else the seconds to wait before retrying.
    """
    now = now if now is not None else timezone.now().timestamp()
    seconds = max(1, int(getattr(settings, "PAYDESK_API_RATE_LIMIT_WINDOW_SECONDS", 1)))
    window = int(now // seconds)
    kind = "write" if write else "read"
    limit = rate_limits()[1 if write else 0]
    counter = f"paydesk:api-rate:{api_key.public_id}:{kind}:{seconds}:{window}"
    pipeline = _redis().pipeline()
    pipeline.incr(counter)
    pipeline.expire(counter, seconds + 1)
    try:
        count, _ = pipeline.execute()
    except redis.RedisError:
        # The limit protects the service; losing Redis must not take the API down with it.
        logger.warning("API rate limit skipped: Redis is unreachable", exc_info=True)
        return 0
    if count <= limit:
        return 0
    return max(1, math.ceil((window + 1) * seconds - now))


# --- Incoming request log ---------------------------------------------------------------


def incoming_log_record(
    *,
    api_key: ApiKey,
    method: str,
    endpoint: str,
    status: int,
    duration_ms: int,
    request_id: str,
    idempotency_key: str = "",
    idempotent_replayed: bool = False,
    error_type: str = "",
    error_code: str = "",
) -> ApiIncomingLog:
    with scope(account=api_key.account):
        return ApiIncomingLog.objects.create(
            account=api_key.account,
            api_key=api_key,
            key_hint=api_key.hint,
            livemode=api_key.livemode,
            method=method.upper()[:10],
            endpoint=endpoint[:255],
            status=status,
            duration_ms=max(0, duration_ms),
            request_id=request_id[:64],
            idempotency_key=idempotency_key[:255],
            idempotent_replayed=idempotent_replayed,
            error_type=error_type[:100],
            error_code=error_code[:100],
        )
