"""The Stripe connection of an account, webhook ingestion, events and the request log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from dashboard.models import TenantModel
from workbench.crypto import EncryptedTextField


def secret_hint(secret: str) -> str:
    """`sk_test_…abcd`: enough to recognise a key, never enough to use it."""
    if not secret:
        return ""
    parts = secret.split("_")
    prefix = "_".join(parts[:2]) + "_" if len(parts) > 2 else ""
    return f"{prefix}…{secret[-4:]}"


class StripeConnection(TenantModel):
    """How an account reaches Stripe: its own keys, or the built-in sandbox."""

    class Mode(models.TextChoices):
        STRIPE = "stripe", "Stripe"
        SANDBOX = "sandbox", "Built-in sandbox"

    mode = models.CharField(max_length=10, choices=Mode.choices)
    test_secret_key = EncryptedTextField(blank=True, default="")
    live_secret_key = EncryptedTextField(blank=True, default="")
    # Shown instead of the keys, which are never rendered after saving.
    test_key_hint = models.CharField(max_length=40, blank=True, default="")
    live_key_hint = models.CharField(max_length=40, blank=True, default="")
    stripe_account_id = models.CharField(max_length=255, blank=True, default="")
    connected_at = models.DateTimeField(default=timezone.now)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account"], name="stripeconnection_one_per_account")
        ]

    def __str__(self) -> str:
        return self.stripe_account_id or self.get_mode_display()

    def secret_key(self, *, livemode: bool) -> str:
        return self.live_secret_key if livemode else self.test_secret_key

    def key_hint(self, *, livemode: bool) -> str:
        return self.live_key_hint if livemode else self.test_key_hint

    @property
    def is_sandbox(self) -> bool:
        return self.mode == self.Mode.SANDBOX


class WebhookEndpoint(TenantModel):
    """Where Stripe (or the sandbox) sends this account's events: /webhooks/stripe/<uuid>/.

    While a signing secret rotates, the previous secret stays valid until
    `previous_secret_expires_at`, as Stripe's "roll secret" allows.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    livemode = models.BooleanField(default=False)
    # The endpoint's id at Stripe (we_…) when we created it through the API.
    stripe_endpoint_id = models.CharField(max_length=255, blank=True, default="")
    secret = EncryptedTextField(blank=True, default="")
    secret_hint = models.CharField(max_length=40, blank=True, default="")
    previous_secret = EncryptedTextField(blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-livemode", "created"]

    def __str__(self) -> str:
        return f"{'Live' if self.livemode else 'Test'} endpoint {self.uuid}"

    def active_secrets(self, *, now: datetime | None = None) -> list[str]:
        now = now or timezone.now()
        secrets = [self.secret] if self.secret else []
        if (
            self.previous_secret
            and self.previous_secret_expires_at is not None
            and self.previous_secret_expires_at > now
        ):
            secrets.append(self.previous_secret)
        return secrets


class WebhookDelivery(TenantModel):
    """One HTTP delivery as received, kept whether or not it was accepted."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField(default=timezone.now)
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    verified = models.BooleanField(default=False)
    failure_reason = models.CharField(max_length=255, blank=True, default="")
    response_status = models.PositiveSmallIntegerField()
    event_stripe_id = models.CharField(max_length=255, blank=True, default="")
    duplicate = models.BooleanField(default=False)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-received_at"], name="delivery_account_received")
        ]


class UnroutedDelivery(models.Model):
    """A delivery to an endpoint id we do not know.

    Deliberately not tenant-owned: no account can be trusted from such a request (the body
    is unauthenticated), and writing it under any account would let a stranger put rows in a
    tenant's data. Kept so an operator can see misconfigured or probing senders; the body is
    truncated so a flood cannot grow the table without bound.
    """

    BODY_LIMIT = 16 * 1024

    endpoint_uuid = models.UUIDField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    body_truncated = models.BooleanField(default=False)
    remote_address = models.GenericIPAddressField(null=True, blank=True)
    failure_reason = models.CharField(max_length=255)
    response_status = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["-received_at", "-id"]


class Event(TenantModel):
    """A Stripe event as received, and where its processing stands.

    `sequence` is the primary key: a monotonically increasing arrival number that breaks
    ties between events created in the same second (pass it to `mirror.upsert` as
    `source_sequence`).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"
        IGNORED = "ignored", "Ignored"

    sequence = models.BigAutoField(primary_key=True)
    livemode = models.BooleanField()
    stripe_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    created = models.DateTimeField()
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    processed_at = models.DateTimeField(null=True, blank=True)
    # When a failed event is due for its next automatic attempt (None: no more retries).
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["account", "stripe_id"], name="event_unique_stripe_id")
        ]
        indexes = [
            # The worker's claim query: pending events, oldest first.
            models.Index(
                fields=["created", "sequence"],
                name="event_pending_queue",
                condition=Q(status="pending"),
            ),
            models.Index(
                fields=["next_attempt_at"],
                name="event_retry_due",
                condition=Q(status="failed", next_attempt_at__isnull=False),
            ),
            models.Index(fields=["account", "-created"], name="event_account_created"),
            models.Index(fields=["account", "type"], name="event_account_type"),
        ]

    def __str__(self) -> str:
        return f"{self.stripe_id} ({self.type})"

    @property
    def object(self) -> dict[str, Any]:
        return self.payload["data"]["object"]

    @property
    def previous_attributes(self) -> dict[str, Any]:
        return self.payload.get("data", {}).get("previous_attributes") or {}

    @property
    def connected_account(self) -> str:
        return self.payload.get("account") or ""


