"""Reads of the payments mirror for pages and the API (never Stripe).

Lists page by keyset on (created, id), newest first, so a page costs the same at the end
of a long history as at its start, and rows arriving meanwhile do not shift pages. The
cursor is opaque to callers.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from django.db.models import Count, Exists, Model, OuterRef, Q, QuerySet

from dashboard.models import Account
from payments.models import (
    BalanceTransaction,
    Charge,
    Customer,
    Dispute,
    PaymentIntent,
    PaymentMethod,
    Refund,
)
from workbench.models import Event

MAX_LIMIT = 100

Row = TypeVar("Row", bound=Model)


class PaymentStatus:
    """The statuses a payments list filters on, as the Stripe Dashboard names them."""

    SUCCEEDED = "succeeded"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    UNCAPTURED = "uncaptured"
    FAILED = "failed"
    DISPUTED = "disputed"
    PENDING = "pending"

    ALL = (SUCCEEDED, REFUNDED, PARTIALLY_REFUNDED, UNCAPTURED, FAILED, DISPUTED, PENDING)


@dataclass(frozen=True)
class PaymentFilters:
    status: str = ""
    customer: str = ""  # a Stripe customer id
    currency: str = ""
    amount_min: int | None = None  # minor units
    amount_max: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass
class Page(Generic[Row]):
    rows: list[Row] = field(default_factory=list)
    next_cursor: str | None = None


class InvalidCursor(ValueError):
    pass


def encode_cursor(row: Model) -> str:
    raw = f"{row.created.isoformat()}|{row.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, pk = raw.rsplit("|", 1)
        return datetime.fromisoformat(created), int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise InvalidCursor("This page link is no longer valid.") from error


def keyset_page(queryset: QuerySet[Row], *, after: str | None, limit: int) -> Page[Row]:
    limit = max(1, min(limit, MAX_LIMIT))
    queryset = queryset.order_by("-created", "-id")
    if after:
        created, pk = decode_cursor(after)
        # `created <= X` is implied, but stated so PostgreSQL scans the index from X on
        # instead of filtering every newer row (an OR alone defeats the index range).
        queryset = queryset.filter(
            Q(created__lt=created) | Q(created=created, id__lt=pk), created__lte=created
        )
    rows = list(queryset[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows=rows, next_cursor=encode_cursor(rows[-1]) if more and rows else None)


def _status_filter(status: str) -> Q:
    if status == PaymentStatus.SUCCEEDED:
        return Q(status="succeeded", captured=True, amount_refunded=0, disputed=False)
    if status == PaymentStatus.REFUNDED:
        return Q(refunded=True)
    if status == PaymentStatus.PARTIALLY_REFUNDED:
        return Q(amount_refunded__gt=0, refunded=False)
    if status == PaymentStatus.UNCAPTURED:
        return Q(status="succeeded", captured=False)
    if status == PaymentStatus.FAILED:
        return Q(status="failed")
    if status == PaymentStatus.DISPUTED:
        return Q(disputed=True)
    if status == PaymentStatus.PENDING:
        return Q(status="pending")
    raise ValueError(f"Unknown payment status {status!r}")


def payment_list(
    *,
    account: Account,
    livemode: bool,
    filters: PaymentFilters | None = None,
    after: str | None = None,
    limit: int = 25,
) -> Page[Charge]:
    """Payments (one row per charge, so legacy charges without an intent show too)."""
    filters = filters or PaymentFilters()
    queryset = Charge.objects.filter(account=account, livemode=livemode).select_related(
        "customer", "payment_intent"
    )
    if filters.status:
        queryset = queryset.filter(_status_filter(filters.status))
    if filters.customer:
        queryset = queryset.filter(customer_stripe_id=filters.customer)
    if filters.currency:
        queryset = queryset.filter(currency=filters.currency.lower())
    if filters.amount_min is not None:
        queryset = queryset.filter(amount__gte=filters.amount_min)
    if filters.amount_max is not None:
        queryset = queryset.filter(amount__lte=filters.amount_max)
    if filters.created_from is not None:
        queryset = queryset.filter(created__gte=filters.created_from)
    if filters.created_to is not None:
        queryset = queryset.filter(created__lt=filters.created_to)
    return keyset_page(queryset, after=after, limit=limit)


def customer_list(
    *,
    account: Account,
    livemode: bool,
    email: str = "",
    include_deleted: bool = False,
    after: str | None = None,
    limit: int = 25,
) -> Page[Customer]:
    queryset = Customer.objects.filter(account=account, livemode=livemode)
    if not include_deleted:
        queryset = queryset.filter(deleted=False)
    if email:
        queryset = queryset.filter(email__iexact=email.strip())
    return keyset_page(queryset, after=after, limit=limit)


# --- Transactions, payment detail, customers (operator pages) ---------------------------


class PaymentDisplayStatus:
    """How a payment's status reads on the operator pages, as the Stripe Dashboard names
    them. One status per row, the most telling first (a refunded dispute is "disputed")."""

    SUCCEEDED = "succeeded"
    UNCAPTURED = "uncaptured"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    FAILED = "failed"
    DISPUTED = "disputed"
    CANCELED = "canceled"
    INCOMPLETE = "incomplete"

    CHOICES = [
        (SUCCEEDED, "Succeeded"),
        (UNCAPTURED, "Uncaptured"),
        (REFUNDED, "Refunded"),
        (PARTIALLY_REFUNDED, "Partially refunded"),
        (FAILED, "Failed"),
        (DISPUTED, "Disputed"),
        (CANCELED, "Canceled"),
        (INCOMPLETE, "Incomplete"),
    ]
    LABELS = dict(CHOICES)


INCOMPLETE_INTENT_STATUSES = ("requires_action", "requires_confirmation", "processing")


def payment_display_status(charge: Charge) -> str:
    """The one status a charge shows; mirrors `payment_status_filter` row by row."""
    intent = charge.payment_intent
    if intent is not None and intent.status == "canceled":
        return PaymentDisplayStatus.CANCELED
    if charge.status == "failed":
        return PaymentDisplayStatus.FAILED
    if charge.status == "pending" or (
        intent is not None and intent.status in INCOMPLETE_INTENT_STATUSES
    ):
        return PaymentDisplayStatus.INCOMPLETE
    if charge.disputed:
        return PaymentDisplayStatus.DISPUTED
    if charge.refunded:
        return PaymentDisplayStatus.REFUNDED
    if not charge.captured:
        return PaymentDisplayStatus.UNCAPTURED
    if charge.amount_refunded > 0:
        return PaymentDisplayStatus.PARTIALLY_REFUNDED
    return PaymentDisplayStatus.SUCCEEDED


def payment_status_filter(status: str) -> Q:
    """The rows `payment_display_status` gives `status`, as one query condition."""
    canceled = Q(payment_intent__status="canceled")
    failed = Q(status="failed") & ~canceled
    incomplete = (
        (Q(status="pending") | Q(payment_intent__status__in=INCOMPLETE_INTENT_STATUSES))
        & ~canceled
        & ~failed
    )
    settled = ~canceled & ~failed & ~incomplete
    conditions = {
        PaymentDisplayStatus.CANCELED: canceled,
        PaymentDisplayStatus.FAILED: failed,
        PaymentDisplayStatus.INCOMPLETE: incomplete,
        PaymentDisplayStatus.DISPUTED: settled & Q(disputed=True),
        PaymentDisplayStatus.REFUNDED: settled & Q(disputed=False, refunded=True),
        PaymentDisplayStatus.UNCAPTURED: settled
        & Q(disputed=False, refunded=False, captured=False),
        PaymentDisplayStatus.PARTIALLY_REFUNDED: settled
        & Q(disputed=False, refunded=False, captured=True, amount_refunded__gt=0),
        PaymentDisplayStatus.SUCCEEDED: settled
        & Q(disputed=False, refunded=False, captured=True, amount_refunded=0),
    }
    if status not in conditions:
        raise ValueError(f"Unknown payment status {status!r}")
    return conditions[status]


@dataclass
class Window(Generic[Row]):
    """One page of a keyset list that can be walked both ways."""

    rows: list[Row] = field(default_factory=list)
    next_cursor: str | None = None  # older rows follow
    previous_cursor: str | None = None  # newer rows precede


def keyset_window(
    queryset: QuerySet[Row], *, after: str | None = None, before: str | None = None, limit: int
) -> Window[Row]:
    """Newest first by (created, id). `after` walks to older rows, `before` back to newer
    ones; both are keyset conditions, so every page costs one indexed range scan."""
    limit = max(1, min(limit, MAX_LIMIT))
    if before:
        created, pk = decode_cursor(before)
        newer = queryset.filter(
            Q(created__gt=created) | Q(created=created, id__gt=pk), created__gte=created
        )
        rows = list(newer.order_by("created", "id")[: limit + 1])
        more_newer = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        return Window(
            rows=rows,
            next_cursor=encode_cursor(rows[-1]) if rows else None,
            previous_cursor=encode_cursor(rows[0]) if rows and more_newer else None,
        )
    page = keyset_page(queryset, after=after, limit=limit)
    return Window(
        rows=page.rows,
        next_cursor=page.next_cursor,
        previous_cursor=encode_cursor(page.rows[0]) if after and page.rows else None,
    )


@dataclass(frozen=True)
class PaymentListFilters(PaymentFilters):
    """`PaymentFilters` with the operator page's status names and a card brand."""

    card_brand: str = ""


