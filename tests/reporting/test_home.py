"""The Home page: figures from the daily rollups, periods, modes and the saved layout."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from dashboard.models import HomeLayout
from dashboard.money import format_money
from dashboard.roles import Role
from dashboard.widgets import account_today
from payments.models import BalanceTransaction, Charge
from tests.reporting import mirror_rows as rows

pytestmark = pytest.mark.django_db


def figure(response, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">([^<]*)<', response.content.decode())
    assert match, f"no figure {testid}"
    return match.group(1)


def widget_html(response, key: str) -> str:
    text = response.content.decode()
    start = text.index(f'data-widget="{key}"')
    return text[start : text.index("</section>", start)]


def widget_order(response) -> list[str]:
    return re.findall(
        r'<section class="card widget" data-widget="([a-z_]+)"', response.content.decode()
    )


@pytest.fixture
def today(acme):
    return account_today(acme)


@pytest.fixture
def history(acme, today):
    """Payments on four days: two in the last 7 days, one in the 7 days before, one older."""
    made = []
    for days_ago, amount, fee in [(0, 5000, 175), (3, 2500, 103), (9, 4000, 146), (20, 9900, 317)]:
        day = today - timedelta(days=days_ago)
        charge = rows.charge(acme, day, amount)
        txn = rows.balance_transaction(
            acme, day, amount, fee=fee, source_stripe_id=charge.stripe_id
        )
        made += [charge, txn]
    made.append(rows.charge(acme, today - timedelta(days=1), 1200, status="failed"))
    made.append(rows.customer(acme, today - timedelta(days=2), email="new@example.com"))
    return rows.rolled_up(acme, *made)


def in_days(queryset, acme, start, end):
    with scope(account=acme):
        return [
            row
            for row in queryset
            if start
            <= timezone.localtime(row.created, timezone.get_fixed_timezone(0)).date()
            <= end
        ]


def test_the_figures_are_the_sums_over_the_mirror_for_the_range(owner, acme, today, history):
    response = owner.get("/a/acme/?range=7d")
    start = today - timedelta(days=6)
    with scope(account=acme):
        charges = in_days(Charge.objects.filter(status="succeeded"), acme, start, today)
        transactions = in_days(BalanceTransaction.objects.all(), acme, start, today)
    gross = sum(charge.amount_captured for charge in charges)
    net = sum(txn.net for txn in transactions)
    assert gross == 7500 and net == 7500 - 175 - 103
    assert figure(response, "gross_volume-usd") == format_money(gross, "usd")
    assert figure(response, "net_volume-usd") == format_money(net, "usd")
    assert figure(response, "successful_payments") == "2"
    assert figure(response, "failed_payments") == "1"
    assert figure(response, "new_customers") == "1"
    assert b"No activity yet" not in response.content


def test_a_longer_range_takes_in_older_days(owner, history):
    response = owner.get("/a/acme/?range=4w")
    assert figure(response, "gross_volume-usd") == "$214.00"
    assert figure(response, "successful_payments") == "4"


def test_it_compares_with_the_previous_period_of_equal_length(owner, history):
    response = owner.get("/a/acme/?range=7d")
    gross = widget_html(response, "gross_volume")
    # 75.00 now against 40.00 in the 7 days before: +87.5 %.
    assert '<span class="change up">+87.5%</span>' in gross
    assert "$40.00 previous period" in gross
    payments = widget_html(response, "successful_payments")
    assert '<span class="change up">+100.0%</span>' in payments


def test_a_previous_period_of_zero_shows_a_dash_not_a_percentage(owner, history):
    failed = widget_html(owner.get("/a/acme/?range=7d"), "failed_payments")
    assert 'class="change none"' in failed and "—" in failed
    assert "%" not in failed


def test_a_custom_range_uses_its_from_and_to(owner, today, history):
    day = (today - timedelta(days=9)).isoformat()
    response = owner.get(f"/a/acme/?range=custom&from={day}&to={day}")
    assert figure(response, "gross_volume-usd") == "$40.00"
    assert figure(response, "successful_payments") == "1"


def test_test_data_never_counts_in_live_figures(owner, acme, today, history):
    rows.rolled_up(acme, rows.charge(acme, today, 70000, livemode=False))
    assert figure(owner.get("/a/acme/?range=7d"), "gross_volume-usd") == "$75.00"
    owner.post("/a/acme/mode/", {"test_mode": "1"})
    test_mode = owner.get("/a/acme/?range=7d")
    assert figure(test_mode, "gross_volume-usd") == "$700.00"
    assert figure(test_mode, "successful_payments") == "1"


def test_a_new_account_says_there_is_nothing_yet(owner):
    response = owner.get("/a/acme/")
    assert b"No activity yet" in response.content
    assert figure(response, "gross_volume-usd") == "$0.00"


def test_the_charts_data_is_embedded_per_day(owner, today, history):
    response = owner.get("/a/acme/?range=7d")
    assert response.context["period"].days == 7
    text = response.content.decode()
    data = re.search(
        r'<script id="chart-data-gross_volume" type="application/json">(.*?)</script>', text
    )
    assert data and '"values": [0, 0, 0, 2500, 0, 0, 5000]' in data.group(1)


def test_other_currencies_show_as_their_own_figures(owner, acme, today, history):
    rows.rolled_up(acme, rows.charge(acme, today, 300000, currency="jpy"))
    response = owner.get("/a/acme/?range=7d")
    assert figure(response, "gross_volume-usd") == "$75.00"
    assert figure(response, "gross_volume-jpy") == "¥300,000"


def test_disputes_needing_response_list_their_deadlines(owner, acme, today):
    due = timezone.now() + timedelta(days=2)
    rows.dispute(acme, today, 2500, evidence_due_by=due, reason="fraudulent")
    rows.dispute(acme, today, 900, status="won")
    widget = widget_html(owner.get("/a/acme/"), "disputes_needing_response")
    assert "$25.00" in widget and "fraudulent" in widget
    assert due.strftime("%b %-d, %Y") in widget
    assert "$9.00" not in widget


def test_top_customers_are_ranked_by_spend(owner, acme, today):
    big, small = rows.customer(acme, today, name="Big Spender"), rows.customer(acme, today)
    rows.charge(acme, today, 9000, customer=big, customer_stripe_id=big.stripe_id)
    rows.charge(acme, today, 1000, customer=small, customer_stripe_id=small.stripe_id)
    widget = widget_html(owner.get("/a/acme/?range=today"), "top_customers")
    assert widget.index("Big Spender") < widget.index(small.stripe_id)
    assert "$90.00" in widget


def test_current_balances_are_the_sum_of_net_per_status(owner, acme, today):
    rows.balance_transaction(acme, today, 10000, fee=320, status="available")
    rows.balance_transaction(acme, today, 5000, fee=175, status="pending")
    rows.balance_transaction(acme, today, -2000, type="payout", status="available")
    widget = widget_html(owner.get("/a/acme/"), "balances")
    assert '<td class="amount">$76.80</td><td class="amount">$48.25</td>' in widget


def test_the_viewer_sees_home(viewer, history):
    response = viewer.get("/a/acme/?range=7d")
    assert response.status_code == 200
    assert figure(response, "gross_volume-usd") == "$75.00"


def test_a_support_specialist_has_no_balances_widget(member_client, history):
    response = member_client(Role.SUPPORT).get("/a/acme/")
    assert response.status_code == 200
    assert "balances" not in widget_order(response)
    assert "gross_volume" in widget_order(response)


# --- Edit overview ----------------------------------------------------------------------


DEFAULT = [
    "gross_volume",
    "net_volume",
    "successful_payments",
    "new_customers",
    "failed_payments",
    "disputes_needing_response",
    "top_customers",
    "balances",
]


def test_home_shows_every_widget_in_default_order(owner):
    assert widget_order(owner.get("/a/acme/")) == DEFAULT


def test_the_editor_moves_and_removes_on_a_draft_without_saving(owner, owner_user, acme):
    draft = "&".join(f"w={key}" for key in DEFAULT)
    moved = owner.get(f"/a/acme/home/edit/?draft=1&{draft}&up=net_volume")
    keys = re.findall(r'<li data-widget="([a-z_]+)"', moved.content.decode())
    assert keys[:2] == ["net_volume", "gross_volume"]
    removed = owner.get(f"/a/acme/home/edit/?draft=1&{draft}&remove=balances")
    assert "balances" not in re.findall(r'<li data-widget="([a-z_]+)"', removed.content.decode())
    assert b'<option value="balances">Balances</option>' in removed.content
    with scope(account=acme):
        assert not HomeLayout.objects.exists()


def test_apply_saves_the_order_for_this_user_only(owner, viewer, owner_user, acme):
    chosen = ["balances", "gross_volume", "top_customers"]
    response = owner.post("/a/acme/home/layout/", {"w": chosen})
    assert response.status_code == 302 and response.url == "/a/acme/"
    assert widget_order(owner.get("/a/acme/")) == chosen
    assert widget_order(viewer.get("/a/acme/"))[:2] == ["gross_volume", "net_volume"]
    with scope(account=acme):
        assert HomeLayout.objects.get(user=owner_user).widgets == chosen


def test_apply_ignores_unknown_and_forbidden_widgets(member_client, acme):
    support = member_client(Role.SUPPORT)
    support.post("/a/acme/home/layout/", {"w": ["balances", "nonsense", "net_volume"]})
    assert widget_order(support.get("/a/acme/")) == ["net_volume"]


def test_removing_every_widget_is_saved_as_an_empty_overview(owner):
    owner.post("/a/acme/home/layout/", {})
    response = owner.get("/a/acme/")
    assert widget_order(response) == []
    assert b"Your overview is empty" in response.content


def test_htmx_gets_the_editor_partial_and_a_redirect_on_apply(owner):
    partial = owner.get(
        "/a/acme/home/edit/?draft=1&w=net_volume&add=balances", HTTP_HX_REQUEST="true"
    )
    assert partial.content.lstrip().startswith(b'<div id="overview-editor"')
    assert b'data-widget="balances"' in partial.content
    applied = owner.post("/a/acme/home/layout/", {"w": ["net_volume"]}, HTTP_HX_REQUEST="true")
    assert applied.headers["HX-Redirect"] == "/a/acme/"


def test_htmx_range_change_returns_only_the_overview(owner, history):
    response = owner.get("/a/acme/?range=4w", HTTP_HX_REQUEST="true")
    assert response.content.lstrip().startswith(b'<section id="overview"')
    assert figure(response, "successful_payments") == "4"


def test_home_stays_under_a_query_ceiling(
    owner, acme, today, history, django_assert_max_num_queries
):
    for index in range(30):
        day = today - timedelta(days=index % 28)
        rows.rolled_up(
            acme, rows.charge(acme, day, 100 + index, currency=("usd", "eur")[index % 2])
        )
    owner.get("/a/acme/")
    # The shell (session, user, account, membership, shortcuts, recent pages) takes 12 of
    # these; the widgets take one each at most, whatever the number of rows.
    with django_assert_max_num_queries(19):
        response = owner.get("/a/acme/?range=12m")
    assert response.status_code == 200
