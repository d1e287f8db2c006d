"""Global search: the query parser, each kind's results, id jumps, tenant and mode scoping,
and providers hidden from roles that may not see them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django_scopes import scope

from billing import mirroring as billing_mirroring
from dashboard.roles import Role
from dashboard.search import ParsedQuery, parse_query, search, search_providers
from payments import mirroring
from payments.mirroring import Source
from payments.models import Charge
from tests.payments import stripe_objects as objects
from tests.payments.stripe_objects import T0

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 7, 15, 10, 0, tzinfo=UTC)  # a Wednesday


def parse(text: str, tz: str = "UTC") -> ParsedQuery:
    return parse_query(text, tz=tz, now=NOW)


# --- The parser -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("pi_3MtwBwLkdIwHu7ix28a3tqPa", "payment_intent"),
        ("ch_3MmlLrLkdIwHu7ix0snN0B15", "charge"),
        ("cus_NffrFeUfNV2Hib", "customer"),
        ("prod_NWjs8kKbJWmuuc", "product"),
        ("price_1MoBy5LkdIwHu7ixZhnattbh", "price"),
        ("po_1OaFDbEcg9tTZuTgNYmX0PKB", "payout"),
        ("dp_1MtJUT2eZvKYlo2CNaw2HvEv", "dispute"),
        ("du_1MtJUT2eZvKYlo2CNaw2HvEv", "dispute"),
        ("acct_1Nv0FGQ9RKHgCVdK", "account"),
        ("re_1Nispe2eZvKYlo2Cd31jOCgZ", "refund"),
        ("txn_1MiN3gLkdIwHu7ixxapQrznl", "balance_transaction"),
    ],
)
def test_it_recognises_pasted_stripe_ids(text, kind):
    query = parse(f"  {text} ")
    assert (query.stripe_id, query.id_kind) == (text, kind)


def test_an_unknown_prefix_is_just_words():
    query = parse("zz_123456")
    assert (query.stripe_id, query.words) == ("", "zz_123456")


def test_it_reads_an_email():
    query = parse("Jenny.Rosen@Example.com")
    assert query.email == "jenny.rosen@example.com"
    assert query.stripe_id == ""


def test_four_digits_are_a_last4_and_an_amount():
    query = parse("4242")
    assert query.last4 == "4242"
    assert query.minor_units("usd") == 424200


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("$25.00", "usd", 2500),
        ("$25", "usd", 2500),
        ("25", "usd", 2500),
        ("25", "jpy", 25),
        ("25", "kwd", 25000),
        ("25.5", "usd", 2550),
        ("25.5", "jpy", None),
        ("€10", "eur", 1000),
        ("€10", "usd", None),
        ("10 EUR", "eur", 1000),
        ("eur 10.50", "eur", 1050),
        ("¥2,500", "jpy", 2500),
        ("£1,234.56", "gbp", 123456),
        ("CA$5", "cad", 500),
    ],
)
def test_it_reads_amounts_in_each_currencys_minor_units(text, currency, minor):
    assert parse(text).minor_units(currency) == minor


def test_a_symbol_it_does_not_know_is_not_an_amount():
    assert parse("#25").amount is None
    assert parse("25 dollars").amount is None


def test_letters_run_into_digits_are_a_word_not_a_currency():
    query = parse("sku123")
    assert (query.amount, query.words) == (None, "sku123")


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-07-12", "2026-07-12", "2026-07-13"),
        ("today", "2026-07-15", "2026-07-16"),
        ("Yesterday", "2026-07-14", "2026-07-15"),
        ("last week", "2026-07-06", "2026-07-13"),
        ("last month", "2026-06-01", "2026-07-01"),
        ("this month", "2026-07-01", "2026-07-16"),
    ],
)
def test_it_reads_dates_as_whole_days(text, start, end):
    query = parse(text)
    assert query.created_from == datetime.fromisoformat(start).replace(tzinfo=ZoneInfo("UTC"))
    assert query.created_to == datetime.fromisoformat(end).replace(tzinfo=ZoneInfo("UTC"))


def test_days_are_the_accounts_days():
    query = parse("today", tz="America/Los_Angeles")
    assert query.created_from == datetime(2026, 7, 15, 7, 0, tzinfo=UTC)


def test_an_impossible_date_is_not_a_date():
    assert parse("2026-02-30").created_from is None


def test_anything_else_is_a_name():
    query = parse("Jenny  Rosen")
    assert (query.words, query.amount, query.stripe_id) == ("Jenny Rosen", None, "")


def test_an_amount_is_exact_and_decimal():
    assert parse("25.10").amount == Decimal("25.10")


# --- Results ----------------------------------------------------------------------------


def test_the_apps_register_their_kinds():
    kinds = {provider.kind for provider in search_providers()}
    assert {"payments", "customers", "payouts", "disputes", "products"} <= kinds


@pytest.fixture
def mirror(acme, globex):
    """A small live-mode mirror for acme, a test-mode payment, and globex's own payment."""
    live = Source(account=acme, livemode=True, time=NOW)
    with scope(account=acme):
        mirroring.store_customer(live, objects.customer("cus_jenny", email="jenny@example.com"))
        mirroring.store_charge(
            live,
            objects.charge(
                "ch_jenny",
                amount=2500,
                customer="cus_jenny",
                payment_intent="pi_jenny",
                payment_method_details={"type": "card", "card": {"brand": "visa", "last4": "4242"}},
            ),
        )
        mirroring.store_charge(
            live,
            objects.charge(
                "ch_yen",
                amount=2500,
                currency="jpy",
                created=60,
                payment_method_details={"type": "card", "card": {"brand": "jcb", "last4": "0005"}},
            ),
        )
        mirroring.store_refund(live, objects.refund("re_jenny", charge="ch_jenny"))
        mirroring.store_payout(live, objects.payout("po_weekly"))
        mirroring.store_balance_transaction(
            live, objects.balance_transaction("txn_payout", amount=-5000, source="po_weekly")
        )
        mirroring.store_dispute(live, objects.dispute("dp_jenny", charge="ch_jenny"))
        billing_mirroring.store_product(
            live,
            {"id": "prod_tee", "object": "product", "created": T0, "name": "Blue T-shirt"},
        )
        billing_mirroring.store_price(
            live,
            {
                "id": "price_tee",
                "object": "price",
                "created": T0,
                "product": "prod_tee",
                "unit_amount": 2500,
                "currency": "usd",
                "type": "one_time",
                "active": True,
            },
        )
        test_mode = Source(account=acme, livemode=False, time=NOW)
        mirroring.store_charge(test_mode, objects.charge("ch_testmode", amount=2500))
    with scope(account=globex):
        mirroring.store_charge(
            Source(account=globex, livemode=True, time=NOW),
            objects.charge("ch_globex", amount=2500),
        )