def payment_queryset(
    *, account: Account, livemode: bool, filters: PaymentListFilters
) -> QuerySet[Charge]:
    """The charges the Transactions page's filters select: the page and its export both
    start here, so an export always holds what the list shows."""
    # The platform's own payments; a connected account's are on its Connect page.
    queryset = Charge.objects.filter(account=account, livemode=livemode, stripe_account="")
    if filters.status:
        queryset = queryset.filter(payment_status_filter(filters.status))
    if filters.card_brand:
        queryset = queryset.filter(card_brand=filters.card_brand.lower())
    if filters.customer:
        queryset = queryset.filter(customer_stripe_id=filters.customer)
    if filters.currency:
        queryset = queryset.filter(currency=filters.currency.lower())
    if filters.amount_min is not None:
        queryset = queryset.filter(amount__gte=filters.amount_min)
    if filters.amount_max is not None:
        queryset = queryset.filter(amount__lte=filters.amount_max)
    if filters.created_from is not None:
        queryset = queryset.filter(created__gte=filters.created_from)
    if filters.created_to is not None:
        queryset = queryset.filter(created__lt=filters.created_to)
    return queryset


def payment_window(
    *,
    account: Account,
    livemode: bool,
    filters: PaymentListFilters,
    after: str | None = None,
    before: str | None = None,
    limit: int = 25,
) -> Window[Charge]:
    """The Transactions page: one row per charge, with its customer and intent joined and
    `display_status` set on each row."""
    queryset = payment_queryset(account=account, livemode=livemode, filters=filters)
    queryset = queryset.select_related("customer", "payment_intent")
    window = keyset_window(queryset, after=after, before=before, limit=limit)
    for row in window.rows:
        row.display_status = payment_display_status(row)
        row.status_label = PaymentDisplayStatus.LABELS[row.display_status]
    return window


