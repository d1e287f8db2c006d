"""Celery tasks of the workbench: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from workbench import services


@shared_task(name="workbench.drain_events", acks_late=True, reject_on_worker_lost=True)
def drain_events() -> int:
    """Processes pending events until none are left. Safe to run twice or concurrently:
    each batch claims its rows with SKIP LOCKED, so two drains never take the same event."""
    return services.events_drain()
