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


# --- Report runs, exports and scheduled reports -----------------------------------------


def new_report_run_id() -> str:
    from dashboard.models import public_id

    return public_id("rr")


def new_saved_report_id() -> str:
    from dashboard.models import public_id

    return public_id("srp")


class ReportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"


class ReportFrequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"


class SavedReport(TenantModel):
    """A report (an export source and its parameters) run on a schedule and mailed, as a
    link, to the team members who subscribed."""

    public_id = models.CharField(max_length=32, unique=True, default=new_saved_report_id)
    name = models.CharField(max_length=120)
    livemode = models.BooleanField(default=False)
    # An export source key from reporting.exports (the report's kind).
    source = models.CharField(max_length=64)
    # Filters, columns, metadata keys: the same parameters an export takes.
    parameters = models.JSONField(default=dict, blank=True)
    format = models.CharField(max_length=4, choices=ReportFormat.choices, default="csv")
    frequency = models.CharField(max_length=8, choices=ReportFrequency.choices)
    subscribers = models.ManyToManyField("dashboard.User", blank=True, related_name="+")
    created_by = models.ForeignKey(
        "dashboard.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    next_run_at = models.DateTimeField(db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ReportRun(TenantModel):
    """One export or report file being made: who asked, with what, how far it got."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    public_id = models.CharField(max_length=32, unique=True, default=new_report_run_id)
    livemode = models.BooleanField(default=False)
    # An export source key from reporting.exports.
    source = models.CharField(max_length=64)
    # {"filters": {...}, "columns": [...], "metadata_keys": [...]}: enough to run it again.
    parameters = models.JSONField(default=dict, blank=True)
    format = models.CharField(max_length=4, choices=ReportFormat.choices, default="csv")
    requested_by = models.ForeignKey(
        "dashboard.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    saved_report = models.ForeignKey(
        SavedReport, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_done = models.BigIntegerField(default=0)
    rows_total = models.BigIntegerField(null=True, blank=True)
    row_count = models.BigIntegerField(null=True, blank=True)
    # The file's name in Django's default storage ("" until the run succeeded).
    file = models.CharField(max_length=500, blank=True, default="")
    file_size = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Touched while a worker writes rows: a running run with an old heartbeat lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["account", "-created"], name="reportrun_account_created")]

    def __str__(self) -> str:
        return self.public_id

    @property
    def is_done(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)
