"""In the browser: refund from a payment's page, charge a saved card from a customer's page
(htmx swaps the partial; the sandbox is the Stripe behind it)."""

from __future__ import annotations

import re

import pytest
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from dashboard.models import Membership
from payments import services
from payments.models import Charge, PaymentIntent
from tests.payments.sandbox_support import connected, sandbox_settings  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def customer(acme, owner_user, connected):  # noqa: F811
    with scopes_disabled():
        Membership.objects.filter(user=owner_user).update(test_mode=True)
    customer = services.customer_create(
        account=acme, livemode=False, email="jenny@example.com", name="Jenny", actor=owner_user
    )
    services.payment_method_attach(
        account=acme,
        livemode=False,
        customer=customer,
        payment_method="pm_card_mastercard",
        make_default=True,
        actor=owner_user,
    )
    return customer


def test_refund_part_of_a_payment_from_its_page(sign_in, acme, owner_user, customer):
    intent = services.payment_charge_saved_card(
        account=acme,
        livemode=False,
        customer=customer,
        amount=4000,
        currency="usd",
        actor=owner_user,
    )
    page = sign_in("owner@acme.test")
    page.get_by_role("link", name="Transactions").click()
    page.get_by_role("link", name="$40.00").click()
    expect(page).to_have_url(re.compile(rf"/payments/{intent.stripe_id}/$"))

    page.evaluate("window.notReloaded = true")
    refund = page.get_by_test_id("refund-form")
    refund.get_by_label(re.compile("Amount to refund")).fill("15.00")
    refund.get_by_label("Reason").select_option("requested_by_customer")
    refund.get_by_role("button", name="Refund").click()

    expect(page.get_by_text("Refunded $15.00.")).to_be_visible()
    expect(page.get_by_test_id("amount-refunded")).to_have_text("$15.00")
    expect(page.locator("[data-status]").first).to_have_text("Partially refunded")
    assert page.evaluate("window.notReloaded === true")  # htmx swapped the partial in place
    with scope(account=acme):
        assert Charge.objects.get().amount_refunded == 1500

    refund = page.get_by_test_id("refund-form")
    refund.get_by_label(re.compile("Amount to refund")).fill("30")
    refund.get_by_role("button", name="Refund").click()
    expect(page.get_by_text(re.compile(r"Refund amount \(\$30\.00\) is greater"))).to_be_visible()
    with scope(account=acme):
        assert Charge.objects.get().amount_refunded == 1500


def test_charge_a_saved_card_from_the_customer_page(sign_in, acme, customer):
    page = sign_in("owner@acme.test")
    page.get_by_role("link", name="Customers", exact=True).first.click()
    page.get_by_role("link", name="Jenny").click()
    expect(page.get_by_test_id("payment-methods")).to_contain_text("Mastercard •••• 4444")

    page.evaluate("window.notReloaded = true")
    form = page.get_by_test_id("charge-form")
    form.get_by_label("Amount").fill("12.50")
    form.get_by_label("Description").fill("Order 19")
    form.get_by_role("button", name="Charge").click()

    expect(page.get_by_text("Charged $12.50: succeeded.")).to_be_visible()
    expect(page.get_by_test_id("customer-payments")).to_contain_text("$12.50")
    assert page.evaluate("window.notReloaded === true")
    with scope(account=acme):
        intent = PaymentIntent.objects.get()
        assert (intent.amount, intent.status, intent.description) == (1250, "succeeded", "Order 19")
