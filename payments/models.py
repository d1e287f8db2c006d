"""Mirror tables of the payments core (DESIGN.md "Mirror tables").

Every model extends `workbench.mirror.StripeObject`: the whole Stripe object lives in
`data`, the typed columns here are what lists filter, sort, sum or show. References to
other mirrored objects keep the Stripe id (`customer_stripe_id`) next to a nullable foreign
key: events arrive in any order, so the key is set when the referenced row exists and
filled in later by `payments.mirroring` when that row arrives. No placeholder rows.

Card numbers are never stored: Stripe never sends them, and no column could hold one.
"""

from __future__ import annotations

from django.db import models

from dashboard.models import TenantModel
from workbench.mirror import StripeObject


def list_indexes(prefix: str) -> list[models.Index]:
    """The index every list page walks: newest first within a tenant and mode."""
    return [
        models.Index(
            fields=["account", "livemode", "-created", "-id"], name=f"{prefix}_list_newest"
        )
    ]


class Customer(StripeObject):
    email = models.CharField(max_length=512, blank=True, default="")
    name = models.CharField(max_length=256, blank=True, default="")
    phone = models.CharField(max_length=64, blank=True, default="")
    description = models.TextField(blank=True, default="")
    delinquent = models.BooleanField(default=False)
    deleted = models.BooleanField(default=False)

    class Meta(StripeObject.Meta):
        indexes = [
            *list_indexes("customer"),
            models.Index(fields=["account", "livemode", "email"], name="customer_email"),
        ]


class PaymentMethod(StripeObject):
    customer_stripe_id = models.CharField(max_length=255, blank=True, default="")
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="payment_methods"
    )
    type = models.CharField(max_length=64)
    card_brand = models.CharField(max_length=32, blank=True, default="")
    card_last4 = models.CharField(max_length=4, blank=True, default="")
    card_exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    card_exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    card_fingerprint = models.CharField(max_length=64, blank=True, default="")
    card_country = models.CharField(max_length=2, blank=True, default="")
    card_wallet = models.CharField(max_length=32, blank=True, default="")

    class Meta(StripeObject.Meta):
        indexes = [
            *list_indexes("paymentmethod"),
            models.Index(fields=["account", "customer_stripe_id"], name="paymentmethod_customer"),
        ]


class PaymentIntent(StripeObject):
    amount = models.BigIntegerField()
    amount_received = models.BigIntegerField(default=0)
    amount_capturable = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32, db_index=True)
    customer_stripe_id = models.CharField(max_length=255, blank=True, default="")
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="payment_intents"
    )
    payment_method_stripe_id = models.CharField(max_length=255, blank=True, default="")
    capture_method = models.CharField(max_length=32, blank=True, default="")
    description = models.TextField(blank=True, default="")
    latest_charge_stripe_id = models.CharField(max_length=255, blank=True, default="")

    class Meta(StripeObject.Meta):
        indexes = [
            *list_indexes("paymentintent"),
            models.Index(fields=["account", "customer_stripe_id"], name="paymentintent_customer"),
        ]


class Charge(StripeObject):
    amount = models.BigIntegerField()
    amount_captured = models.BigIntegerField(default=0)
    amount_refunded = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32, db_index=True)
    paid = models.BooleanField(default=False)
    captured = models.BooleanField(default=False)
    refunded = models.BooleanField(default=False)
    disputed = models.BooleanField(default=False)
    failure_code = models.CharField(max_length=64, blank=True, default="")
    failure_message = models.TextField(blank=True, default="")
    outcome_type = models.CharField(max_length=64, blank=True, default="")
    decline_code = models.CharField(max_length=64, blank=True, default="")
    customer_stripe_id = models.CharField(max_length=255, blank=True, default="")
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="charges"
    )
    payment_intent_stripe_id = models.CharField(max_length=255, blank=True, default="")
    payment_intent = models.ForeignKey(
        PaymentIntent, on_delete=models.SET_NULL, null=True, blank=True, related_name="charges"
    )
    payment_method_stripe_id = models.CharField(max_length=255, blank=True, default="")
    card_brand = models.CharField(max_length=32, blank=True, default="")
    card_last4 = models.CharField(max_length=4, blank=True, default="")
    balance_transaction_stripe_id = models.CharField(max_length=255, blank=True, default="")
    # Stripe's fee, copied from the balance transaction once we hold it (null until then).
    fee = models.BigIntegerField(null=True, blank=True)
    receipt_email = models.CharField(max_length=512, blank=True, default="")
    description = models.TextField(blank=True, default="")

    class Meta(StripeObject.Meta):
        indexes = [
            *list_indexes("charge"),
            models.Index(fields=["account", "customer_stripe_id"], name="charge_customer"),
            models.Index(fields=["account", "payment_intent_stripe_id"], name="charge_intent"),
            models.Index(
                fields=["account", "balance_transaction_stripe_id"], name="charge_balance_txn"
            ),
        ]

    @property
    def amount_refundable(self) -> int:
        return max(self.amount_captured - self.amount_refunded, 0)


