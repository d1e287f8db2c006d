"""Connect mirror tables, login links, Express sessions and the platform's Express settings.

Connected accounts are the platform's payees (sellers); they are never customers (buyers)
and never get a team login. Their own balance transactions, charges and payouts are the
`payments` mirror rows whose `stripe_account` is the connected account's id.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from dashboard.models import TenantModel, User, public_id
from payments.models import list_indexes
from workbench.mirror import StripeObject


class AccountStatus(models.TextChoices):
    """The status Stripe's dashboard shows for a connected account."""

    ENABLED = "enabled", "Enabled"
    RESTRICTED = "restricted", "Restricted"
    RESTRICTED_SOON = "restricted_soon", "Restricted soon"
    IN_REVIEW = "in_review", "In review"
    REJECTED = "rejected", "Rejected"


IN_REVIEW_REASONS = frozenset(
    {"requirements.pending_verification", "under_review", "listed", "other"}
)


def account_status(obj: dict[str, Any]) -> str:
    """Derived from `requirements` and the enabled flags, the way Stripe's dashboard does:
    rejected > in review > restricted > restricted soon (something due by a deadline) >
    enabled."""
    requirements = obj.get("requirements") or {}
    reason = requirements.get("disabled_reason") or ""
    if reason.startswith("rejected."):
        return AccountStatus.REJECTED
    if reason in IN_REVIEW_REASONS or (
        requirements.get("pending_verification") and not obj.get("charges_enabled")
    ):
        return AccountStatus.IN_REVIEW
    if reason or not obj.get("charges_enabled") or not obj.get("payouts_enabled"):
        return AccountStatus.RESTRICTED
    if requirements.get("currently_due") or requirements.get("past_due"):
        return AccountStatus.RESTRICTED_SOON
    return AccountStatus.ENABLED


class ConnectedAccount(StripeObject):
    type = models.CharField(max_length=16)
    status = models.CharField(max_length=20, choices=AccountStatus.choices, db_index=True)
    country = models.CharField(max_length=2, blank=True, default="")
    email = models.CharField(max_length=512, blank=True, default="")
    business_name = models.CharField(max_length=256, blank=True, default="")
    default_currency = models.CharField(max_length=3, blank=True, default="")
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    requirements = models.JSONField(default=dict, blank=True)
    disabled_reason = models.CharField(max_length=64, blank=True, default="")
    current_deadline = models.DateTimeField(null=True, blank=True)
    payout_interval = models.CharField(max_length=16, blank=True, default="")
    deauthorized = models.BooleanField(default=False)

    class Meta(StripeObject.Meta):
        indexes = [
            *list_indexes("connectedaccount"),
            models.Index(
                fields=["account", "livemode", "status", "-created", "-id"],
                name="connectedaccount_status",
            ),
        ]

    @property
    def display_name(self) -> str:
        return self.business_name or self.email or self.stripe_id

    @property
    def status_label(self) -> str:
        return AccountStatus(self.status).label

    @property
    def payout_schedule(self) -> dict[str, Any]:
        return ((self.data.get("settings") or {}).get("payouts") or {}).get("schedule") or {}

    @property
    def capabilities(self) -> dict[str, str]:
        return self.data.get("capabilities") or {}


class Transfer(StripeObject):
    amount = models.BigIntegerField()
    amount_reversed = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    destination_stripe_id = models.CharField(max_length=255, blank=True, default="")
    destination = models.ForeignKey(
        ConnectedAccount,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="transfers",
    )
    destination_payment_stripe_id = models.CharField(max_length=255, blank=True, default="")
    source_transaction_stripe_id = models.CharField(max_length=255, blank=True, default="")
    transfer_group = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    reversed = models.BooleanField(default=False)

    class Meta(StripeObject.Meta):
        indexes = [
            *list_indexes("transfer"),
            models.Index(fields=["account", "destination_stripe_id"], name="transfer_destination"),
        ]

    @property
    def reversible(self) -> int:
        return max(self.amount - self.amount_reversed, 0)


class TransferReversal(StripeObject):
    transfer_stripe_id = models.CharField(max_length=255)
    transfer = models.ForeignKey(
        Transfer, on_delete=models.SET_NULL, null=True, blank=True, related_name="reversals"
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)

    class Meta(StripeObject.Meta):
        indexes = list_indexes("transferreversal")


class ApplicationFee(StripeObject):
    # The connected account the fee was taken from (Stripe's `account` field).
    connected_account_stripe_id = models.CharField(max_length=255)
    connected_account = models.ForeignKey(
        ConnectedAccount,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="application_fees",
    )
    amount = models.BigIntegerField()
    amount_refunded = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    charge_stripe_id = models.CharField(max_length=255, blank=True, default="")
    refunded = models.BooleanField(default=False)

    class Meta(StripeObject.Meta):
        indexes = [
            *list_indexes("applicationfee"),
            models.Index(
                fields=["account", "connected_account_stripe_id"], name="applicationfee_account"
            ),
        ]

    @property
    def net(self) -> int:
        return self.amount - self.amount_refunded


def new_login_link_id() -> str:
    return public_id("ll")


class LoginLink(TenantModel):
    """A single-use link into one connected account's Express dashboard.

    Only the SHA-256 of the token is kept; the token itself is shown once to whoever
    created the link (or answered to the API caller).
    """

    public_id = models.CharField(max_length=32, unique=True, default=new_login_link_id)
    connected_account = models.ForeignKey(
        ConnectedAccount, on_delete=models.CASCADE, related_name="login_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created"]

    @property
    def usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()


class ExpressSession(TenantModel):
    """A browser signed in to one connected account's Express dashboard by a login link.

    The cookie holds a random key; only its SHA-256 is stored. The session grants nothing
    of the platform's console: it is checked only by the Express views.
    """

    connected_account = models.ForeignKey(
        ConnectedAccount, on_delete=models.CASCADE, related_name="express_sessions"
    )
    login_link = models.OneToOneField(LoginLink, on_delete=models.CASCADE, related_name="session")
    key_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    @property
    def active(self) -> bool:
        return self.ended_at is None and self.expires_at > timezone.now()


class ExpressSettings(TenantModel):
    """What the platform lets its connected accounts do and see in the Express dashboard."""

    account = models.OneToOneField(
        "dashboard.Account", on_delete=models.CASCADE, related_name="express_settings"
    )
    payout_schedule_enabled = models.BooleanField(default=False)
    manual_payouts_enabled = models.BooleanField(default=False)
    refunds_enabled = models.BooleanField(default=False)
    disputes_enabled = models.BooleanField(default=False)
    # `{platform}` is replaced by the platform's name.
    payment_description = models.CharField(max_length=120, default="Payment from {platform}")
    transfer_description = models.CharField(max_length=120, default="Transfer from {platform}")
    payout_description = models.CharField(max_length=120, default="Payout to your bank account")
    updated = models.DateTimeField(auto_now=True)
