"""Processing through real processes: a Celery worker, and a worker killed mid-batch.

These tests commit (transaction=True) because another connection must see the rows.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection
from django.test import Client
from django_scopes import scope, scopes_disabled

from paydesk.celery import app as celery_app
from tests.workbench.conftest import SECRET
from tests.workbench.support import Widget, event_payload, post_delivery, signed_delivery
from workbench import services
from workbench.dispatch import handles
from workbench.mirror import upsert
from workbench.models import Event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def statuses() -> list[str]:
    with scopes_disabled():
        return list(Event.objects.order_by("sequence").values_list("status", flat=True))


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_real_celery_worker_processes_delivered_events(acme, endpoint, drain_key):
    seen = []

    @handles("widget.created")
    def record(event: Event) -> None:
        seen.append(event.stripe_id)

    celery_app.control.purge()
    client = Client()
    with start_worker(celery_app, perform_ping_check=False, pool="solo", shutdown_timeout=30):
        payloads = [event_payload("widget.created") for _ in range(5)]
        for payload in payloads:
            assert (
                post_delivery(client, endpoint, *signed_delivery(payload, SECRET)).status_code
                == 200
            )

        assert wait_for(lambda: statuses() == ["processed"] * 5), statuses()

    assert sorted(seen) == sorted(p["id"] for p in payloads)


def _database_url() -> str:
    options = connection.settings_dict
    return f"postgres://{options['USER']}@{options['HOST']}:{options['PORT']}/{options['NAME']}"


def test_a_worker_killed_mid_batch_loses_nothing(acme, endpoint, widget_table):
    now = 1_800_000_000
    for number in range(5):
        payload = event_payload(
            "widget.created", obj={"id": f"wid_{number}", "color": "red"}, created=now + number
        )
        body, header = signed_delivery(payload, SECRET)
        services.delivery_receive(
            endpoint_uuid=endpoint.uuid, body=body, headers={"Stripe-Signature": header}
        )
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.workbench.crash_worker", "100"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": settings.REDIS_URL},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout.readline().strip() == "mid-batch"
        # While the worker holds its claim, another drain skips those rows instead of
        # processing them twice or waiting.
        assert services.events_process_batch(batch_size=100).claimed == 0
        with scope(account=acme):
            assert not Widget.objects.exists()  # its two handled events are not committed
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        worker.stdout.close()

    assert statuses() == ["pending"] * 5

    seen = []

    @handles("widget.*")
    def store(event: Event) -> None:
        seen.append(event.stripe_id)
        upsert(
            Widget,
            account=event.account,
            livemode=event.livemode,
            obj=event.object,
            fields={"color": "blue"},
            source_time=event.created,
            source_sequence=event.sequence,
        )

    # The killed worker's rows are free again as soon as the server sees its connection go.
    assert wait_for(lambda: services.events_drain() >= 0 and statuses() == ["processed"] * 5)
    assert len(seen) == 5
    with scope(account=acme):
        assert sorted(Widget.objects.values_list("stripe_id", flat=True)) == [
            f"wid_{n}" for n in range(5)
        ]
