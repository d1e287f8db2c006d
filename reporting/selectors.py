"""Reads for the Home page and reports: figures from the daily rollups, never from charges.

A figure covers whole days in the account's time zone (the rollups' `day`), so the Home
page costs one indexed read of at most two periods of rollup rows, whatever the volume.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Sum

from dashboard.models import Account
from dashboard.widgets import Period
from payments.models import Charge, Dispute
from reporting.models import ROLLUP_MEASURES, DailyRollup

# Stripe's dispute statuses that wait for the merchant's answer.
NEEDS_RESPONSE = ("warning_needs_response", "needs_response")


def percent_change(current: int, previous: int) -> Decimal | None:
    """The change against the previous period in percent (one decimal); None when the
    previous period is zero, where a percentage means nothing."""
    if previous == 0:
        return None
    ratio = Decimal(current - previous) * 100 / Decimal(abs(previous))
    return ratio.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Figure:
    """One measure in one currency (or `currency=""` for counts) over a period."""

    measure: str
    currency: str
    current: int = 0
    previous: int = 0
    days: list[date] = field(default_factory=list)
    series: list[int] = field(default_factory=list)

    @property
    def change(self) -> Decimal | None:
        return percent_change(self.current, self.previous)


@dataclass
class RollupTotals:
    """Sums of every rollup measure for a period and the one before it, per currency."""

    period: Period
    # {(measure, currency): {day: value}} over both periods.
    by_day: dict[tuple[str, str], dict[date, int]]
    default_currency: str

    def currencies(self, measure: str) -> list[str]:
        found = {currency for name, currency in self.by_day if name == measure}
        return sorted(found, key=lambda code: (code != self.default_currency, code))

    def figure(self, measure: str, currency: str | None) -> Figure:
        """`currency=None` adds every currency up (for counts)."""
        per_day: dict[date, int] = defaultdict(int)
        for (name, code), values in self.by_day.items():
            if name == measure and (currency is None or code == currency):
                for day, value in values.items():
                    per_day[day] += value
        previous = self.period.previous()
        days = self.days
        series = [per_day.get(day, 0) for day in days]
        return Figure(
            measure=measure,
            currency=currency or "",
            current=sum(series),
            previous=sum(v for d, v in per_day.items() if previous.start <= d <= previous.end),
            days=days,
            series=series,
        )

    @cached_property
    def days(self) -> list[date]:
        return self.period.each_day()

    def money(self, measure: str) -> list[Figure]:
        """One figure per currency with any activity; the default currency when none."""
        return [self.figure(measure, code) for code in self.currencies(measure)] or [
            self.figure(measure, self.default_currency)
        ]

    @property
    def empty(self) -> bool:
        return not self.by_day


def rollup_totals(*, account: Account, livemode: bool, period: Period) -> RollupTotals:
    rows = DailyRollup.objects.filter(
        account=account,
        livemode=livemode,
        day__gte=period.previous().start,
        day__lte=period.end,
    ).values_list("day", "currency", *ROLLUP_MEASURES)
    by_day: dict[tuple[str, str], dict[date, int]] = defaultdict(dict)
    for day, currency, *values in rows:
        for measure, value in zip(ROLLUP_MEASURES, values, strict=True):
            if value:
                by_day[(measure, currency)][day] = value
    return RollupTotals(
        period=period, by_day=dict(by_day), default_currency=account.default_currency.lower()
    )


def has_activity(*, account: Account, livemode: bool) -> bool:
    return DailyRollup.objects.filter(account=account, livemode=livemode).exists()


def _zone(account: Account) -> ZoneInfo:
    try:
        return ZoneInfo(account.timezone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def period_bounds(account: Account, period: Period) -> tuple[datetime, datetime]:
    """[start, end) as instants: midnight to midnight in the account's time zone."""
    zone = _zone(account)
    return (
        datetime.combine(period.start, time.min, tzinfo=zone),
        datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=zone),
    )


def disputes_needing_response(*, account: Account, livemode: bool, limit: int = 5):
    """Open disputes waiting for evidence, the nearest deadline first, and how many."""
    queryset = Dispute.objects.filter(
        account=account, livemode=livemode, stripe_account="", status__in=NEEDS_RESPONSE
    )
    rows = list(queryset.order_by("evidence_due_by", "-id")[:limit])
    count = len(rows) if len(rows) < limit else queryset.count()
    return rows, count


@dataclass(frozen=True)
class TopCustomer:
    stripe_id: str
    name: str
    email: str
    currency: str
    spend: int
    payments: int


def top_customers(
    *, account: Account, livemode: bool, period: Period, limit: int = 5
) -> list[TopCustomer]:
    """Customers by captured amount, net of refunds, over the period.

    The one Home figure not in the rollups (they are per day, not per customer): it sums
    the period's charges through the (account, livemode, created) index.
    """
    start, end = period_bounds(account, period)
    rows = (
        Charge.objects.filter(
            account=account,
            livemode=livemode,
            stripe_account="",
            created__gte=start,
            created__lt=end,
            status="succeeded",
            captured=True,
        )
        .exclude(customer_stripe_id="")
        .values("customer_stripe_id", "currency", "customer__name", "customer__email")
        .annotate(spend=Sum(F("amount_captured") - F("amount_refunded")), n=Count("id"))
        .order_by("-spend", "customer_stripe_id")[:limit]
    )
    return [
        TopCustomer(
            stripe_id=row["customer_stripe_id"],
            name=row["customer__name"] or "",
            email=row["customer__email"] or "",
            currency=row["currency"],
            spend=row["spend"],
            payments=row["n"],
        )
        for row in rows
    ]
