"""Mirror tables of the product catalog (DESIGN.md "Mirror tables")."""

from __future__ import annotations

from django.db import models

from workbench.mirror import StripeObject


class Product(StripeObject):
    name = models.CharField(max_length=512)
    active = models.BooleanField(default=True)
    description = models.TextField(blank=True, default="")
    default_price_stripe_id = models.CharField(max_length=255, blank=True, default="")
    deleted = models.BooleanField(default=False)

    class Meta(StripeObject.Meta):
        indexes = [
            models.Index(
                fields=["account", "livemode", "-created", "-id"], name="product_list_newest"
            )
        ]


class Price(StripeObject):
    class Type(models.TextChoices):
        ONE_TIME = "one_time", "One time"
        RECURRING = "recurring", "Recurring"

    product_stripe_id = models.CharField(max_length=255, blank=True, default="")
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="prices"
    )
    # Null for prices without a fixed amount (tiered or customer-chosen).
    unit_amount = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    type = models.CharField(max_length=16, choices=Type.choices)
    recurring_interval = models.CharField(max_length=16, blank=True, default="")
    recurring_interval_count = models.PositiveIntegerField(null=True, blank=True)
    nickname = models.CharField(max_length=255, blank=True, default="")
    active = models.BooleanField(default=True)
    deleted = models.BooleanField(default=False)

    class Meta(StripeObject.Meta):
        indexes = [
            models.Index(
                fields=["account", "livemode", "-created", "-id"], name="price_list_newest"
            ),
            models.Index(fields=["account", "product_stripe_id"], name="price_product"),
        ]
