"""Reads for the Connect pages and the Express dashboard, all from the mirror.

A connected account's own money is the `payments` rows whose `stripe_account` is its id:
balance transactions (balances, earnings), charges (its payments), payouts.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from connect.models import (
    AccountStatus,
    ApplicationFee,
    ConnectedAccount,
    ExpressSettings,
    Transfer,
)
from dashboard.models import Account, AuditLog
from dashboard.money import decimals_for
from payments.models import BalanceTransaction, Charge, Dispute, Payout, Refund
from payments.selectors import Window, keyset_window

TABS = [("all", "All")] + [(status.value, status.label) for status in AccountStatus]
VOLUME_TYPES = ("charge", "payment")
PAYOUT_TYPES = ("payout", "payout_cancel", "payout_failure")
IN_FLIGHT = ("pending", "in_transit")
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


@dataclass(frozen=True)
class AccountFilters:
    query: str = ""
    country: str = ""
    type: str = ""


@dataclass
class Money:
    amount: int
    currency: str


def _money_by_account(rows) -> dict[str, list[Money]]:
    found: dict[str, list[Money]] = defaultdict(list)
    for row in rows:
        found[row["stripe_account"]].append(Money(row["total"] or 0, row["currency"]))
    return found


def account_window(
    *,
    account: Account,
    livemode: bool,
    tab: str = "all",
    filters: AccountFilters = AccountFilters(),
    after: str | None = None,
    before: str | None = None,
    limit: int = 25,
) -> Window[ConnectedAccount]:
    """The connected accounts list: newest connected first, a status tab, keyset pages.
    Each row gets `balances` and `volumes` (lists of Money), summed in one query each."""
    queryset = ConnectedAccount.objects.filter(
        account=account, livemode=livemode, deauthorized=False
    )
    if tab in AccountStatus.values:
        queryset = queryset.filter(status=tab)
    if filters.query:
        queryset = queryset.filter(
            Q(stripe_id=filters.query)
            | Q(email__icontains=filters.query)
            | Q(business_name__icontains=filters.query)
        )
    if filters.country:
        queryset = queryset.filter(country=filters.country.upper())
    if filters.type:
        queryset = queryset.filter(type=filters.type)
    window = keyset_window(queryset, after=after, before=before, limit=limit)
    ids = [row.stripe_id for row in window.rows]
    transactions = BalanceTransaction.objects.filter(
        account=account, livemode=livemode, stripe_account__in=ids
    )
    balances = _money_by_account(
        transactions.values("stripe_account", "currency").annotate(total=Sum("net"))
    )
    volumes = _money_by_account(
        transactions.filter(type__in=VOLUME_TYPES)
        .values("stripe_account", "currency")
        .annotate(total=Sum("amount"))
    )
    for row in window.rows:
        row.balances = balances.get(row.stripe_id, [])
        row.volumes = volumes.get(row.stripe_id, [])
    return window


def tab_counts(*, account: Account, livemode: bool) -> dict[str, int]:
    counts = dict(
        ConnectedAccount.objects.filter(account=account, livemode=livemode, deauthorized=False)
        .values_list("status")
        .annotate(count=Count("id"))
        .values_list("status", "count")
    )
    counts["all"] = sum(counts.values())
    return counts


def tabs(*, account: Account, livemode: bool) -> list[tuple[str, str, int]]:
    counts = tab_counts(account=account, livemode=livemode)
    return [(value, label, counts.get(value, 0)) for value, label in TABS]


def connected_account(
    *, account: Account, livemode: bool, stripe_id: str
) -> ConnectedAccount | None:
    return ConnectedAccount.objects.filter(
        account=account, livemode=livemode, stripe_id=stripe_id
    ).first()


# --- Balances and payouts -----------------------------------------------------------------


@dataclass
class Balance:
    currency: str
    available: int = 0
    pending: int = 0
    in_transit: int = 0
    next_payout: date | None = None

    @property
    def total(self) -> int:
        return self.available + self.pending


def next_scheduled_payout(schedule: dict[str, Any], today: date) -> date | None:
    interval = schedule.get("interval")
    if interval == "daily":
        return today + timedelta(days=1)
    if interval == "weekly":
        anchor = WEEKDAYS.index(schedule.get("weekly_anchor") or "monday")
        return today + timedelta(days=(anchor - today.weekday() - 1) % 7 + 1)
    if interval == "monthly":
        anchor = int(schedule.get("monthly_anchor") or 1)
        year, month = today.year, today.month
        for _ in range(2):
            day = min(anchor, calendar.monthrange(year, month)[1])
            if date(year, month, day) > today:
                return date(year, month, day)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def balances(*, account: Account, connected: ConnectedAccount) -> list[Balance]:
    """Per currency: available, pending ("available soon"), on the way to the bank, and
    the next payout date (the earliest arrival in flight, else the schedule's next day)."""
    found: dict[str, Balance] = {}
    sums = (
        BalanceTransaction.objects.filter(
            account=account, livemode=connected.livemode, stripe_account=connected.stripe_id
        )
        .values("currency", "status")
        .annotate(total=Sum("net"))
    )
    for row in sums:
        entry = found.setdefault(row["currency"], Balance(row["currency"]))
        if row["status"] == "available":
            entry.available += row["total"] or 0
        else:
            entry.pending += row["total"] or 0
    in_flight = (
        Payout.objects.filter(
            account=account,
            livemode=connected.livemode,
            stripe_account=connected.stripe_id,
            status__in=IN_FLIGHT,
        )
        .values("currency")
        .annotate(total=Sum("amount"), first=Count("id"))
    )
    arrivals = dict(
        Payout.objects.filter(
            account=account,
            livemode=connected.livemode,
            stripe_account=connected.stripe_id,
            status__in=IN_FLIGHT,
        )
        .order_by("currency", "arrival_date")
        .distinct("currency")
        .values_list("currency", "arrival_date")
    )
    for row in in_flight:
        entry = found.setdefault(row["currency"], Balance(row["currency"]))
        entry.in_transit = row["total"] or 0
    scheduled = (
        next_scheduled_payout(connected.payout_schedule, timezone.now().date())
        if connected.payouts_enabled
        else None
    )
    for currency, entry in found.items():
        arrival = arrivals.get(currency)
        entry.next_payout = arrival.date() if arrival else scheduled
    if not found:
        currency = connected.default_currency or account.default_currency
        found[currency] = Balance(currency, next_payout=scheduled)
    return sorted(found.values(), key=lambda entry: entry.currency)


# --- Account detail -----------------------------------------------------------------------


@dataclass
class Requirements:
    due_now: list[str]
    past_due: list[str]
    due_later: list[str]
    pending_verification: list[str]
    deadline: datetime | None
    disabled_reason: str

    @property
    def any(self) -> bool:
        return bool(self.due_now or self.past_due or self.due_later or self.pending_verification)


def requirements_of(connected: ConnectedAccount) -> Requirements:
    raw = connected.requirements or {}
    currently_due = list(raw.get("currently_due") or [])
    past_due = list(raw.get("past_due") or [])
    return Requirements(
        due_now=[item for item in currently_due if item not in past_due],
        past_due=past_due,
        due_later=[item for item in raw.get("eventually_due") or [] if item not in currently_due],
        pending_verification=list(raw.get("pending_verification") or []),
        deadline=connected.current_deadline,
        disabled_reason=connected.disabled_reason,
    )


@dataclass
class AccountDetail:
    connected: ConnectedAccount
    balances: list[Balance]
    requirements: Requirements
    payments: list[Charge] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    payouts: list[Payout] = field(default_factory=list)
    activity: list[AuditLog] = field(default_factory=list)
    fees: list[Money] = field(default_factory=list)


def account_detail(
    *, account: Account, livemode: bool, stripe_id: str, recent: int = 10
) -> AccountDetail | None:
    connected = connected_account(account=account, livemode=livemode, stripe_id=stripe_id)
    if connected is None:
        return None
    on_account = {"account": account, "livemode": livemode, "stripe_account": stripe_id}
    fees = (
        ApplicationFee.objects.filter(
            account=account, livemode=livemode, connected_account_stripe_id=stripe_id
        )
        .values("currency")
        .annotate(total=Sum("amount"), refunded=Sum("amount_refunded"))
        .order_by("currency")
    )
    return AccountDetail(
        connected=connected,
        balances=balances(account=account, connected=connected),
        requirements=requirements_of(connected),
        payments=list(Charge.objects.filter(**on_account).order_by("-created", "-id")[:recent]),
        transfers=list(
            Transfer.objects.filter(
                account=account, livemode=livemode, destination_stripe_id=stripe_id
            ).order_by("-created", "-id")[:recent]
        ),
        payouts=list(Payout.objects.filter(**on_account).order_by("-created", "-id")[:recent]),
        activity=list(
            AuditLog.objects.filter(account=account, object_id=stripe_id).order_by(
                "-created", "-id"
            )[:recent]
        ),
        fees=[Money((row["total"] or 0) - (row["refunded"] or 0), row["currency"]) for row in fees],
    )


def transfer_by_stripe_id(*, account: Account, livemode: bool, transfer_id: str) -> Transfer | None:
    return Transfer.objects.filter(
        account=account, livemode=livemode, stripe_id=transfer_id
    ).first()


def application_fee_totals(*, account: Account, livemode: bool) -> list[Money]:
    rows = (
        ApplicationFee.objects.filter(account=account, livemode=livemode)
        .values("currency")
        .annotate(total=Sum("amount"), refunded=Sum("amount_refunded"))
        .order_by("currency")
    )
    return [Money((row["total"] or 0) - (row["refunded"] or 0), row["currency"]) for row in rows]


# --- Express dashboard ------------------------------------------------------------------


def express_settings(account: Account) -> ExpressSettings:
    found = ExpressSettings.objects.filter(account=account).first()
    return found or ExpressSettings(account=account)


def describe(template: str, account: Account) -> str:
    return template.replace("{platform}", account.brand_name)


def transaction_window(
    *,
    account: Account,
    connected: ConnectedAccount,
    after: str | None = None,
    before: str | None = None,
    limit: int = 25,
) -> Window[BalanceTransaction]:
    """The account's balance transactions, each with a `label` worded by the platform."""
    queryset = BalanceTransaction.objects.filter(
        account=account, livemode=connected.livemode, stripe_account=connected.stripe_id
    )
    window = keyset_window(queryset, after=after, before=before, limit=limit)
    settings = express_settings(account)
    payments = [row.source_stripe_id for row in window.rows if row.type == "payment"]
    from_charges = set(
        Transfer.objects.filter(account=account, destination_payment_stripe_id__in=payments)
        .exclude(source_transaction_stripe_id="")
        .values_list("destination_payment_stripe_id", flat=True)
    )
    for row in window.rows:
        row.label = transaction_label(row, settings, account, from_charges)
    return window


def transaction_label(row, settings: ExpressSettings, account: Account, from_charges) -> str:
    if row.type == "charge" or (row.type == "payment" and row.source_stripe_id in from_charges):
        return describe(settings.payment_description, account)
    if row.type == "payment":
        return describe(settings.transfer_description, account)
    if row.type in PAYOUT_TYPES:
        return describe(settings.payout_description, account)
    if row.type == "application_fee":
        return f"{account.brand_name} fee"
    return row.type.replace("_", " ").capitalize()


def payment_window(
    *,
    account: Account,
    connected: ConnectedAccount,
    after: str | None = None,
    before: str | None = None,
    limit: int = 25,
) -> Window[Charge]:
    queryset = Charge.objects.filter(
        account=account, livemode=connected.livemode, stripe_account=connected.stripe_id
    ).select_related("customer")
    return keyset_window(queryset, after=after, before=before, limit=limit)


def payout_window(
    *,
    account: Account,
    connected: ConnectedAccount,
    after: str | None = None,
    before: str | None = None,
    limit: int = 25,
) -> Window[Payout]:
    queryset = Payout.objects.filter(
        account=account, livemode=connected.livemode, stripe_account=connected.stripe_id
    )
    return keyset_window(queryset, after=after, before=before, limit=limit)


def shows_buyer(charge: Charge) -> bool:
    """Stripe shows the buyer and card to a connected account for its direct charges and
    for destination charges made on its behalf (`on_behalf_of`), not otherwise."""
    data = charge.data or {}
    return not data.get("source_transfer") or bool(data.get("on_behalf_of"))


@dataclass
class ExpressPayment:
    charge: Charge
    shows_buyer: bool
    refunds: list[Refund]
    disputes: list[Dispute]


def express_payment(
    *, account: Account, connected: ConnectedAccount, payment_id: str
) -> ExpressPayment | None:
    charge = (
        Charge.objects.filter(
            account=account,
            livemode=connected.livemode,
            stripe_account=connected.stripe_id,
            stripe_id=payment_id,
        )
        .select_related("customer")
        .first()
    )
    if charge is None:
        return None
    settings = express_settings(account)
    return ExpressPayment(
        charge=charge,
        shows_buyer=shows_buyer(charge),
        refunds=list(charge.refunds.all()) if settings.refunds_enabled else [],
        disputes=list(charge.disputes.all()) if settings.disputes_enabled else [],
    )


INTERVALS = {
    "day": (TruncDay, timedelta(days=1), 14),
    "week": (TruncWeek, timedelta(weeks=1), 12),
    "month": (TruncMonth, timedelta(days=31), 12),
}


@dataclass
class Bar:
    start: date
    net: int
    height: int  # percent of the tallest bar, for the server-rendered chart


def earnings(
    *, account: Account, connected: ConnectedAccount, interval: str = "day"
) -> tuple[list[Bar], str]:
    """Net volume (everything but payouts) per day, week or month, oldest first, in the
    account's main currency; buckets without activity show as zero."""
    trunc, step, count = INTERVALS.get(interval, INTERVALS["day"])
    currency = connected.default_currency or account.default_currency
    now = timezone.now()
    since = now - step * count
    rows = (
        BalanceTransaction.objects.filter(
            account=account,
            livemode=connected.livemode,
            stripe_account=connected.stripe_id,
            currency=currency,
            created__gte=since,
        )
        .exclude(type__in=PAYOUT_TYPES)
        .annotate(bucket=trunc("created"))
        .values("bucket")
        .annotate(net=Sum("net"))
    )
    sums = {row["bucket"].date(): row["net"] or 0 for row in rows}
    starts = sorted(
        {trunc_date(since + step * index, interval) for index in range(1, count + 1)} | set(sums)
    )[-count:]
    tallest = max([abs(sums.get(start, 0)) for start in starts] + [1])
    bars = [
        Bar(start, sums.get(start, 0), abs(sums.get(start, 0)) * 100 // tallest) for start in starts
    ]
    return bars, currency


def chart_data(bars: list[Bar], currency: str, interval: str) -> dict[str, Any]:
    """What `static/js/charts.js` draws: labels, values in minor units, and how to format."""
    return {
        "element_id": f"earnings-data-{interval}",
        "title": f"Net volume per {interval}",
        "labels": [bar.start.strftime("%b %-d") for bar in bars],
        "values": [bar.net for bar in bars],
        "currency": currency,
        "decimals": decimals_for(currency),
    }


def trunc_date(moment: datetime, interval: str) -> date:
    day = moment.date()
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


@dataclass
class ActivityItem:
    when: datetime | None
    text: str
    amount: int | None = None
    currency: str = ""


def express_activity(
    *, account: Account, connected: ConnectedAccount, limit: int = 10
) -> list[ActivityItem]:
    """Upcoming payouts, settings changes, and (when the platform shows them) refunds and
    dispute payments, newest first."""
    settings = express_settings(account)
    on_account = {
        "account": account,
        "livemode": connected.livemode,
        "stripe_account": connected.stripe_id,
    }
    items = [
        ActivityItem(payout.arrival_date, "Upcoming payout", payout.amount, payout.currency)
        for payout in Payout.objects.filter(**on_account, status__in=IN_FLIGHT)[:limit]
    ]
    items += [
        ActivityItem(entry.created, activity_text(entry.action))
        for entry in AuditLog.objects.filter(
            account=account,
            object_id=connected.stripe_id,
            action__in=["connect.payout_schedule.updated", "connect.express.payout_created"],
        )[:limit]
    ]
    if settings.refunds_enabled:
        items += [
            ActivityItem(refund.created, "Refund", -refund.amount, refund.currency)
            for refund in Refund.objects.filter(**on_account).order_by("-created")[:limit]
        ]
    if settings.disputes_enabled:
        items += [
            ActivityItem(dispute.created, "Dispute payment", -dispute.amount, dispute.currency)
            for dispute in Dispute.objects.filter(**on_account).order_by("-created")[:limit]
        ]
    epoch = datetime.min.replace(tzinfo=timezone.get_current_timezone())
    return sorted(items, key=lambda item: item.when or epoch, reverse=True)[:limit]


def activity_text(action: str) -> str:
    return {
        "connect.payout_schedule.updated": "Payout schedule changed",
        "connect.express.payout_created": "Manual payout requested",
    }.get(action, action)


def express_refunds_and_disputes(
    *, account: Account, connected: ConnectedAccount
) -> tuple[list[Refund], list[Dispute]]:
    settings = express_settings(account)
    on_account = {
        "account": account,
        "livemode": connected.livemode,
        "stripe_account": connected.stripe_id,
    }
    refunds = (
        list(Refund.objects.filter(**on_account).order_by("-created")[:25])
        if settings.refunds_enabled
        else []
    )
    disputes = (
        list(Dispute.objects.filter(**on_account).order_by("-created")[:25])
        if settings.disputes_enabled
        else []
    )
    return refunds, disputes
