"""Balances pages: funds per currency, payouts, top-ups, history; actions through the sandbox."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django_scopes import scope

from dashboard.models import AuditLog
from dashboard.roles import Role
from payments import services
from payments.models import BalanceTransaction, Payout, TopUp
from payments.selectors_balances import balance_summary
from sandbox import services as sandbox_services
from tests.payments.sandbox_support import webhooks_arrive
from tests.reporting import mirror_rows as rows

pytestmark = pytest.mark.django_db

TODAY = datetime.now(UTC).date()


def listed_ids(response) -> list[str]:
    return re.findall(r'<tr data-id="([a-z]+_[A-Za-z0-9]+)"', response.content.decode())


def text_of(response, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">([^<]*)<', response.content.decode())
    assert match, testid
    return match.group(1)


# --- Read-only figures over mirror rows -------------------------------------------------


def test_balances_per_currency_are_the_sum_of_net_per_status(owner, acme):
    rows.balance_transaction(acme, TODAY, 10000, fee=320)
    rows.balance_transaction(acme, TODAY, -4000, type="payout")
    rows.balance_transaction(acme, TODAY, 5000, fee=175, status="pending")
    rows.balance_transaction(acme, TODAY, 20000, fee=600, currency="eur", status="pending")
    rows.balance_transaction(acme, TODAY, 99999, livemode=False)
    response = owner.get("/a/acme/balances/")
    with scope(account=acme):
        live = BalanceTransaction.objects.filter(livemode=True)
        usd_available = sum(t.net for t in live.filter(currency="usd", status="available"))
        eur_pending = sum(t.net for t in live.filter(currency="eur", status="pending"))
    assert (usd_available, eur_pending) == (5680, 19400)
    assert text_of(response, "available-usd") == "$56.80"
    assert text_of(response, "pending-usd") == "$48.25"
    assert text_of(response, "available-eur") == "€0.00"
    assert text_of(response, "pending-eur") == "€194.00"


def test_a_new_account_shows_honest_empty_states(owner):
    response = owner.get("/a/acme/balances/")
    assert response.status_code == 200
    assert b"No funds yet" in response.content and b"No payouts yet" in response.content


def test_upcoming_and_past_payouts_show_status_and_arrival(owner, acme):
    arrival = datetime(2026, 12, 3, tzinfo=UTC)
    upcoming = rows.payout(acme, TODAY, 7000, status="in_transit", arrival_date=arrival)
    paid = rows.payout(acme, TODAY - timedelta(days=5), 3000, status="paid")
    response = owner.get("/a/acme/balances/")
    text = response.content.decode()
    upcoming_table = text[text.index('data-testid="upcoming-payouts"') :]
    upcoming_table = upcoming_table[: upcoming_table.index("</table>")]
    assert upcoming.stripe_id in upcoming_table and paid.stripe_id not in upcoming_table
    assert "Dec 3, 2026" in upcoming_table and "in_transit" in upcoming_table


def test_history_filters_by_type(owner, acme):
    charge = rows.balance_transaction(acme, TODAY, 1000)
    refund = rows.balance_transaction(acme, TODAY, -400, type="refund")
    rows.balance_transaction(acme, TODAY, -600, type="payout")
    assert listed_ids(owner.get("/a/acme/balances/history/?type=refund")) == [refund.stripe_id]
    assert set(listed_ids(owner.get("/a/acme/balances/history/"))) >= {
        charge.stripe_id,
        refund.stripe_id,
    }
    assert owner.get("/a/acme/balances/history/?type=bogus").status_code == 200


def test_payouts_filter_by_status(owner, acme):
    failed = rows.payout(acme, TODAY, 500, status="failed", failure_code="account_closed")
    rows.payout(acme, TODAY, 900, status="paid")
    assert listed_ids(owner.get("/a/acme/balances/payouts/?status=failed")) == [failed.stripe_id]


def walk(client, url: str) -> list[str]:
    """Follow "Older →" from the first page to the last, as a reader would."""
    seen, page, pages = [], client.get(url), 0
    while True:
        pages += 1
        seen += listed_ids(page)
        cursor = page.context["page"].next_cursor
        if cursor is None:
            return seen
        assert pages < 20
        joiner = "&" if "?" in url else "?"
        page = client.get(f"{url}{joiner}after={cursor}")


def test_history_pages_without_gaps_or_repeats(owner, acme):
    # Several rows share one second (Stripe's `created` resolution): the id breaks ties.
    made = []
    for index in range(60):
        created = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(seconds=index // 3)
        kind = "refund" if index % 4 == 0 else "charge"
        made.append(rows.balance_transaction(acme, TODAY, 100 + index, created=created, type=kind))
    everything = walk(owner, "/a/acme/balances/history/")
    assert len(everything) == len(set(everything)) == 60
    assert set(everything) == {txn.stripe_id for txn in made}
    refunds = walk(owner, "/a/acme/balances/history/?type=refund")
    assert sorted(refunds) == sorted(t.stripe_id for t in made if t.type == "refund")
    assert len(refunds) == len(set(refunds)) == 15


def test_payouts_page_without_gaps_or_repeats(owner, acme):
    made = [rows.payout(acme, TODAY - timedelta(days=i % 10), 100 + i) for i in range(30)]
    seen = walk(owner, "/a/acme/balances/payouts/")
    assert sorted(seen) == sorted(p.stripe_id for p in made)


def test_a_stale_cursor_falls_back_to_the_first_page(owner, acme):
    txn = rows.balance_transaction(acme, TODAY, 1000)
    response = owner.get("/a/acme/balances/history/?after=not-a-cursor")
    assert response.status_code == 200 and listed_ids(response) == [txn.stripe_id]


def test_htmx_gets_only_the_table(owner, acme):
    rows.balance_transaction(acme, TODAY, 1000)
    response = owner.get("/a/acme/balances/history/", HTTP_HX_REQUEST="true")
    assert response.content.lstrip().startswith(b'<section id="table"')


@pytest.mark.parametrize(
    "url,ceiling",
    [
        ("/a/acme/balances/", 18),
        ("/a/acme/balances/history/", 14),
        ("/a/acme/balances/payouts/", 14),
        ("/a/acme/balances/topups/", 14),
    ],
)
def test_pages_stay_under_a_query_ceiling(owner, acme, url, ceiling, django_assert_max_num_queries):
    for index in range(40):
        rows.balance_transaction(acme, TODAY, 100 + index, currency=("usd", "eur")[index % 2])
        rows.payout(acme, TODAY, 100 + index, status=("paid", "pending")[index % 2])
        rows.topup(acme, TODAY, 100 + index)
    owner.get(url)
    with django_assert_max_num_queries(ceiling):
        assert owner.get(url).status_code == 200


def test_payout_detail_stays_under_a_query_ceiling(owner, acme, django_assert_max_num_queries):
    payout = rows.payout(acme, TODAY, 5000)
    for index in range(30):
        rows.balance_transaction(acme, TODAY, 100 + index, payout_stripe_id=payout.stripe_id)
    url = f"/a/acme/balances/payouts/{payout.stripe_id}/"
    owner.get(url)
    with django_assert_max_num_queries(14):
        response = owner.get(url)
    assert len(listed_ids(response)) == 30


def test_another_accounts_payout_is_a_404(outsider, acme, globex):
    payout = rows.payout(acme, TODAY, 5000)
    assert outsider.get(f"/a/globex/balances/payouts/{payout.stripe_id}/").status_code == 404


# --- Actions through the sandbox --------------------------------------------------------


@pytest.fixture
def sandbox_token(connected):
    return connected.secret_key(livemode=False).removeprefix("sk_test_sbx_")


def pay(acme, owner_user, amount: int):
    customer = services.customer_create(
        account=acme, livemode=False, email="payer@example.com", actor=owner_user
    )
    services.payment_method_attach(
        account=acme,
        livemode=False,
        customer=customer,
        payment_method="pm_card_visa",
        make_default=True,
        actor=owner_user,
    )
    return services.payment_charge_saved_card(
        account=acme,
        livemode=False,
        customer=customer,
        amount=amount,
        currency="usd",
        actor=owner_user,
    )


def advance(token: str, days: float) -> None:
    account = sandbox_services.resolve_account(token)
    from sandbox import clock

    sandbox_services.clock_advance(
        token_or_account=account, to=clock.now(account) + timedelta(days=days)
    )
    webhooks_arrive()


@pytest.fixture
def funded(acme, owner_user, owner, sandbox_token):
    """$96.80 available in test mode (a $100 payment less its fee), automatic payouts off,
    and the owner looking at test mode."""
    sandbox_services.automatic_payouts_set(token_or_account=sandbox_token, enabled=False)
    pay(acme, owner_user, 10_000)
    webhooks_arrive()
    advance(sandbox_token, 3)
    owner.post("/a/acme/mode/", {"test_mode": "1"})
    with scope(account=acme):
        assert balance_summary(account=acme, livemode=False)[0].available == 9680
    return sandbox_token


def available(acme) -> int:
    with scope(account=acme):
        return balance_summary(account=acme, livemode=False)[0].available


def test_the_owner_pays_out_funds(owner, acme, funded):
    form = owner.get("/a/acme/balances/payouts/new/")
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form.content.decode()).group(1)
    data = {"amount": "30.00", "currency": "usd", "description": "Rent", "idempotency_key": key}
    response = owner.post("/a/acme/balances/payouts/new/", data)
    with scope(account=acme):
        payout = Payout.objects.get()
        assert (payout.amount, payout.status, payout.automatic) == (3000, "pending", False)
        assert AuditLog.objects.filter(action="payout.created", object_id=payout.stripe_id).exists()
    assert response.status_code == 302
    assert response.url == f"/a/acme/balances/payouts/{payout.stripe_id}/"
    # Write-through: the balance moves before any webhook arrives.
    assert available(acme) == 6680
    # A double submit of the same form makes no second payout.
    owner.post("/a/acme/balances/payouts/new/", data)
    with scope(account=acme):
        assert Payout.objects.count() == 1
    detail = owner.get(response.url)
    assert text_of(detail, "payout-status") == "pending"
    assert b"Cancel payout" in detail.content


def test_stripe_refusing_a_payout_shows_why_and_changes_nothing(owner, acme, funded):
    response = owner.post("/a/acme/balances/payouts/new/", {"amount": "500", "currency": "usd"})
    assert response.status_code == 400
    assert b"insufficient funds" in response.content
    with scope(account=acme):
        assert not Payout.objects.exists()
        assert not AuditLog.objects.filter(action="payout.created").exists()
    assert available(acme) == 9680


def test_a_bad_amount_is_refused_before_stripe(owner, acme, funded):
    response = owner.post("/a/acme/balances/payouts/new/", {"amount": "1.234", "currency": "usd"})
    assert response.status_code == 400 and b"like 25 or 25.00" in response.content


@pytest.mark.parametrize("role", [Role.VIEW_ONLY, Role.ANALYST, Role.DEVELOPER, Role.SUPPORT])
def test_only_owners_and_administrators_pay_out(member_client, acme, funded, role):
    client = member_client(role)
    assert client.get("/a/acme/balances/payouts/new/").status_code == 403
    response = client.post("/a/acme/balances/payouts/new/", {"amount": "10", "currency": "usd"})
    assert response.status_code == 403
    with scope(account=acme):
        assert not Payout.objects.exists()
    assert available(acme) == 9680


def test_an_administrator_pays_out(member_client, acme, funded):
    admin = member_client(Role.ADMINISTRATOR)
    admin.post("/a/acme/mode/", {"test_mode": "1"})
    response = admin.post("/a/acme/balances/payouts/new/", {"amount": "10", "currency": "usd"})
    assert response.status_code == 302
    with scope(account=acme):
        assert Payout.objects.get().amount == 1000


def test_the_owner_cancels_a_pending_payout(owner, viewer, acme, owner_user, funded):
    owner.post("/a/acme/balances/payouts/new/", {"amount": "40", "currency": "usd"})
    with scope(account=acme):
        payout = Payout.objects.get()
    url = f"/a/acme/balances/payouts/{payout.stripe_id}/cancel/"
    assert viewer.post(url).status_code == 403
    payout.refresh_from_db()
    assert payout.status == "pending"

    response = owner.post(url)
    assert response.status_code == 302
    payout.refresh_from_db()
    assert payout.status == "canceled"
    assert available(acme) == 9680
    with scope(account=acme):
        assert AuditLog.objects.filter(action="payout.canceled").count() == 1
    # Stripe refuses a second cancel; the page says so and nothing changes.
    again = owner.post(url, follow=True)
    assert b"Stripe refused to cancel the payout" in again.content
    assert b"only be canceled while they are pending" in again.content
    with scope(account=acme):
        assert AuditLog.objects.filter(action="payout.canceled").count() == 1


def test_the_owner_adds_funds_with_a_top_up(owner, viewer, acme, funded):
    assert (
        viewer.post("/a/acme/balances/topups/new/", {"amount": "5", "currency": "usd"}).status_code
        == 403
    )
    response = owner.post("/a/acme/balances/topups/new/", {"amount": "25", "currency": "usd"})
    assert response.status_code == 302 and response.url == "/a/acme/balances/topups/"
    with scope(account=acme):
        topup = TopUp.objects.get()
        assert (topup.amount, topup.status) == (2500, "succeeded")
        assert balance_summary(account=acme, livemode=False)[0].pending == 2500
    assert topup.stripe_id in listed_ids(owner.get("/a/acme/balances/topups/"))


def test_an_automatic_payout_lists_exactly_the_transactions_it_settled(
    owner, acme, owner_user, stripe, sandbox_token
):
    pay(acme, owner_user, 10_000)
    pay(acme, owner_user, 2_500)
    webhooks_arrive()
    advance(sandbox_token, 3)  # funds available; the daily automatic payout sweeps them
    pay(acme, owner_user, 700)  # after the sweep: not in this payout
    webhooks_arrive()
    advance(sandbox_token, 3)  # the payout arrives: payout.paid
    owner.post("/a/acme/mode/", {"test_mode": "1"})
    with scope(account=acme):
        # The next day's payout sweeps the late payment; the first one is paid by now.
        payout = Payout.objects.filter(automatic=True).order_by("created", "id").first()
    assert payout.status == "paid"
    at_stripe = {
        txn.id for txn in stripe.v1.balance_transactions.list(params={"payout": payout.stripe_id})
    }
    response = owner.get(f"/a/acme/balances/payouts/{payout.stripe_id}/")
    assert set(listed_ids(response)) == at_stripe
    assert len(at_stripe) == 3  # two payments and the payout itself
    with scope(account=acme):
        late = BalanceTransaction.objects.get(amount=700)
    assert late.stripe_id not in listed_ids(response)
