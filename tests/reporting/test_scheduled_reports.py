"""Scheduled reports: saved with a frequency, run by beat over the period that just
ended, and mailed as a link to the members who subscribed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from django.conf import settings
from django.core import mail
from django_scopes import scope

from reporting import scheduled
from reporting.models import ReportFrequency, ReportRun, SavedReport
from tests.reporting.support import at, balance_transaction

pytestmark = pytest.mark.django_db


def saved(account, user, *, frequency=ReportFrequency.MONTHLY, next_run_at=None, subscribers=()):
    with scope(account=account):
        report = scheduled.saved_report_create(
            account=account,
            livemode=True,
            actor=user,
            name="Monthly balance",
            source="balance_activity",
            frequency=frequency,
            format="csv",
            subscribe=False,
        )
        if next_run_at is not None:
            report.next_run_at = next_run_at
            report.save()
        report.subscribers.add(*subscribers)
    return report


def test_a_member_schedules_a_report_and_is_subscribed(owner, acme, owner_user):
    response = owner.post(
        f"/a/{acme.slug}/reports/scheduled/new/",
        {
            "name": "Payouts weekly",
            "source": "payout_reconciliation",
            "frequency": "weekly",
            "format": "csv",
            "subscribe": "on",
        },
    )
    assert response.status_code == 302
    with scope(account=acme):
        report = SavedReport.objects.get()
        assert list(report.subscribers.all()) == [owner_user]
    local = report.next_run_at.astimezone(UTC)
    assert local.weekday() == 0 and (local.hour, local.minute) == (1, 0)
    assert "Payouts weekly" in owner.get(f"/a/{acme.slug}/reports/scheduled/").content.decode()


def test_view_only_members_may_subscribe_but_not_schedule(viewer, viewer_user, acme, owner_user):
    report = saved(acme, owner_user)
    assert viewer.post(f"/a/{acme.slug}/reports/scheduled/new/", {"name": "x"}).status_code == 403
    url = f"/a/{acme.slug}/reports/scheduled/{report.public_id}/subscription/"
    assert viewer.post(url, {"subscribed": "1"}).status_code == 302
    with scope(account=acme):
        assert list(report.subscribers.all()) == [viewer_user]
    viewer.post(url, {"subscribed": "0"})
    with scope(account=acme):
        assert not report.subscribers.exists()


def test_a_due_report_runs_over_last_month_and_emails_its_subscribers(
    acme, owner_user, viewer_user, outsider_user, viewer
):
    balance_transaction(acme, "txn_feb", amount=100, created=at("2026-02-10"))
    balance_transaction(acme, "txn_mar_1", amount=2_000, created=at("2026-03-01", 0))
    balance_transaction(acme, "txn_mar_2", amount=-500, type="refund", created=at("2026-03-31"))
    balance_transaction(acme, "txn_apr", amount=300, created=at("2026-04-01", 2))
    report = saved(
        acme,
        owner_user,
        next_run_at=datetime(2026, 4, 1, 1, tzinfo=UTC),
        # Someone who is not a member never hears about the account's figures.
        subscribers=[owner_user, viewer_user, outsider_user],
    )

    outcomes = scheduled.scheduled_reports_run(now=datetime(2026, 4, 1, 1, 5, tzinfo=UTC))

    assert len(outcomes) == 1
    run = outcomes[0].run
    assert (run.status, run.row_count) == (ReportRun.Status.SUCCEEDED, 2)
    assert run.parameters["filters"] == {"from": "2026-03-01", "to": "2026-03-31"}
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["owner@acme.test", "viewer@acme.test"]
    assert message.subject == "Monthly balance for 2026-03-01 – 2026-03-31 is ready"
    link = re.search(r"http\S+/reports/exports/\S+/", message.body).group(0)
    assert link.startswith(settings.PAYDESK_BASE_URL)
    page = viewer.get(link.removeprefix(settings.PAYDESK_BASE_URL))
    assert page.status_code == 200 and "/download/?token=" in page.content.decode()

    report.refresh_from_db()
    assert report.next_run_at == datetime(2026, 5, 1, 1, tzinfo=UTC)


def test_running_the_schedule_twice_sends_one_email(acme, owner_user):
    saved(
        acme, owner_user, next_run_at=datetime(2026, 4, 1, 1, tzinfo=UTC), subscribers=[owner_user]
    )
    now = datetime(2026, 4, 1, 1, 5, tzinfo=UTC)
    assert len(scheduled.scheduled_reports_run(now=now)) == 1
    assert scheduled.scheduled_reports_run(now=now) == []
    assert len(mail.outbox) == 1
    with scope(account=acme):
        assert ReportRun.objects.count() == 1


def test_a_report_not_yet_due_does_not_run(acme, owner_user):
    saved(
        acme, owner_user, next_run_at=datetime(2026, 4, 1, 1, tzinfo=UTC), subscribers=[owner_user]
    )
    assert scheduled.scheduled_reports_run(now=datetime(2026, 4, 1, 0, 59, tzinfo=UTC)) == []
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("frequency", "day", "period"),
    [
        ("daily", date(2026, 3, 1), (date(2026, 2, 28), date(2026, 2, 28))),
        ("weekly", date(2026, 3, 9), (date(2026, 3, 2), date(2026, 3, 8))),
        ("monthly", date(2026, 1, 1), (date(2025, 12, 1), date(2025, 12, 31))),
    ],
)
def test_each_run_covers_the_whole_period_that_just_ended(frequency, day, period):
    found = scheduled.period_before(frequency=frequency, day=day, tz="UTC")
    assert (found.start, found.end) == period


def test_next_runs_are_in_the_account_time_zone():
    moment = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    monthly = scheduled.next_run_after(frequency="monthly", moment=moment, tz="Asia/Tokyo")
    # Already January 1 in Tokyo at that moment: the next run is February 1, 01:00 there.
    assert monthly.isoformat() == "2027-02-01T01:00:00+09:00"
    daily = scheduled.next_run_after(frequency="daily", moment=moment, tz="UTC")
    assert daily.isoformat() == "2027-01-01T01:00:00+00:00"


def test_beat_runs_the_schedule():
    from paydesk.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["reporting-scheduled-reports"]
    assert entry["task"] == "reporting.scheduled_reports_run"
    app.loader.import_default_modules()
    assert "reporting.scheduled_reports_run" in app.tasks
    assert "reporting.exports_restart_stale" in app.tasks
