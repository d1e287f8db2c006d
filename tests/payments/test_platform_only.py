"""A connected account's own objects (mirrored with `stripe_account` set) are that seller's
business: they never count in the platform's balances, lists or analytics."""

from __future__ import annotations

from datetime import date

import pytest

from payments.selectors import PaymentListFilters, payment_queryset
from payments.selectors_balances import balance_summary
from reporting.models import DailyRollup
from tests.payments import stripe_objects as so
from tests.payments.stripe_objects import FakeEvent, at

pytestmark = pytest.mark.django_db


def paid(acme, deliver, *, charge_id, txn_id, amount, connected=""):
    txn = so.balance_transaction(id=txn_id, amount=amount, fee=0, source=charge_id)
    charge = so.charge(id=charge_id, amount=amount, balance_transaction=txn)
    deliver(FakeEvent(acme, "charge.succeeded", charge, at(5), connected_account=connected))


def test_a_sellers_payment_counts_nowhere_on_the_platform(acme, deliver, in_acme):
    paid(acme, deliver, charge_id="ch_platform", txn_id="txn_platform", amount=1000)
    paid(acme, deliver, charge_id="py_seller", txn_id="txn_seller", amount=700, connected="acct_9")

    day = DailyRollup.objects.get(livemode=False, currency="usd", day=date(2025, 6, 15))
    assert (day.gross_volume, day.successful_payments, day.net_volume) == (1000, 1, 1000)
    (usd,) = balance_summary(account=acme, livemode=False)
    assert (usd.available, usd.pending) == (0, 1000)
    listed = payment_queryset(account=acme, livemode=False, filters=PaymentListFilters())
    assert list(listed.values_list("stripe_id", flat=True)) == ["ch_platform"]


def test_the_api_exports_and_search_leave_a_sellers_objects_out(acme, deliver, in_acme):
    from dashboard.search import parse_query
    from payments import selectors_api
    from payments.search import search_payments
    from reporting.export_sources import balance_transaction_rows

    paid(acme, deliver, charge_id="ch_platform", txn_id="txn_platform", amount=1000)
    paid(acme, deliver, charge_id="py_seller", txn_id="txn_seller", amount=700, connected="acct_9")

    listed = selectors_api.balance_transactions(account=acme, livemode=False)
    assert list(listed.values_list("stripe_id", flat=True)) == ["txn_platform"]
    exported = balance_transaction_rows(acme, False, {})
    assert list(exported.values_list("stripe_id", flat=True)) == ["txn_platform"]
    found = " ".join(
        str(vars(result))
        for result in search_payments(acme, False, parse_query("ch_platform"), 10)
        + search_payments(acme, False, parse_query("py_seller"), 10)
    )
    assert "ch_platform" in found
    assert "py_seller" not in found
