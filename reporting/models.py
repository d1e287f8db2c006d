"""Daily rollups for analytics, kept current by the event handlers (reporting/handlers.py).

A `DailyRollup` is the sum of the `RollupContribution` rows of its (account, livemode,
currency, day). Each contribution is what one mirrored object (a charge, a refund, a
balance transaction, a customer, a dispute) adds, recomputed from the mirror row whenever
an event touches it; only the difference to the stored contribution is added to the
rollup. A replayed or duplicated event therefore adds nothing, and an object that changes
(a charge that fails after pending, a fee that becomes known) moves the totals by exactly
the change.
"""

from __future__ import annotations

from django.db import models

from dashboard.models import TenantModel

ROLLUP_MEASURES = (
    "gross_volume",
    "net_volume",
    "fees",
    "refunds",
    "successful_payments",
    "failed_payments",
    "new_customers",
    "disputes",
)


class Measures(models.Model):
    # Amounts in minor units of `currency`; counts are plain numbers.
    gross_volume = models.BigIntegerField(default=0)
    net_volume = models.BigIntegerField(default=0)
    fees = models.BigIntegerField(default=0)
    refunds = models.BigIntegerField(default=0)
    successful_payments = models.BigIntegerField(default=0)
    failed_payments = models.BigIntegerField(default=0)
    new_customers = models.BigIntegerField(default=0)
    disputes = models.BigIntegerField(default=0)

    class Meta:
        abstract = True

    def measures(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in ROLLUP_MEASURES}


class DailyRollup(TenantModel, Measures):
    livemode = models.BooleanField(default=False)
    currency = models.CharField(max_length=3)
    # The calendar day in the account's time zone.
    day = models.DateField()
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "livemode", "currency", "day"], name="dailyrollup_unique_day"
            )
        ]
        ordering = ["-day", "currency"]


class RollupContribution(TenantModel, Measures):
    livemode = models.BooleanField(default=False)
    # The mirror model's label ("payments.charge") and the object's Stripe id.
    kind = models.CharField(max_length=64)
    stripe_id = models.CharField(max_length=255)
    currency = models.CharField(max_length=3)
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind", "stripe_id"], name="rollupcontribution_unique_object"
            )
        ]