@dataclass
class PaymentDetail:
    """Everything the payment detail page shows, read in a fixed number of queries."""

    charge: Charge | None
    intent: PaymentIntent | None
    customer: Customer | None
    payment_method: PaymentMethod | None
    refunds: list[Refund]
    disputes: list[Dispute]
    balance_transaction: BalanceTransaction | None
    events: list[Event]
    display_status: str

    @property
    def status_label(self) -> str:
        return PaymentDisplayStatus.LABELS[self.display_status]

    @property
    def stripe_id(self) -> str:
        return self.intent.stripe_id if self.intent else self.charge.stripe_id

    @property
    def amount(self) -> int:
        return self.charge.amount if self.charge else self.intent.amount

    @property
    def currency(self) -> str:
        return self.charge.currency if self.charge else self.intent.currency

    @property
    def created(self) -> datetime:
        return self.charge.created if self.charge else self.intent.created

    @property
    def description(self) -> str:
        return (self.intent.description if self.intent else "") or (
            self.charge.description if self.charge else ""
        )

    @property
    def card_checks(self) -> dict:
        details = (self.charge.data.get("payment_method_details") or {}) if self.charge else {}
        return (details.get("card") or {}).get("checks") or {}

    @property
    def metadata(self) -> dict:
        source = self.intent or self.charge
        return source.data.get("metadata") or {}

    @property
    def net(self) -> int | None:
        return self.balance_transaction.net if self.balance_transaction else None

    @property
    def can_capture(self) -> bool:
        return self.intent is not None and self.intent.status == "requires_capture"

    @property
    def refundable(self) -> int:
        return self.charge.amount_refundable if self.charge else 0


def payment_detail(*, account: Account, livemode: bool, payment_id: str) -> PaymentDetail | None:
    """A payment by its PaymentIntent (`pi_…`) or Charge (`ch_…`) id, or None."""
    charges = Charge.objects.filter(account=account, livemode=livemode).select_related(
        "customer", "payment_intent", "payment_intent__customer"
    )
    intent = None
    if payment_id.startswith("pi_"):
        intent = (
            PaymentIntent.objects.filter(account=account, livemode=livemode, stripe_id=payment_id)
            .select_related("customer")
            .first()
        )
        if intent is None:
            return None
        # The newest attempt is the one the intent reports as its latest charge.
        charge = (
            charges.filter(payment_intent_stripe_id=payment_id).order_by("-created", "-id").first()
        )
    elif payment_id.startswith("ch_"):
        charge = charges.filter(stripe_id=payment_id).first()
        if charge is None:
            return None
        intent = charge.payment_intent
    else:
        return None
    return _payment_detail(account=account, livemode=livemode, charge=charge, intent=intent)