class ApiRequestLog(TenantModel):
    """One HTTP request the console made to Stripe (or the sandbox).

    Never holds the Authorization header, a key, or card data: `params` is a redacted copy.
    """

    livemode = models.BooleanField()
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    request_id = models.CharField(max_length=255, blank=True, default="")
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    stripe_account = models.CharField(max_length=255, blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    error_type = models.CharField(max_length=100, blank=True, default="")
    error_code = models.CharField(max_length=100, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["account", "-created"], name="apirequestlog_account")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status}"

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


# --- The console's own REST API (issue 8) ------------------------------------------------


def new_api_key_id() -> str:
    from dashboard.models import public_id

    return public_id("key")


class ApiKey(TenantModel):
    """A secret key for Paydesk's REST API, per account and mode.

    Only the SHA-256 of the full key is kept (`key_hash`, looked up on every request);
    the key itself is shown once, when it is created or rolled. A restricted key carries
    `permissions` ({"customers": "write", "payments": "read", …}); a full-access key has
    `restricted` False and may use every resource.
    """

    class Access(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Write"

    public_id = models.CharField(max_length=32, unique=True, default=new_api_key_id)
    name = models.CharField(max_length=100)
    livemode = models.BooleanField(default=False)
    key_hash = models.CharField(max_length=64, unique=True)
    # `pd_sk_test_…a1b2`: enough to recognise a key in a list or a log, never to use it.
    hint = models.CharField(max_length=40)
    restricted = models.BooleanField(default=False)
    permissions = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)
    # Written at most once a minute, so authentication stays a single read most of the time.
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Set when the key is rolled: it keeps working until then (the overlap chosen).
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    rolled_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["account", "livemode", "-created"], name="apikey_account_list")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint})"

    def is_active(self, *, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def allows(self, *, resource: str, write: bool) -> bool:
        if not self.restricted:
            return True
        access = self.permissions.get(resource)
        return access == self.Access.WRITE or (access == self.Access.READ and not write)


class ApiIdempotencyRecord(TenantModel):
    """One `Idempotency-Key` an API key used, and the answer it got (kept 24 hours).

    `status` is null while the first request is still running: a second request with the
    same key meanwhile is refused with 409 instead of running twice.
    """

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The rendered JSON as sent: replayed byte for byte (and JSON text escapes what a
    # jsonb column refuses, such as \u0000 echoed back in an error message).
    body = models.TextField(blank=True, default="")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="apiidempotency_unique_key")
        ]
        indexes = [models.Index(fields=["created"], name="apiidempotency_created")]


class ApiIncomingLog(TenantModel):
    """One request made to Paydesk's REST API with one of the account's keys (the incoming
    side of the request logs; `ApiRequestLog` is the outgoing side, to Stripe).

    Never holds the Authorization header, a key or a body: the key's hint, the route
    pattern (`/api/v1/customers/{customer_id}`), the status and the time it took.
    """

    api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    key_hint = models.CharField(max_length=40)
    livemode = models.BooleanField()
    method = models.CharField(max_length=10)
    endpoint = models.CharField(max_length=255)
    status = models.PositiveSmallIntegerField()
    duration_ms = models.PositiveIntegerField(default=0)
    request_id = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    idempotent_replayed = models.BooleanField(default=False)
    error_type = models.CharField(max_length=100, blank=True, default="")
    error_code = models.CharField(max_length=100, blank=True, default="")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["account", "-created"], name="apiincominglog_account")]

    def __str__(self) -> str:
        return f"{self.method} {self.endpoint} → {self.status}"
