"""The Express dashboard's pages: balance, earnings chart, requirements banner, activity,
payouts, transactions worded by the platform, payments (buyer shown only where Stripe
shows it), and the features the platform switches on or off."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_scopes import scope

from connect import services
from connect.models import ConnectedAccount
from payments.models import Payout
from sandbox import services as sandbox_services
from tests.connect.conftest import express_url, open_login_link
from tests.connect.test_money import advance, destination_charge
from tests.payments.sandbox_support import webhooks_arrive

pytestmark = pytest.mark.django_db


def features(acme, **values):
    defaults = {
        "payout_schedule_enabled": False,
        "manual_payouts_enabled": False,
        "refunds_enabled": False,
        "disputes_enabled": False,
        "payment_description": "Payment from {platform}",
        "transfer_description": "Transfer from {platform}",
        "payout_description": "Payout to your bank account",
    }
    services.express_settings_update(account=acme, actor=None, values={**defaults, **values})


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def express_client(acme, connected_account) -> Client:
    client = Client()
    assert open_login_link(client, acme, connected_account).status_code == 302
    return client


def test_home_shows_the_balance_chart_and_activity(express_user, acme, seller, stripe):
    destination_charge(stripe, seller, amount=10000, fee=1000)
    webhooks_arrive()
    page = text(express_user.get(express_url(seller)))
    assert "Acme Platform" in page and "Rocket Rides Co" in page
    assert "Total balance (USD)" in page and "$90.00" in page
    assert "Available soon" in page and "On the way to your bank" in page
    assert 'data-testid="earnings-chart"' in page and "Net volume per day" in page
    # Today's bar (the last) is the net of the payment and the platform's fee.
    assert re.search(r'"values": \[[0-9, ]*9000\]', page)
    assert "Next payout" in page
    assert 'data-testid="requirements-banner"' not in page


def test_the_chart_switches_interval_without_javascript_and_with_htmx(express_user, seller):
    weekly = text(express_user.get(express_url(seller, "?interval=week")))
    assert "Net volume per week" in weekly
    partial = text(express_user.get(express_url(seller, "?interval=month"), HTTP_HX_REQUEST="true"))
    assert "Net volume per month" in partial and "<html" not in partial


def test_the_banner_lists_whats_due_and_the_deadline(acme, make_account):
    soon = make_account("restricted_soon", email="soon@example.com")
    page = text(express_client(acme, soon).get(express_url(soon)))
    assert 'data-testid="requirements-banner"' in page
    assert "business_profile.mcc" in page and "needs more information by" in page


def test_payouts_transactions_and_wording_set_by_the_platform(
    acme, seller, stripe, sandbox_key, express_user
):
    features(acme, payment_description="Sale through {platform}")
    destination_charge(stripe, seller, amount=10000, fee=1000)
    advance(sandbox_key, days=3)
    webhooks_arrive()
    transactions = text(express_user.get(express_url(seller, "transactions/")))
    assert "Sale through Acme Platform" in transactions
    assert "Payout to your bank account" in transactions
    assert "Acme Platform fee" in transactions
    payouts = text(express_user.get(express_url(seller, "payouts/")))
    with scope(account=acme):
        payout = Payout.objects.get(stripe_account=seller.stripe_id)
    assert "$90.00" in payouts and payout.status.title() in payouts
    home = text(express_user.get(express_url(seller)))
    assert "Upcoming payout" in home


def test_a_payment_on_behalf_of_the_seller_shows_the_card(acme, seller, stripe, express_user):
    destination_charge(stripe, seller, amount=3000, fee=300, on_behalf_of=seller.stripe_id)
    webhooks_arrive()
    listing = text(express_user.get(express_url(seller, "payments/")))
    assert "•••• 4242" in listing
    payment_id = stripe.v1.transfers.list().data[0].destination_payment
    detail = text(express_user.get(express_url(seller, f"payments/{payment_id}/")))
    assert 'data-testid="card"' in detail and "4242" in detail


def test_a_plain_destination_charge_keeps_the_buyer_hidden(acme, seller, stripe, express_user):
    destination_charge(stripe, seller, amount=3000, fee=300)
    webhooks_arrive()
    assert "4242" not in text(express_user.get(express_url(seller, "payments/")))
    payment_id = stripe.v1.transfers.list().data[0].destination_payment
    detail = text(express_user.get(express_url(seller, f"payments/{payment_id}/")))
    assert 'data-testid="buyer-hidden"' in detail and "4242" not in detail


def test_a_payment_of_another_account_is_a_404(acme, seller, stripe, express_user, make_account):
    other = make_account("enabled", email="other@example.com")
    destination_charge(stripe, other, amount=3000, fee=300)
    webhooks_arrive()
    payment_id = stripe.v1.transfers.list().data[0].destination_payment
    assert express_user.get(express_url(seller, f"payments/{payment_id}/")).status_code == 404


def test_features_switched_off_are_absent_and_refused(acme, seller, express_user):
    features(acme)
    payouts = text(express_user.get(express_url(seller, "payouts/")))
    assert 'data-testid="schedule-form"' not in payouts
    assert 'data-testid="manual-payout"' not in payouts
    home = text(express_user.get(express_url(seller)))
    assert "Refunds" not in home and "disputes" not in home
    assert express_user.get(express_url(seller, "refunds/")).status_code == 404
    schedule = express_user.post(express_url(seller, "payouts/schedule/"), {"interval": "manual"})
    assert schedule.status_code == 404
    payout = express_user.post(express_url(seller, "payouts/new/"), {"amount": "1.00"})
    assert payout.status_code == 404
    seller.refresh_from_db()
    assert seller.payout_interval == "daily"
    with scope(account=acme):
        assert not Payout.objects.exists()


def test_the_seller_changes_the_schedule_when_the_platform_allows(acme, seller, express_user):
    features(acme, payout_schedule_enabled=True)
    assert 'data-testid="schedule-form"' in text(express_user.get(express_url(seller, "payouts/")))
    response = express_user.post(
        express_url(seller, "payouts/schedule/"), {"interval": "monthly", "monthly_anchor": "15"}
    )
    assert response.status_code == 302
    seller.refresh_from_db()
    assert seller.payout_interval == "monthly" and seller.payout_schedule["monthly_anchor"] == 15
    assert "Payout schedule changed" in text(express_user.get(express_url(seller)))


def test_the_seller_pays_out_manually_when_the_platform_allows(
    acme, seller, stripe, sandbox_key, express_user
):
    features(acme, manual_payouts_enabled=True)
    stripe.v1.accounts.update(
        seller.stripe_id, params={"settings": {"payouts": {"schedule": {"interval": "manual"}}}}
    )
    destination_charge(stripe, seller, amount=10000, fee=1000)
    advance(sandbox_key, days=3)
    webhooks_arrive()
    response = express_user.post(express_url(seller, "payouts/new/"), {"amount": "40.00"})
    assert response.status_code == 302
    with scope(account=acme):
        payout = Payout.objects.get(stripe_account=seller.stripe_id)
    assert (payout.amount, payout.automatic) == (4000, False)
    too_much = express_user.post(
        express_url(seller, "payouts/new/"), {"amount": "100.00"}, follow=True
    )
    assert "insufficient funds" in too_much.content.decode()


def test_refunds_and_disputes_appear_when_enabled(acme, seller, express_user):
    features(acme, refunds_enabled=True, disputes_enabled=True)
    home = text(express_user.get(express_url(seller)))
    assert "Refunds and disputes" in home
    page = text(express_user.get(express_url(seller, "refunds/")))
    assert "No refunds." in page and "No disputes." in page


def test_direct_charge_refunds_show_in_the_activity_when_enabled(
    acme, seller, stripe, express_user
):
    features(acme, refunds_enabled=True)
    options = {"stripe_account": seller.stripe_id}
    intent = stripe.v1.payment_intents.create(
        params={"amount": 2000, "currency": "usd", "payment_method": "pm_card_visa",
                "payment_method_types": ["card"], "confirm": True},
        options=options,
    )  # fmt: skip
    stripe.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500}, options=options)
    webhooks_arrive()
    home = text(express_user.get(express_url(seller)))
    assert "Refund: -$5.00" in home
    assert "$5.00" in text(express_user.get(express_url(seller, "refunds/")))
    features(acme)
    assert "Refund: -$5.00" not in text(express_user.get(express_url(seller)))


def test_the_dashboard_carries_the_platforms_branding(acme, seller, express_user):
    acme.display_name, acme.icon, acme.primary_color = "Rocket Market", "🚀", "#ff5500"
    acme.save()
    page = text(express_user.get(express_url(seller)))
    assert "Rocket Market" in page and "🚀" in page and "#ff5500" in page


def test_a_sandbox_rejection_reaches_the_mirror(acme, seller, sandbox_key):
    sandbox_services.connect_account_state(
        token_or_account=sandbox_key, account=seller.stripe_id, state="rejected", reason="fraud"
    )
    webhooks_arrive()
    with scope(account=acme):
        assert ConnectedAccount.objects.get(pk=seller.pk).status == "rejected"


@pytest.mark.parametrize("page", ["", "payouts/", "transactions/", "payments/"])
def test_express_pages_stay_under_a_query_ceiling(acme, seller, stripe, express_user, page):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for amount in (1000, 2000, 3000):
        destination_charge(stripe, seller, amount=amount, fee=100)
    webhooks_arrive()
    with CaptureQueriesContext(connection) as queries:
        text(express_user.get(express_url(seller, page)))
    assert len(queries.captured_queries) <= 15, [q["sql"] for q in queries.captured_queries]


def test_the_account_detail_stays_under_a_query_ceiling(owner, seller, stripe):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for amount in (1000, 2000, 3000):
        destination_charge(stripe, seller, amount=amount, fee=100)
    webhooks_arrive()
    with CaptureQueriesContext(connection) as queries:
        text(owner.get(f"/a/acme/connect/accounts/{seller.stripe_id}/"))
    assert len(queries.captured_queries) <= 30