def _payment_detail(
    *, account: Account, livemode: bool, charge: Charge | None, intent: PaymentIntent | None
) -> PaymentDetail:
    customer = (charge.customer if charge else None) or (intent.customer if intent else None)
    method_id = (charge.payment_method_stripe_id if charge else "") or (
        intent.payment_method_stripe_id if intent else ""
    )
    mirror = {"account": account, "livemode": livemode}
    refunds = (
        list(Refund.objects.filter(**mirror, charge_stripe_id=charge.stripe_id)) if charge else []
    )
    disputes = (
        list(Dispute.objects.filter(**mirror, charge_stripe_id=charge.stripe_id)) if charge else []
    )
    return PaymentDetail(
        charge=charge,
        intent=intent,
        customer=customer,
        payment_method=PaymentMethod.objects.filter(**mirror, stripe_id=method_id).first()
        if method_id
        else None,
        refunds=sorted(refunds, key=lambda row: (row.created, row.pk), reverse=True),
        disputes=disputes,
        balance_transaction=BalanceTransaction.objects.filter(
            **mirror, stripe_id=charge.balance_transaction_stripe_id
        ).first()
        if charge and charge.balance_transaction_stripe_id
        else None,
        events=_events_about(
            account=account, livemode=livemode, rows=[charge, intent, *refunds, *disputes]
        ),
        display_status=payment_display_status(charge) if charge else _intent_only_status(intent),
    )


def _events_about(*, account: Account, livemode: bool, rows: list) -> list[Event]:
    """The events whose object is one of `rows`, newest first. None can predate the oldest
    row, which bounds the scan to the account's events since the payment began."""
    rows = [row for row in rows if row is not None]
    return list(
        Event.objects.filter(
            account=account,
            livemode=livemode,
            created__gte=min(row.created for row in rows),
            payload__data__object__id__in=[row.stripe_id for row in rows],
        ).order_by("-created", "-sequence")[:50]
    )


def _intent_only_status(intent: PaymentIntent) -> str:
    if intent.status == "canceled":
        return PaymentDisplayStatus.CANCELED
    if intent.status == "succeeded":
        return PaymentDisplayStatus.SUCCEEDED
    return PaymentDisplayStatus.INCOMPLETE


@dataclass(frozen=True)
class CustomerFilters:
    email: str = ""
    name: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None
    has_payment_method: bool | None = None
    delinquent: bool | None = None


def customer_window(
    *,
    account: Account,
    livemode: bool,
    filters: CustomerFilters,
    after: str | None = None,
    before: str | None = None,
    limit: int = 25,
) -> Window[Customer]:
    queryset = Customer.objects.filter(account=account, livemode=livemode, deleted=False)
    if filters.email:
        queryset = queryset.filter(email__icontains=filters.email.strip())
    if filters.name:
        queryset = queryset.filter(name__icontains=filters.name.strip())
    if filters.created_from is not None:
        queryset = queryset.filter(created__gte=filters.created_from)
    if filters.created_to is not None:
        queryset = queryset.filter(created__lt=filters.created_to)
    if filters.has_payment_method is not None:
        with_method = Exists(
            PaymentMethod.objects.filter(account=account, customer_stripe_id=OuterRef("stripe_id"))
        )
        queryset = queryset.filter(with_method if filters.has_payment_method else ~with_method)
    if filters.delinquent is not None:
        queryset = queryset.filter(delinquent=filters.delinquent)
    window = keyset_window(queryset, after=after, before=before, limit=limit)
    counts = dict(
        PaymentMethod.objects.filter(
            account=account, customer_stripe_id__in=[row.stripe_id for row in window.rows]
        )
        .values_list("customer_stripe_id")
        .annotate(total=Count("id"))
    )
    for row in window.rows:
        row.payment_method_count = counts.get(row.stripe_id, 0)
    return window


def customer_by_stripe_id(*, account: Account, livemode: bool, customer_id: str) -> Customer | None:
    return Customer.objects.filter(
        account=account, livemode=livemode, stripe_id=customer_id, deleted=False
    ).first()


def customer_payment_methods(*, account: Account, customer: Customer) -> list[PaymentMethod]:
    return list(
        PaymentMethod.objects.filter(
            account=account, customer_stripe_id=customer.stripe_id
        ).order_by("-created", "-id")
    )


