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

from django.db.models import Model, Q, QuerySet

from dashboard.models import Account
from payments.models import Charge, Customer

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
        queryset = queryset.filter(Q(created__lt=created) | Q(created=created, id__lt=pk))
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
