"""Editing the Home overview in a real browser (htmx swaps the editor; Apply saves)."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def widget_keys(page) -> list[str]:
    return page.locator("section.widget").evaluate_all("nodes => nodes.map(n => n.dataset.widget)")


def test_it_edits_the_overview_and_the_order_persists(sign_in, owner_user):
    page = sign_in("owner@acme.test")
    assert widget_keys(page)[:3] == ["gross_volume", "net_volume", "successful_payments"]
    assert "balances" in widget_keys(page)
    # The volume charts are drawn from the embedded JSON.
    expect(page.locator('canvas[data-chart="chart-data-gross_volume"]')).to_have_attribute(
        "data-drawn", "1"
    )

    page.get_by_test_id("edit-overview").click()
    editor = page.get_by_test_id("overview-editor")
    editor.get_by_role("button", name="Remove Balances").click()
    expect(editor.locator('li[data-widget="balances"]')).to_have_count(0)
    editor.get_by_role("button", name="Move Net volume up").click()
    expect(editor.locator("li").first).to_have_attribute("data-widget", "net_volume")
    page.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(r"/a/acme/$"))
    page.reload()
    keys = widget_keys(page)
    assert keys[:2] == ["net_volume", "gross_volume"]
    assert "balances" not in keys