class Refund(StripeObject):
    charge_stripe_id = models.CharField(max_length=255, blank=True, default="")
    charge = models.ForeignKey(
        Charge, on_delete=models.SET_NULL, null=True, blank=True, related_name="refunds"
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32, blank=True, default="")
    reason = models.CharField(max_length=64, blank=True, default="")
    balance_transaction_stripe_id = models.CharField(max_length=255, blank=True, default="")

    class Meta(StripeObject.Meta):
        indexes = [
            *list_indexes("refund"),
            models.Index(fields=["account", "charge_stripe_id"], name="refund_charge"),
        ]


class Dispute(StripeObject):
    charge_stripe_id = models.CharField(max_length=255, blank=True, default="")
    charge = models.ForeignKey(
        Charge, on_delete=models.SET_NULL, null=True, blank=True, related_name="disputes"
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32, db_index=True)
    reason = models.CharField(max_length=64, blank=True, default="")
    evidence_due_by = models.DateTimeField(null=True, blank=True)

    class Meta(StripeObject.Meta):
        indexes = [
            *list_indexes("dispute"),
            models.Index(fields=["account", "charge_stripe_id"], name="dispute_charge"),
        ]


class BalanceTransaction(StripeObject):
    amount = models.BigIntegerField()
    fee = models.BigIntegerField(default=0)
    net = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    type = models.CharField(max_length=64)
    reporting_category = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=32)
    available_on = models.DateTimeField(null=True, blank=True)
    source_stripe_id = models.CharField(max_length=255, blank=True, default="")
    payout_stripe_id = models.CharField(max_length=255, blank=True, default="")

    class Meta(StripeObject.Meta):
        indexes = [
            *list_indexes("balancetxn"),
            models.Index(fields=["account", "source_stripe_id"], name="balancetxn_source"),
            models.Index(
                fields=["account", "livemode", "status", "available_on"],
                name="balancetxn_pending",
            ),
        ]


class Payout(StripeObject):
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32, db_index=True)
    arrival_date = models.DateTimeField(null=True, blank=True)
    method = models.CharField(max_length=32, blank=True, default="")
    automatic = models.BooleanField(default=False)
    failure_code = models.CharField(max_length=64, blank=True, default="")

    class Meta(StripeObject.Meta):
        indexes = list_indexes("payout")


class TopUp(StripeObject):
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32)

    class Meta(StripeObject.Meta):
        indexes = list_indexes("topup")


class SyncCursor(TenantModel):
    """Where `stripe_sync` is in one resource, so an interrupted run resumes.

    A run pages newest-first. `starting_after` is the last object stored by the run in
    progress; `high_water` is the newest `created` seen by the last complete run, so the
    next run only asks for objects created since then (webhooks keep older rows current).
    """

    livemode = models.BooleanField(default=False)
    resource = models.CharField(max_length=64)
    starting_after = models.CharField(max_length=255, blank=True, default="")
    run_high_water = models.DateTimeField(null=True, blank=True)
    high_water = models.DateTimeField(null=True, blank=True)
    objects_synced = models.BigIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "livemode", "resource"], name="synccursor_unique_resource"
            )
        ]
