"""Celery tasks of reporting: thin wrappers around services. Each takes ids and is safe to
run twice (the services claim their work under a row lock)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from reporting import exports


@shared_task(
    name="reporting.export_run",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def export_run(self, run_id: int) -> int | None:
    """Writes one export. A second delivery of a finished run does nothing; a run another
    worker is still writing is looked at again once its heartbeat could have gone stale."""
    try:
        run = exports.export_execute(run_id=run_id)
    except exports.ExportBusy:
        countdown = int(exports.stale_after().total_seconds()) + 5
        raise self.retry(countdown=countdown, max_retries=10)
    return run.row_count if run is not None else None


@shared_task(name="reporting.exports_restart_stale", acks_late=True)
def exports_restart_stale() -> int:
    return exports.exports_restart_stale()


@shared_task(name="reporting.scheduled_reports_run", acks_late=True)
def scheduled_reports_run() -> int:
    """Runs the saved reports that are due and emails their subscribers (beat, every 15
    minutes). A report is claimed and moved to its next time in one transaction, so a
    second delivery of this task finds nothing left to do."""
    from reporting import scheduled

    return len(scheduled.scheduled_reports_run())