def found(account, text, role=Role.OWNER, livemode=True) -> dict[str, list[str]]:
    with scope(account=account):
        groups = search(account=account, livemode=livemode, role=role, query=parse(text))
    return {group.kind: [result.url for result in group.results] for group in groups}


def test_last4_finds_the_payment(mirror, acme):
    assert found(acme, "4242")["payments"] == ["/a/acme/payments/pi_jenny/"]


def test_an_amount_finds_payments_in_each_currency_and_products_by_price(mirror, acme):
    results = found(acme, "25")
    # 25 USD is 2500 cents; 25 JPY would be 25 yen, so the ¥2,500 charge is not "25".
    assert results["payments"] == ["/a/acme/payments/pi_jenny/"]
    assert results["products"] == ["/a/acme/products/prod_tee/"]
    assert found(acme, "¥2500")["payments"] == ["/a/acme/payments/ch_yen/"]


def test_an_email_finds_the_customer_and_their_payments(mirror, acme):
    results = found(acme, "jenny@example.com")
    assert results["customers"] == ["/a/acme/customers/cus_jenny/"]
    assert results["payments"] == ["/a/acme/payments/pi_jenny/"]
    assert results["disputes"] == ["/a/acme/disputes/dp_jenny/"]


def test_a_name_finds_products(mirror, acme):
    assert found(acme, "t-shirt") == {"products": ["/a/acme/products/prod_tee/"]}


