"""Celery tasks of the workbench: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from workbench import services


@shared_task(
    name="workbench.drain_events",
    acks_late=True,
    reject_on_worker_lost=True,
    # The database away for a moment: try again later rather than drop the trigger (the
    # events themselves are safe in their table either way).
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
)
def drain_events() -> int:
    """Processes pending events until none are left. Safe to run twice or concurrently:
    each batch claims its rows with SKIP LOCKED, so two drains never take the same event.

    Also scheduled periodically (beat) as a safety net for a lost trigger message."""
    return services.events_drain()


@shared_task(name="workbench.prune_logs", acks_late=True)
def prune_logs() -> int:
    return services.logs_prune()