def customer_payment_method(
    *, account: Account, customer: Customer, payment_method_id: str
) -> PaymentMethod | None:
    return PaymentMethod.objects.filter(
        account=account, customer_stripe_id=customer.stripe_id, stripe_id=payment_method_id
    ).first()


def customer_recent_payments(*, account: Account, customer: Customer, limit: int = 10):
    return payment_window(
        account=account,
        livemode=customer.livemode,
        filters=PaymentListFilters(customer=customer.stripe_id),
        limit=limit,
    )


# --- Disputes ---------------------------------------------------------------------------
# This block's imports sit here so the blocks above stay as their authors wrote them.

from datetime import timedelta  # noqa: E402

from django.core.files.storage import default_storage  # noqa: E402
from django.utils import timezone  # noqa: E402

from payments import models as payment_models  # noqa: E402

DISPUTE_STATUS_LABELS = {
    "warning_needs_response": "Inquiry: needs response",
    "warning_under_review": "Inquiry: under review",
    "warning_closed": "Inquiry closed",
    "needs_response": "Needs response",
    "under_review": "Under review",
    "won": "Won",
    "lost": "Lost",
}
DISPUTE_OPEN_STATUSES = ("needs_response", "warning_needs_response")
# A deadline this close is shown as due soon.
DISPUTE_DUE_SOON = timedelta(days=3)


class DisputeTab:
    """The status tabs of the disputes list, as the Stripe Dashboard groups them."""

    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"
    ALL = "all"

    CHOICES = [
        (NEEDS_RESPONSE, "Needs response"),
        (UNDER_REVIEW, "Under review"),
        (WON, "Won"),
        (LOST, "Lost"),
        (ALL, "All"),
    ]
    STATUSES = {
        NEEDS_RESPONSE: DISPUTE_OPEN_STATUSES,
        UNDER_REVIEW: ("under_review", "warning_under_review"),
        WON: ("won",),
        LOST: ("lost",),
    }


def dispute_status_label(status: str) -> str:
    return DISPUTE_STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def dispute_deadline(dispute: payment_models.Dispute, now: datetime) -> str:
    """The deadline state of a dispute still waiting for evidence: overdue, soon or ""."""
    if dispute.status not in DISPUTE_OPEN_STATUSES or dispute.evidence_due_by is None:
        return ""
    if dispute.evidence_due_by <= now:
        return "overdue"
    return "soon" if dispute.evidence_due_by - now <= DISPUTE_DUE_SOON else ""


def _with_labels(
    disputes: list[payment_models.Dispute], now: datetime
) -> list[payment_models.Dispute]:
    for dispute in disputes:
        dispute.status_label = dispute_status_label(dispute.status)
        dispute.deadline = dispute_deadline(dispute, now)
    return disputes


def dispute_list(
    *,
    account: Account,
    livemode: bool,
    tab: str = DisputeTab.NEEDS_RESPONSE,
    after: str | None = None,
    limit: int = 25,
    now: datetime | None = None,
) -> Page[payment_models.Dispute]:
    queryset = payment_models.Dispute.objects.filter(
        account=account, livemode=livemode
    ).select_related("charge", "charge__customer")
    if tab != DisputeTab.ALL:
        queryset = queryset.filter(status__in=DisputeTab.STATUSES[tab])
    page = keyset_page(queryset, after=after, limit=limit)
    _with_labels(page.rows, now or timezone.now())
    return page


def dispute_needing_response_count(*, account: Account, livemode: bool) -> int:
    return payment_models.Dispute.objects.filter(
        account=account, livemode=livemode, status__in=DISPUTE_OPEN_STATUSES
    ).count()


def dispute_get(
    *, account: Account, livemode: bool, dispute_id: str, now: datetime | None = None
) -> payment_models.Dispute | None:
    dispute = (
        payment_models.Dispute.objects.filter(
            account=account, livemode=livemode, stripe_id=dispute_id
        )
        .select_related("charge", "charge__customer", "charge__payment_intent")
        .first()
    )
    if dispute is not None:
        _with_labels([dispute], now or timezone.now())
    return dispute


def dispute_evidence_files_kept(*, account: Account, dispute: payment_models.Dispute) -> list[str]:
    """Uploads Paydesk kept itself because the connection has no Files API (the sandbox)."""
    folder = dispute_evidence_folder(account=account, dispute=dispute)
    if not default_storage.exists(folder):
        return []
    _, files = default_storage.listdir(folder)
    return sorted(files)


def dispute_evidence_folder(*, account: Account, dispute: payment_models.Dispute) -> str:
    mode = "live" if dispute.livemode else "test"
    return f"dispute_evidence/{account.pk}/{mode}/{dispute.stripe_id}"