def test_a_date_finds_what_was_created_that_day(mirror, acme):
    day = datetime.fromtimestamp(T0, tz=UTC).date().isoformat()
    results = found(acme, day)
    assert set(results["payments"]) == {"/a/acme/payments/pi_jenny/", "/a/acme/payments/ch_yen/"}
    assert results["payouts"] == ["/a/acme/balances/payouts/po_weekly/"]
    assert found(acme, "2001-01-01") == {}


@pytest.mark.parametrize(
    ("text", "kind", "url"),
    [
        ("pi_jenny", "payments", "/a/acme/payments/pi_jenny/"),
        ("re_jenny", "payments", "/a/acme/payments/pi_jenny/"),
        ("cus_jenny", "customers", "/a/acme/customers/cus_jenny/"),
        ("po_weekly", "payouts", "/a/acme/balances/payouts/po_weekly/"),
        ("txn_payout", "payouts", "/a/acme/balances/payouts/po_weekly/"),
        ("dp_jenny", "disputes", "/a/acme/disputes/dp_jenny/"),
        ("prod_tee", "products", "/a/acme/products/prod_tee/"),
        ("price_tee", "products", "/a/acme/products/prod_tee/"),
    ],
)
def test_an_id_finds_exactly_its_object(mirror, acme, text, kind, url):
    assert found(acme, text) == {kind: [url]}


def test_a_disputed_payments_id_jumps_to_the_payment_not_the_dispute(mirror, acme):
    # The payment page shows its dispute; one match means the box can jump straight there.
    assert found(acme, "ch_jenny") == {"payments": ["/a/acme/payments/pi_jenny/"]}


def test_search_stays_in_the_tenant_and_the_mode(mirror, acme, globex):
    assert found(acme, "ch_globex") == {}
    assert found(acme, "ch_testmode") == {}
    assert found(acme, "ch_testmode", livemode=False) == {
        "payments": ["/a/acme/payments/ch_testmode/"]
    }
    assert found(globex, "25") == {"payments": ["/a/globex/payments/ch_globex/"]}


def test_a_kind_the_role_may_not_see_is_not_searched(mirror, acme):
    # Support specialists do not see balances, so payouts stay hidden from them.
    assert found(acme, "po_weekly", role=Role.SUPPORT) == {}
    assert found(acme, "po_weekly", role=Role.ANALYST) == {
        "payouts": ["/a/acme/balances/payouts/po_weekly/"]
    }


# --- The page ---------------------------------------------------------------------------


def test_a_pasted_id_jumps_to_the_object(mirror, owner):
    response = owner.get("/a/acme/search/", {"q": "dp_jenny"})
    assert response.status_code == 302
    assert response.url == "/a/acme/disputes/dp_jenny/"


def test_a_pasted_id_shows_the_match_in_the_live_dropdown_without_jumping(mirror, owner):
    response = owner.get("/a/acme/search/", {"q": "dp_jenny"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'href="/a/acme/disputes/dp_jenny/"' in response.text
    assert "<html" not in response.text


def test_the_results_page_groups_by_kind(mirror, owner):
    response = owner.get("/a/acme/search/", {"q": "jenny@example.com"})
    assert response.status_code == 200
    for testid in ("search-group-customers", "search-group-payments", "search-group-disputes"):
        assert f'data-testid="{testid}"' in response.text
    assert "search-group-products" not in response.text


def test_an_id_of_another_tenant_finds_nothing(mirror, owner):
    response = owner.get("/a/acme/search/", {"q": "ch_globex"})
    assert response.status_code == 200
    assert "No results" in response.text


def test_the_header_box_searches_live(owner):
    response = owner.get("/a/acme/")
    assert 'action="/a/acme/search/"' in response.text
    assert 'hx-get="/a/acme/search/"' in response.text
    assert 'hx-trigger="input changed delay:200ms, search"' in response.text


def test_the_results_page_needs_a_bounded_number_of_queries(
    mirror, owner, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20):
        response = owner.get("/a/acme/search/", {"q": "25"})
    assert response.status_code == 200


def test_no_charge_row_is_needed_to_load_the_page(owner, acme):
    with scope(account=acme):
        assert not Charge.objects.exists()
    assert owner.get("/a/acme/search/", {"q": "anything"}).status_code == 200
