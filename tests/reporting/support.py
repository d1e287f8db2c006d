"""Mirror rows written directly (typed columns + data), for report and export tests."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

from django_scopes import scope

from payments.models import BalanceTransaction, Charge, Customer, Dispute, Payout


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def _common(account, stripe_id, created, livemode, data):
    return {
        "account": account,
        "livemode": livemode,
        "stripe_id": stripe_id,
        "created": created,
        "source_time": created,
        "data": {"id": stripe_id, **data},
    }


def charge(
    account,
    stripe_id,
    *,
    amount=1000,
    currency="usd",
    created=None,
    livemode=True,
    description="",
    metadata=None,
    customer=None,
    **fields,
):
    with scope(account=account):
        return Charge.objects.create(
            **_common(
                account,
                stripe_id,
                created or at("2026-03-01"),
                livemode,
                {"metadata": metadata or {}, "description": description},
            ),
            amount=amount,
            amount_captured=amount,
            currency=currency,
            status=fields.pop("status", "succeeded"),
            paid=True,
            captured=fields.pop("captured", True),
            description=description,
            customer=customer,
            customer_stripe_id=customer.stripe_id if customer else "",
            **fields,
        )


def customer(account, stripe_id, *, email="", created=None, livemode=True, metadata=None):
    with scope(account=account):
        return Customer.objects.create(
            **_common(
                account,
                stripe_id,
                created or at("2026-03-01"),
                livemode,
                {"metadata": metadata or {}},
            ),
            email=email,
        )


def balance_transaction(
    account,
    stripe_id,
    *,
    amount,
    fee=0,
    currency="usd",
    type="charge",
    category=None,
    created=None,
    livemode=True,
    description="",
    payout="",
    status="available",
):
    with scope(account=account):
        return BalanceTransaction.objects.create(
            **_common(
                account,
                stripe_id,
                created or at("2026-03-01"),
                livemode,
                {"description": description or None},
            ),
            amount=amount,
            fee=fee,
            net=amount - fee,
            currency=currency,
            type=type,
            reporting_category=type if category is None else category,
            status=status,
            payout_stripe_id=payout,
        )


def payout(
    account, stripe_id, *, amount, currency="usd", created=None, livemode=True, status="paid"
):
    with scope(account=account):
        return Payout.objects.create(
            **_common(account, stripe_id, created or at("2026-03-01"), livemode, {}),
            amount=amount,
            currency=currency,
            status=status,
            arrival_date=created,
        )


def dispute(
    account, stripe_id, *, amount=1000, status="needs_response", created=None, livemode=True
):
    with scope(account=account):
        return Dispute.objects.create(
            **_common(account, stripe_id, created or at("2026-03-01"), livemode, {}),
            amount=amount,
            currency="usd",
            status=status,
        )


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def download_link(response) -> str:
    found = re.search(r'href="([^"]+/download/\?token=[^"]+)"', response.content.decode())
    assert found, "no download link on the page"
    return found.group(1).replace("&amp;", "&")


def file_content(response) -> bytes:
    return b"".join(response.streaming_content)
