"""Financial reports, computed from balance transactions exactly as Stripe does.

Balance summary: for each currency, the balance at the start of the period (every
transaction created before it), the period's activity by reporting category, the payouts,
and the ending balance. Starting + activity − payouts = ending, to the minor unit, because
all four are sums of the same `net` column over a partition of the same rows.

Payout reconciliation: each payout of the period with the balance transactions it settled
(`payout_stripe_id`, as `GET /v1/balance_transactions?payout=` lists them).

Periods are calendar days in the account's time zone, the end day included.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, NullIf

from dashboard.models import Account
from reporting.exports import DATETIME, MONEY, Column, register_export_source

# Balance transactions that move money out to (or back from) the bank.
PAYOUT_CATEGORIES = ("payout", "payout_reversal")
PAYOUT_TYPES = ("payout", "payout_cancel", "payout_failure")
CATEGORY_LABELS = {
    "charge": "Charges",
    "refund": "Refunds",
    "dispute": "Disputes",
    "dispute_reversal": "Dispute reversals",
    "fee": "Stripe fees",
    "stripe_fee": "Stripe fees",
    "application_fee": "Application fees",
    "transfer": "Transfers",
    "transfer_reversal": "Transfer reversals",
    "topup": "Top-ups",
    "topup_reversal": "Top-up reversals",
    "adjustment": "Adjustments",
    "other_adjustment": "Other adjustments",
    "payout": "Payouts",
    "payout_reversal": "Payout reversals",
}


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included
    timezone: str

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=zoneinfo.ZoneInfo(self.timezone))

    @property
    def ends_at(self) -> datetime:
        """The first instant after the period."""
        day_after = self.end + timedelta(days=1)
        return datetime.combine(day_after, time.min, tzinfo=zoneinfo.ZoneInfo(self.timezone))

    def as_filters(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def period_from_filters(*, account: Account, filters: dict) -> Period:
    today = datetime.now(zoneinfo.ZoneInfo(account.timezone)).date()
    default = last_month(today)
    try:
        start = date.fromisoformat(filters.get("from") or "") if filters.get("from") else None
        end = date.fromisoformat(filters.get("to") or "") if filters.get("to") else None
    except ValueError:
        start = end = None
    start, end = start or default[0], end or default[1]
    if end < start:
        start, end = end, start
    return Period(start=start, end=end, timezone=account.timezone)


def last_month(today: date) -> tuple[date, date]:
    first_of_this = today.replace(day=1)
    last_of_previous = first_of_this - timedelta(days=1)
    return last_of_previous.replace(day=1), last_of_previous


def _category():
    return Coalesce(NullIf("reporting_category", Value("")), "type")


def _transactions(*, account: Account, livemode: bool) -> QuerySet:
    from payments.models import BalanceTransaction

    # The platform's own ledger: connected accounts' transactions are theirs.
    return BalanceTransaction.objects.filter(account=account, livemode=livemode, stripe_account="")


@dataclass
class CategoryLine:
    category: str
    count: int
    gross: int
    fee: int
    net: int

    @property
    def label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category.replace("_", " ").capitalize())


@dataclass
class CurrencySummary:
    currency: str
    starting: int = 0
    activity: list[CategoryLine] = field(default_factory=list)
    # Paid out to the bank in the period, as a positive amount (reversals reduce it).
    payouts: int = 0
    payout_count: int = 0

    @property
    def activity_net(self) -> int:
        return sum(line.net for line in self.activity)

    @property
    def ending(self) -> int:
        return self.starting + self.activity_net - self.payouts


def balance_summary(*, account: Account, livemode: bool, period: Period) -> list[CurrencySummary]:
    """One summary per currency held before the period ends, the default currency first."""
    before = Q(created__lt=period.starts_at)
    during = Q(created__gte=period.starts_at)
    rows = (
        _transactions(account=account, livemode=livemode)
        .filter(created__lt=period.ends_at)
        .annotate(category=_category())
        .values("currency", "category")
        .annotate(
            starting=Sum("net", filter=before, default=0),
            count=Count("id", filter=during),
            gross=Sum("amount", filter=during, default=0),
            fee=Sum("fee", filter=during, default=0),
            net=Sum("net", filter=during, default=0),
        )
        .order_by("currency", "category")
    )
    summaries: dict[str, CurrencySummary] = {}
    for row in rows:
        summary = summaries.setdefault(row["currency"], CurrencySummary(row["currency"]))
        summary.starting += row["starting"]
        if not row["count"]:
            continue
        if row["category"] in PAYOUT_CATEGORIES:
            summary.payouts -= row["net"]
            summary.payout_count += row["count"]
        else:
            summary.activity.append(
                CategoryLine(row["category"], row["count"], row["gross"], row["fee"], row["net"])
            )
    default = account.default_currency.lower()
    return [summaries[code] for code in sorted(summaries, key=lambda c: (c != default, c))]


@dataclass
class PayoutLine:
    payout: object
    count: int
    gross: int
    fees: int
    net: int

    @property
    def reconciles(self) -> bool:
        """The settled transactions add up to what reached the bank."""
        return self.net == self.payout.amount


def payouts_in_period(*, account: Account, livemode: bool, period: Period) -> QuerySet:
    from payments.models import Payout

    return Payout.objects.filter(
        account=account,
        livemode=livemode,
        stripe_account="",
        created__gte=period.starts_at,
        created__lt=period.ends_at,
    ).order_by("-created", "-id")


def payout_reconciliation(*, account: Account, livemode: bool, period: Period) -> list[PayoutLine]:
    """Each payout created in the period with the sums of the transactions it settled
    (its own payout transaction left out)."""
    payouts = list(payouts_in_period(account=account, livemode=livemode, period=period))
    sums = {
        row["payout_stripe_id"]: row
        for row in _transactions(account=account, livemode=livemode)
        .filter(payout_stripe_id__in=[payout.stripe_id for payout in payouts])
        .exclude(type__in=PAYOUT_TYPES)
        .values("payout_stripe_id")
        .annotate(
            count=Count("id"),
            gross=Sum("amount", default=0),
            fees=Sum("fee", default=0),
            net=Sum("net", default=0),
        )
        .order_by()
    }
    empty = {"count": 0, "gross": 0, "fees": 0, "net": 0}
    return [
        PayoutLine(payout=payout, **{k: sums.get(payout.stripe_id, empty)[k] for k in empty})
        for payout in payouts
    ]


# --- Itemised CSVs (export sources) ---------------------------------------------------------


def balance_activity_rows(account: Account, livemode: bool, filters: dict) -> QuerySet:
    """Every balance transaction of the period: the lines behind the balance summary."""
    period = period_from_filters(account=account, filters=filters)
    return (
        _transactions(account=account, livemode=livemode)
        .filter(created__gte=period.starts_at, created__lt=period.ends_at)
        .annotate(category=_category())
        .order_by("created", "id")
    )


def payout_reconciliation_rows(account: Account, livemode: bool, filters: dict) -> QuerySet:
    """The transactions settled by the period's payouts, grouped by payout."""
    from payments.models import Payout

    period = period_from_filters(account=account, filters=filters)
    payouts = payouts_in_period(account=account, livemode=livemode, period=period)
    arrival = Payout.objects.filter(
        account=account, livemode=livemode, stripe_id=OuterRef("payout_stripe_id")
    ).values("arrival_date")[:1]
    return (
        _transactions(account=account, livemode=livemode)
        .filter(payout_stripe_id__in=payouts.values("stripe_id"))
        .exclude(type__in=PAYOUT_TYPES)
        .annotate(category=_category(), payout_arrival=Subquery(arrival))
        .order_by("payout_stripe_id", "created", "id")
    )


ITEM_COLUMNS = (
    Column("id", "Balance transaction", "stripe_id"),
    Column("created", "Created", "created", DATETIME),
    Column("available_on", "Available on", "available_on", DATETIME),
    Column("category", "Reporting category", "category"),
    Column("type", "Type", "type"),
    Column("source", "Source", "source_stripe_id"),
    Column("amount", "Gross", "amount", MONEY),
    Column("fee", "Fee", "fee", MONEY),
    Column("net", "Net", "net", MONEY),
    Column("currency", "Currency", "currency"),
    Column("status", "Status", "status", default=False),
)


def register() -> None:
    register_export_source(
        "balance_activity",
        title="Balance summary (itemised)",
        permission="reports.view",
        columns=ITEM_COLUMNS,
        rows=balance_activity_rows,
        list_url_name="reporting:balance_summary",
    )
    register_export_source(
        "payout_reconciliation",
        title="Payout reconciliation (itemised)",
        permission="reports.view",
        columns=(
            Column("payout", "Payout", "payout_stripe_id"),
            Column("payout_arrival", "Payout arrival", "payout_arrival", DATETIME),
            *ITEM_COLUMNS,
        ),
        rows=payout_reconciliation_rows,
        list_url_name="reporting:payout_reconciliation",
    )
