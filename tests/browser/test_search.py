"""The header search box in a real browser: live results as you type, and a pasted id
opening its object on Enter."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from payments import mirroring
from payments.mirroring import Source
from tests.payments import stripe_objects as so

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def payments(acme):
    """Two live payments: Jenny's by Mastercard •••• 4444, and a Visa •••• 4242."""
    source = Source(account=acme, livemode=True, time=timezone.now())
    with scope(account=acme):
        mirroring.store_customer(source, so.customer("cus_jenny", email="jenny@example.com"))
        for id, intent, brand, last4, amount in [
            ("ch_jenny", "pi_jenny", "mastercard", "4444", 2500),
            ("ch_other", "pi_other", "visa", "4242", 990),
        ]:
            obj = so.charge(
                id,
                amount=amount,
                customer="cus_jenny" if id == "ch_jenny" else None,
                payment_intent=intent,
            )
            obj["payment_method_details"] = {
                "type": "card",
                "card": {"brand": brand, "last4": last4},
            }
            obj["livemode"] = True
            mirroring.store_charge(source, obj)


def test_typing_a_last4_shows_the_payment_in_the_live_dropdown(sign_in, owner_user, payments):
    page = sign_in("owner@acme.test")

    page.locator("#global-search").press_sequentially("4444", delay=30)

    dropdown = page.get_by_test_id("search-dropdown")
    expect(dropdown).to_be_visible()
    expect(dropdown).to_contain_text("Mastercard •••• 4444")
    expect(dropdown).to_contain_text("$25.00")
    expect(dropdown).not_to_contain_text("4242")
    # Live results do not navigate: the page under the box is still Home.
    expect(page).to_have_url(re.compile(r"/a/acme/$"))
    dropdown.get_by_role("option").first.click()
    expect(page).to_have_url(re.compile(r"/a/acme/payments/pi_jenny/$"))


def test_pasting_an_id_and_pressing_enter_opens_the_object(sign_in, owner_user, payments):
    page = sign_in("owner@acme.test")

    box = page.locator("#global-search")
    box.fill("cus_jenny")
    box.press("Enter")

    expect(page).to_have_url(re.compile(r"/a/acme/customers/cus_jenny/$"))
    expect(page.locator("main")).to_contain_text("jenny@example.com")


def test_a_search_with_no_match_says_so(sign_in, owner_user, payments):
    page = sign_in("owner@acme.test")

    page.locator("#global-search").press_sequentially("zzzz nothing", delay=10)

    expect(page.get_by_test_id("search-dropdown")).to_contain_text("No results")
