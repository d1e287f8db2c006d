"""Exports in the browser: start one from a list page, watch the progress bar fill as a
real Celery worker writes it, and download the file."""

from __future__ import annotations

import csv
import re

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import expect

from paydesk.celery import app as celery_app
from tests.reporting.support import at, balance_transaction

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def export_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PAYDESK_EXPORT_WORK_DIR = tmp_path / "work"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    # Small progress steps, so the bar moves through several updates.
    settings.PAYDESK_EXPORT_PROGRESS_EVERY = 50
    return tmp_path


def test_an_export_started_from_a_list_finishes_and_downloads(
    sign_in, owner_user, acme, export_files
):
    for number in range(300):
        balance_transaction(
            acme,
            f"txn_{number:03}",
            amount=1_000 + number,
            fee=30,
            description="=cmd" if number == 7 else f"Sale {number}",
            created=at("2026-03-01", number % 24).replace(minute=number % 60, second=number % 59),
        )
    celery_app.control.purge()
    page = sign_in("owner@acme.test")
    page.goto("/a/acme/balances/history/")
    page.get_by_test_id("export-button").click()
    expect(page.get_by_role("heading", name="Export balance transactions")).to_be_visible()
    page.get_by_label("Payout").check()
    page.get_by_role("button", name="Start export").click()

    expect(page).to_have_url(re.compile(r"/a/acme/reports/exports/rr_[^/]+/$"))
    progress = page.get_by_test_id("export-progress")
    # No worker yet: the page waits and polls.
    expect(progress).to_have_attribute("data-status", "queued")
    expect(progress).to_have_attribute("hx-trigger", "every 1s")
    page.reload()  # the page survives a reload
    expect(page.get_by_test_id("export-progress")).to_have_attribute("data-status", "queued")

    with start_worker(celery_app, perform_ping_check=False, pool="solo", shutdown_timeout=30):
        expect(page.get_by_test_id("export-progress")).to_have_attribute(
            "data-status", "succeeded", timeout=20_000
        )
    expect(page.locator(".progress")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_test_id("export-progress")).to_contain_text("300 rows exported")

    with page.expect_download() as download_info:
        page.get_by_test_id("download").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == "ID" and rows[0][-1] == "Payout"
    assert len(rows) == 301
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id["txn_007"][rows[0].index("Description")] == "'=cmd"
    assert by_id["txn_299"][rows[0].index("Amount")] == "12.99"

    page.goto("/a/acme/reports/exports/")
    expect(page.get_by_test_id("past-exports")).to_contain_text("Succeeded")
