"""Scheduled reports: a saved report runs daily, weekly or monthly over the period that
just ended, and its subscribers get an email with a link to the finished run.

`scheduled_reports_run` is called by Celery beat (see CELERY_BEAT_SCHEDULE). It claims due
reports with SKIP LOCKED and moves `next_run_at` forward in the same transaction, so two
beats or a redelivered task never run one report twice for the same period.
"""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from dashboard.models import Account, Membership, User
from dashboard.services import RequestContext, audit_record
from reporting import exports
from reporting.models import ReportFrequency, ReportRun, SavedReport
from reporting.reports import Period

logger = logging.getLogger(__name__)

# Runs happen shortly after midnight in the account's time zone, once the period closed.
RUN_AT = time(hour=1)


def period_before(*, frequency: str, day: date, tz: str) -> Period:
    """The whole period that ended just before `day`."""
    end = day - timedelta(days=1)
    if frequency == ReportFrequency.DAILY:
        start = end
    elif frequency == ReportFrequency.WEEKLY:
        start = end - timedelta(days=6)
    else:
        start = end.replace(day=1)
    return Period(start=start, end=end, timezone=tz)


def next_run_after(*, frequency: str, moment: datetime, tz: str) -> datetime:
    """The next run time strictly after `moment`: tomorrow, next Monday, next 1st."""
    zone = zoneinfo.ZoneInfo(tz)
    today = moment.astimezone(zone).date()
    if frequency == ReportFrequency.DAILY:
        day = today + timedelta(days=1)
    elif frequency == ReportFrequency.WEEKLY:
        day = today + timedelta(days=7 - today.weekday())
    else:
        day = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return datetime.combine(day, RUN_AT, tzinfo=zone)


def saved_report_create(
    *,
    account: Account,
    livemode: bool,
    actor: User,
    name: str,
    source: str,
    frequency: str,
    format: str,
    subscribe: bool,
    context: RequestContext | None = None,
) -> SavedReport:
    report_source = exports.export_source(source)
    if report_source is None:
        raise exports.ExportError("Choose a report.")
    with transaction.atomic():
        report = SavedReport.objects.create(
            account=account,
            livemode=livemode,
            name=name,
            source=source,
            frequency=frequency,
            format=format,
            parameters={"columns": report_source.default_columns, "metadata_keys": []},
            created_by=actor,
            next_run_at=next_run_after(
                frequency=frequency, moment=timezone.now(), tz=account.timezone
            ),
        )
        if subscribe:
            report.subscribers.add(actor)
        audit_record(
            account=account,
            actor=actor,
            action="reports.scheduled_created",
            target=report,
            target_repr=name,
            metadata={"source": source, "frequency": frequency},
            context=context,
        )
    return report


def saved_report_subscribe(
    *, account: Account, report: SavedReport, user: User, subscribed: bool
) -> None:
    """A member opts in or out of a report's emails (only members can be subscribers)."""
    if not Membership.objects.filter(account=account, user=user).exists():
        return
    if subscribed:
        report.subscribers.add(user)
    else:
        report.subscribers.remove(user)


def saved_report_list(*, account: Account, livemode: bool) -> list[SavedReport]:
    return list(
        SavedReport.objects.filter(account=account, livemode=livemode).prefetch_related(
            "subscribers"
        )
    )


@dataclass
class Outcome:
    run: ReportRun
    emailed: int


def _claim_due(now: datetime) -> list[tuple[int, int, dict]]:
    """Due reports as (account id, report id, period filters), each moved to its next time."""
    claimed = []
    with transaction.atomic(), scopes_disabled():
        due = (
            SavedReport.objects.select_for_update(skip_locked=True)
            .select_related("account")
            .filter(next_run_at__lte=now)
            .order_by("next_run_at")
        )
        for report in due:
            tz = report.account.timezone
            run_day = report.next_run_at.astimezone(zoneinfo.ZoneInfo(tz)).date()
            period = period_before(frequency=report.frequency, day=run_day, tz=tz)
            report.last_run_at = now
            report.next_run_at = next_run_after(frequency=report.frequency, moment=now, tz=tz)
            report.save(update_fields=["last_run_at", "next_run_at"])
            claimed.append((report.account_id, report.pk, period.as_filters()))
    return claimed


def scheduled_reports_run(*, now: datetime | None = None) -> list[Outcome]:
    """Runs every due report (the file is written here, in this worker) and emails links."""
    outcomes = []
    for account_id, report_id, filters in _claim_due(now or timezone.now()):
        account = Account.objects.get(pk=account_id)
        with scope(account=account):
            report = SavedReport.objects.get(pk=report_id)
            try:
                outcomes.append(_run_one(account=account, report=report, filters=filters))
            except Exception:
                logger.exception("scheduled report %s failed", report.public_id)
    return outcomes


def _run_one(*, account: Account, report: SavedReport, filters: dict) -> Outcome:
    run = exports.export_create(
        account=account,
        livemode=report.livemode,
        actor=None,
        source_key=report.source,
        filters=filters,
        columns=report.parameters.get("columns") or [],
        metadata_keys=report.parameters.get("metadata_keys") or [],
        format=report.format,
        saved_report=report,
    )
    # Written here rather than enqueued: the email must link to a finished file. The
    # export task that on_commit also enqueued finds it done and does nothing.
    finished = exports.export_execute(run_id=run.pk) or run
    emailed = _email_subscribers(account=account, report=report, run=finished, filters=filters)
    return Outcome(run=finished, emailed=emailed)


def _email_subscribers(*, account: Account, report: SavedReport, run: ReportRun, filters) -> int:
    # Only people who are still members of the account hear about it.
    members = Membership.objects.filter(account=account).values_list("user_id", flat=True)
    recipients = [user.email for user in report.subscribers.filter(pk__in=members, is_active=True)]
    if not recipients:
        return 0
    link = settings.PAYDESK_BASE_URL.rstrip("/") + reverse(
        "reporting:export_detail", args=[account.slug, run.public_id]
    )
    context = {"account": account, "report": report, "run": run, "link": link, **filters}
    subject = render_to_string("reporting/reports/scheduled_email_subject.txt", context)
    body = render_to_string("reporting/reports/scheduled_email.txt", context)
    send_mail(" ".join(subject.split()), body, None, recipients)
    return len(recipients)
