import re

import pytest
from playwright.sync_api import expect

from dashboard.roles import Role
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_signs_in_and_lands_on_home(sign_in, owner_user):
    page = sign_in("owner@acme.test")
    expect(page).to_have_url(re.compile(r"/a/acme/$"))
    expect(page.get_by_role("heading", name="Home")).to_be_visible()


def test_it_switches_between_accounts(sign_in, owner_user, globex):
    MembershipFactory(account=globex, user=owner_user, role=Role.ANALYST)
    page = sign_in("owner@acme.test")
    page.get_by_test_id("account-switcher").locator("summary").click()
    page.get_by_role("link", name=re.compile("Globex Store")).click()
    expect(page).to_have_url(re.compile(r"/a/globex/$"))
    expect(page.locator(".user-chip")).to_contain_text("Analyst")


def test_test_mode_shows_an_unmistakable_banner(sign_in, owner_user):
    page = sign_in("owner@acme.test")
    expect(page.get_by_test_id("test-mode-banner")).to_have_count(0)
    page.get_by_test_id("test-mode-toggle").click()
    expect(page.get_by_test_id("test-mode-banner")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("test-mode-banner")).to_be_visible()
    page.get_by_test_id("test-mode-toggle").click()
    expect(page.get_by_test_id("test-mode-banner")).to_have_count(0)


def test_a_pinned_page_appears_under_shortcuts(sign_in, owner_user):
    page = sign_in("owner@acme.test")
    page.get_by_role("link", name="Customers", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/a/acme/customers/$"))
    page.get_by_test_id("pin-button").click()
    shortcuts = page.get_by_test_id("shortcuts")
    expect(shortcuts.locator("a.pinned")).to_have_text(re.compile("Customers"))
    expect(page.get_by_test_id("pin-button")).to_contain_text("Unpin")
    page.goto("/a/acme/")
    page.get_by_test_id("shortcuts").locator("a.pinned", has_text="Customers").click()
    expect(page).to_have_url(re.compile(r"/a/acme/customers/$"))


def test_question_mark_opens_the_shortcut_help_and_g_c_goes_to_customers(sign_in, owner_user):
    page = sign_in("owner@acme.test")
    page.locator("body").press("?")
    help_dialog = page.locator("#help")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Focus search")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    page.keyboard.press("/")
    expect(page.locator("#global-search")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("g")
    page.keyboard.press("c")
    expect(page).to_have_url(re.compile(r"/a/acme/customers/$"))
