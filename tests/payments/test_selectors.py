from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.mirroring import Source, store_charge, store_customer
from payments.selectors import (
    InvalidCursor,
    PaymentFilters,
    PaymentStatus,
    customer_list,
    payment_list,
)
from tests.payments import stripe_objects as so
from tests.payments.stripe_objects import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def payments(acme, in_acme):
    source = Source(account=acme, livemode=False, time=at(10_000))
    store_customer(source, so.customer())
    rows = []
    # Seven charges, two of them in the same second, to exercise the (created, id) order.
    for number, created in enumerate([0, 10, 10, 20, 30, 40, 50]):
        rows.append(
            store_charge(
                source,
                so.charge(
                    id=f"ch_{number}",
                    created=created,
                    amount=100 * (number + 1),
                    customer="cus_1" if number % 2 else None,
                ),
            )
        )
    store_charge(source, so.charge(id="ch_failed", status="failed", created=60))
    store_charge(
        source, so.charge(id="ch_refunded", created=70, amount_refunded=1000, refunded=True)
    )
    store_charge(
        Source(account=acme, livemode=True, time=at(10_000)), so.charge(id="ch_live", created=80)
    )
    return rows


def walk(account, **options):
    seen, after = [], None
    while True:
        page = payment_list(account=account, livemode=False, after=after, **options)
        seen.append([row.stripe_id for row in page.rows])
        if page.next_cursor is None:
            return seen
        after = page.next_cursor


def test_pages_walk_newest_first_without_gaps_or_repeats(acme, payments):
    pages = walk(acme, limit=3)

    flat = [stripe_id for page in pages for stripe_id in page]
    assert [len(page) for page in pages] == [3, 3, 3]
    assert flat[:3] == ["ch_refunded", "ch_failed", "ch_6"]
    assert len(flat) == len(set(flat)) == 9
    assert "ch_live" not in flat  # test mode lists hold no live data
    assert flat.index("ch_2") < flat.index("ch_1")  # same second: higher id first


def test_filters(acme, payments):
    def ids(**filters):
        page = payment_list(account=acme, livemode=False, filters=PaymentFilters(**filters))
        return {row.stripe_id for row in page.rows}

    assert ids(status=PaymentStatus.FAILED) == {"ch_failed"}
    assert ids(status=PaymentStatus.REFUNDED) == {"ch_refunded"}
    assert ids(customer="cus_1") == {"ch_1", "ch_3", "ch_5"}
    assert ids(amount_min=500, amount_max=600) == {"ch_4", "ch_5"}
    assert ids(created_from=at(40), created_to=at(60)) == {"ch_5", "ch_6"}


def test_a_page_is_one_query_with_its_customers(acme, payments):
    with CaptureQueriesContext(connection) as queries:
        page = payment_list(account=acme, livemode=False, limit=25)
        names = [row.customer.email for row in page.rows if row.customer]
    assert len(queries) == 1
    assert names == ["jenny@example.com"] * 3
    assert "OFFSET" not in queries[0]["sql"].upper()


def test_a_tampered_cursor_is_refused(acme, payments):
    with pytest.raises(InvalidCursor):
        payment_list(account=acme, livemode=False, after="not-a-cursor")


def test_customers_are_listed_without_the_deleted(acme, in_acme):
    source = Source(account=acme, livemode=False, time=at(10_000))
    store_customer(source, so.customer(id="cus_a"))
    store_customer(source, so.customer(id="cus_b", deleted=True))

    page = customer_list(account=acme, livemode=False)

    assert [row.stripe_id for row in page.rows] == ["cus_a"]
