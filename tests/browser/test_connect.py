"""A platform operator opens a connected account, creates a login link, and the seller's
Express dashboard shows its balance, earnings chart and requirements banner."""

import re

import pytest
from playwright.sync_api import expect

from tests.connect.conftest import make_account, members_in_test_mode, sandbox_key  # noqa: F401
from tests.payments.sandbox_support import connected, sandbox_settings, stripe, webhooks_arrive  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_opens_an_express_dashboard_through_a_login_link(
    sign_in,
    acme,
    owner_user,
    make_account,  # noqa: F811 (the fixture imported above)
    stripe,  # noqa: F811
    browser,
    live_server,
):
    seller = make_account("restricted_soon", email="seller@example.com", business_name="Kite Shop")
    stripe.v1.payment_intents.create(
        params={
            "amount": 12000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "payment_method_types": ["card"],
            "confirm": True,
            "transfer_data": {"destination": seller.stripe_id},
            "application_fee_amount": 2000,
        }
    )
    webhooks_arrive()
    members_in_test_mode(acme)

    page = sign_in("owner@acme.test")
    page.get_by_role("link", name="Connect", exact=True).click()
    page.get_by_role("link", name=re.compile("Restricted soon")).click()
    page.get_by_role("link", name="Kite Shop").click()
    expect(page.get_by_test_id("actions-required")).to_contain_text("Due now")
    page.get_by_role("button", name="Create login link").click()
    login_url = page.get_by_test_id("login-url").input_value()
    assert "/express/login/acme/" in login_url

    # The seller opens the link in their own browser.
    seller_context = browser.new_context(base_url=live_server.url)
    express = seller_context.new_page()
    express.goto(login_url)
    expect(express).to_have_url(re.compile(rf"/express/{seller.stripe_id}/$"))
    expect(express.get_by_test_id("platform-name")).to_have_text("Acme Platform")
    expect(express.get_by_test_id("balance-total")).to_have_text("$100.00")
    expect(express.get_by_test_id("earnings-chart")).to_be_visible()
    expect(express.get_by_test_id("requirements-banner")).to_contain_text("business_profile.mcc")
    express.get_by_role("link", name="Week").click()
    expect(express.get_by_test_id("earnings-chart")).to_contain_text("Net volume per week")
    express.get_by_role("button", name="Log out").click()
    expect(express.get_by_test_id("express-signed-out")).to_be_visible()
    # The link was single use.
    express.goto(login_url)
    expect(express.get_by_test_id("link-invalid")).to_be_visible()
    seller_context.close()
