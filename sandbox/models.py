"""The sandbox's own state: what an emulated Stripe would keep in its databases.

These tables are not tenant-owned console models and do not subclass TenantModel: they
emulate Stripe itself, so they are keyed by the emulated Stripe platform account (the
token in a `sk_test_sbx_<token>` key), by `livemode`, and by the connected account a row
lives on (`stripe_account`, "" for the platform). The console only reaches them through
the SDK.
"""

from __future__ import annotations

from django.db import models


class SandboxAccount(models.Model):
    """One emulated Stripe platform account, created by the first request with its key."""

    token = models.CharField(max_length=200, unique=True)
    stripe_id = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    # Simulated time is real time plus this offset (the test clock); negative in the past.
    clock_offset_seconds = models.BigIntegerField(default=0)
    # Simulated time up to which the time triggers (funds available, payouts) have run.
    triggers_ran_until = models.BigIntegerField(null=True, blank=True)
    settings = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.stripe_id


class StateObject(models.Model):
    """One emulated Stripe object; `data` is exactly what the API returns for it."""

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="+")
    livemode = models.BooleanField(default=False)
    stripe_account = models.CharField(max_length=64, blank=True, default="")
    object_type = models.CharField(max_length=40)
    stripe_id = models.CharField(max_length=80)
    created = models.BigIntegerField()  # Unix seconds on the simulated clock, as Stripe's.
    data = models.JSONField()
    # Sandbox-only facts never returned by the API: a test card's behaviour (the card
    # number itself is dropped at creation), a webhook endpoint's secret.
    hidden = models.JSONField(default=dict, blank=True)
    # Typed copies of fields that lists filter on or balances sum, derived from `data`.
    customer = models.CharField(max_length=80, blank=True, default="")
    charge = models.CharField(max_length=80, blank=True, default="")
    payment_intent = models.CharField(max_length=80, blank=True, default="")
    product = models.CharField(max_length=80, blank=True, default="")
    source = models.CharField(max_length=80, blank=True, default="")
    # The payout that swept a balance transaction (not part of the transaction's data).
    payout = models.CharField(max_length=80, blank=True, default="")
    status = models.CharField(max_length=40, blank=True, default="")
    type = models.CharField(max_length=80, blank=True, default="")
    currency = models.CharField(max_length=3, blank=True, default="")
    amount = models.BigIntegerField(null=True, blank=True)
    available_on = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "stripe_id"], name="sandbox_unique_id")
        ]
        indexes = [
            models.Index(
                fields=["account", "livemode", "stripe_account", "object_type", "-created", "-id"],
                name="sandbox_list",
            ),
            models.Index(
                fields=["account", "object_type", "status", "available_on"],
                name="sandbox_due",
            ),
        ]

    def __str__(self) -> str:
        return self.stripe_id


class IdempotencyRecord(models.Model):
    """A stored response, replayed for a repeated `Idempotency-Key` with the same params."""

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="+")
    livemode = models.BooleanField(default=False)
    stripe_account = models.CharField(max_length=64, blank=True, default="")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.TextField()
    request_id = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "livemode", "stripe_account", "key"],
                name="sandbox_unique_idempotency_key",
            )
        ]


class Delivery(models.Model):
    """One event to send to one webhook endpoint, retried with backoff until it lands."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="+")
    event_id = models.CharField(max_length=80)
    endpoint_id = models.CharField(max_length=80)
    url = models.URLField(max_length=2000)
    payload = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Real time, not simulated: retries and signatures live in the receiver's clock.
    next_attempt_at = models.DateTimeField(db_index=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="sandbox_due_delivery")]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_set")
    created = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
