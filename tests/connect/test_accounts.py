"""Connected accounts list and detail: onboarding states per tab, columns, filters, keyset
pagination, and the detail page's sections."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from connect import mirroring
from connect.models import AccountStatus, ConnectedAccount, account_status
from payments.mirroring import Source

pytestmark = pytest.mark.django_db

STATES = ["enabled", "restricted", "restricted_soon", "in_review", "rejected"]


def accounts_on(page: str) -> list[str]:
    return re.findall(r'data-account="(acct_[A-Za-z0-9]+)"', page)


@pytest.fixture
def one_per_state(make_account):
    return {state: make_account(state, email=f"{state}@example.com") for state in STATES}


def test_each_onboarding_state_is_shown_in_its_own_tab(owner, acme, one_per_state):
    for state, row in one_per_state.items():
        assert row.status == state
        page = owner.get(f"/a/acme/connect/?tab={state}").content.decode()
        assert accounts_on(page) == [row.stripe_id], state
        assert AccountStatus(state).label in page
    everything = owner.get("/a/acme/connect/").content.decode()
    assert sorted(accounts_on(everything)) == sorted(r.stripe_id for r in one_per_state.values())


def test_restricted_soon_shows_what_is_due_and_the_deadline(owner, one_per_state):
    row = one_per_state["restricted_soon"]
    page = owner.get(f"/a/acme/connect/accounts/{row.stripe_id}/").content.decode()
    assert "Restricted soon" in page
    assert "Due now" in page and "business_profile.mcc" in page
    assert 'data-testid="deadline"' in page


def test_a_rejected_account_shows_its_reason(owner, one_per_state):
    row = one_per_state["rejected"]
    page = owner.get(f"/a/acme/connect/accounts/{row.stripe_id}/").content.decode()
    assert "rejected.other" in page


def test_a_new_account_is_restricted_until_onboarded(owner, make_account):
    row = make_account(None)
    assert row.status == AccountStatus.RESTRICTED
    assert "external_account" in row.requirements["currently_due"]


@pytest.mark.parametrize(
    ("requirements", "enabled", "expected"),
    [
        ({"disabled_reason": "rejected.fraud"}, False, "rejected"),
        ({"disabled_reason": "under_review"}, False, "in_review"),
        ({"disabled_reason": "requirements.past_due", "past_due": ["x"]}, False, "restricted"),
        ({"currently_due": ["x"], "current_deadline": 1}, True, "restricted_soon"),
        ({}, True, "enabled"),
        ({}, False, "restricted"),
    ],
)
def test_status_is_derived_like_stripes_dashboard(requirements, enabled, expected):
    obj = {"requirements": requirements, "charges_enabled": enabled, "payouts_enabled": enabled}
    assert account_status(obj) == expected


def fake_account(acme, index: int) -> ConnectedAccount:
    created = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) + index * 60
    obj = {
        "id": f"acct_fake{index:04d}",
        "object": "account",
        "type": "express",
        "country": "DE" if index % 2 else "US",
        "email": f"seller{index}@example.com",
        "created": created,
        "charges_enabled": True,
        "payouts_enabled": True,
        "requirements": {"currently_due": []},
        "settings": {"payouts": {"schedule": {"interval": "daily"}}},
    }
    source = Source(account=acme, livemode=False, time=datetime.now(UTC))
    with scope(account=acme):
        return mirroring.store_connected_account(source, obj)


def test_the_list_pages_by_keyset_both_ways(owner, acme):
    rows = [fake_account(acme, index) for index in range(30)]
    newest_first = [row.stripe_id for row in reversed(rows)]
    first = owner.get("/a/acme/connect/")
    assert accounts_on(first.content.decode()) == newest_first[:25]
    older = re.search(r'href="([^"]*after=[^"]+)"', first.content.decode()).group(1)
    second = owner.get(older.replace("&amp;", "&")).content.decode()
    assert accounts_on(second) == newest_first[25:]
    newer = re.search(r'href="([^"]*before=[^"]+)"', second).group(1)
    back = owner.get(newer.replace("&amp;", "&")).content.decode()
    assert accounts_on(back) == newest_first[:25]


def test_the_list_never_uses_offset_and_has_a_query_ceiling(owner, acme):
    for index in range(30):
        fake_account(acme, index)
    with CaptureQueriesContext(connection) as queries:
        assert owner.get("/a/acme/connect/?after=" + "x").status_code == 200
        assert owner.get("/a/acme/connect/").status_code == 200
    connect_sql = [q["sql"] for q in queries.captured_queries if "connect_" in q["sql"]]
    assert connect_sql and not any("OFFSET" in sql.upper() for sql in connect_sql)
    assert len(queries.captured_queries) < 60


def test_it_filters_by_country_type_and_search(owner, acme):
    rows = [fake_account(acme, index) for index in range(4)]
    german = owner.get("/a/acme/connect/?country=de").content.decode()
    assert sorted(accounts_on(german)) == sorted(r.stripe_id for r in rows if r.country == "DE")
    found = owner.get("/a/acme/connect/?q=seller2@").content.decode()
    assert accounts_on(found) == [rows[2].stripe_id]
    assert accounts_on(owner.get("/a/acme/connect/?type=custom").content.decode()) == []


def test_balance_and_volume_columns_come_from_the_accounts_own_transactions(
    owner, acme, seller, stripe
):
    from tests.payments.sandbox_support import webhooks_arrive

    stripe.v1.payment_intents.create(
        params={
            "amount": 10000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "payment_method_types": ["card"],
            "confirm": True,
            "transfer_data": {"destination": seller.stripe_id},
            "application_fee_amount": 1000,
        }
    )
    webhooks_arrive()
    page = owner.get("/a/acme/connect/").content.decode()
    row = page[page.index(f'data-account="{seller.stripe_id}"') :]
    row = row[: row.index("</tr>")]
    assert "$90.00" in row  # balance: 100.00 paid in, 10.00 fee taken
    assert "$100.00" in row  # volume
    assert "Application fees collected" in page and "$10.00" in page


def test_the_detail_shows_capabilities_balance_schedule_and_activity(owner, seller):
    page = owner.get(f"/a/acme/connect/accounts/{seller.stripe_id}/").content.decode()
    assert "Rocket Rides Co" in page and "payee" in page
    assert "card_payments" in page and "Active" in page
    assert "Nothing is due." in page
    assert "Daily" in page
    assert "No activity recorded." in page


def test_connected_on_is_the_accounts_created_date(owner, acme):
    row = fake_account(acme, 1)
    assert row.created == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    assert "Jan 1, 2026" in owner.get("/a/acme/connect/").content.decode()
    assert row.created - timedelta(minutes=1) == datetime(2026, 1, 1, tzinfo=UTC)


def test_an_authorized_standard_account_and_a_deauthorization_reach_the_mirror(owner, acme, stripe):
    from tests.payments.sandbox_support import webhooks_arrive

    standard = stripe.v1.accounts.create(params={"type": "standard", "email": "std@example.com"})
    express = stripe.v1.accounts.create(
        params={"type": "express", "capabilities": {"transfers": {"requested": True}}}
    )
    webhooks_arrive()
    with scope(account=acme):
        assert ConnectedAccount.objects.get(stripe_id=standard.id).type == "standard"
    stripe.v1.accounts.delete(express.id)
    webhooks_arrive()
    with scope(account=acme):
        assert ConnectedAccount.objects.get(stripe_id=express.id).deauthorized
    assert accounts_on(owner.get("/a/acme/connect/").content.decode()) == [standard.id]
