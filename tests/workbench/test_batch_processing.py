"""Batch processing: batch handlers, the per-account groups, failure isolation inside a
batch, and `bulk_upsert` (newest wins, one statement)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from tests.workbench.conftest import SECRET
from tests.workbench.support import Widget, event_payload, signed_delivery
from workbench import services
from workbench.dispatch import handlers_for, handles, handles_batch
from workbench.mirror import bulk_upsert, upsert
from workbench.models import Event, WebhookEndpoint

pytestmark = pytest.mark.django_db

NOW = 1_800_000_000


def ingest(endpoint, payload, secret=SECRET):
    body, header = signed_delivery(payload, secret)
    result = services.delivery_receive(
        endpoint_uuid=endpoint.uuid, body=body, headers={"Stripe-Signature": header}
    )
    assert result.status == 200, result.reason
    return payload


def statuses(account) -> dict[str, str]:
    with scope(account=account):
        return dict(Event.objects.values_list("stripe_id", "status"))


def widget_rows(events) -> list[dict]:
    return [
        {
            "account_id": event.account_id,
            "stripe_id": event.object["id"],
            "livemode": bool(event.livemode),
            "stripe_account": event.connected_account,
            "created": event.created,
            "data": event.object,
            "source_time": event.created,
            "source_sequence": event.sequence,
            "color": event.object.get("color", ""),
        }
        for event in events
    ]


def register_batch_widget_handler(calls=None):
    @handles_batch("widget.*")
    def store_widgets(events: list[Event]) -> None:
        if calls is not None:
            calls.append([event.object["id"] for event in events])
        bulk_upsert(Widget, widget_rows(events))

    return store_widgets


def widget_color(account, stripe_id="wid_1") -> str:
    with scope(account=account):
        return Widget.objects.get(stripe_id=stripe_id).color


def test_a_batch_handler_gets_the_events_of_one_account_in_one_call(acme, globex, endpoint):
    calls = []

    @handles_batch("widget.*")
    def record(events: list[Event]) -> None:
        # Inside the account's scope: a scoped query works.
        assert WebhookEndpoint.objects.filter(account=events[0].account).exists()
        calls.append(sorted({event.account.slug for event in events}) + [len(events)])

    with scope(account=globex):
        other = WebhookEndpoint.objects.create(account=globex, secret="whsec_g")
    for _ in range(4):
        ingest(endpoint, event_payload("widget.created"))
        ingest(other, event_payload("widget.updated"), secret="whsec_g")

    assert services.events_drain() == 8

    assert sorted(calls) == [["acme", 4], ["globex", 4]]
    with scopes_disabled():
        assert set(Event.objects.values_list("status", flat=True)) == {"processed"}


def test_handlers_run_by_order_then_registration_and_batch_ones_work_per_event(acme):
    ran = []

    @handles_batch("gizmo.*", order=5)
    def late(events):
        ran.append(("late", len(events)))

    @handles("gizmo.*")
    def early(event):
        ran.append(("early", event))

    assert [h.__name__ for h in handlers_for("gizmo.made")] == ["early", "late"]
    # The per-event form of a batch handler calls it with a list of one event.
    handlers_for("gizmo.made")[1]("an event")
    assert ran == [("late", 1)]


def test_handles_batch_rejects_bad_patterns():
    with pytest.raises(ValueError):
        handles_batch()
    with pytest.raises(ValueError):
        handles_batch("charge..succeeded")


def test_shuffled_events_of_one_object_in_one_batch_land_the_newest(acme, endpoint, widget_table):
    calls = []
    register_batch_widget_handler(calls)
    versions = [
        event_payload("widget.updated", obj={"id": "wid_1", "color": color}, created=NOW + i)
        for i, color in enumerate(["red", "orange", "yellow", "green", "blue"])
    ]
    shuffled = versions[:]
    random.Random(3).shuffle(shuffled)
    for payload in shuffled:
        ingest(endpoint, payload)
    # A duplicate delivery of an old version changes nothing.
    ingest(endpoint, versions[1])

    services.events_drain()

    assert calls == [["wid_1"] * 5]  # one call, every version
    assert widget_color(acme) == "blue"
    assert set(statuses(acme).values()) == {"processed"}


def test_same_second_versions_in_one_batch_are_ordered_by_arrival(acme, endpoint, widget_table):
    register_batch_widget_handler()
    for color in ["a", "b", "c"]:
        ingest(
            endpoint,
            event_payload("widget.updated", obj={"id": "wid_1", "color": color}, created=NOW),
        )

    services.events_drain()

    assert widget_color(acme) == "c"


def test_an_older_batch_does_not_overwrite_a_newer_row(acme, endpoint, widget_table):
    register_batch_widget_handler()
    ingest(
        endpoint, event_payload("widget.updated", obj={"id": "wid_1", "color": "new"}, created=NOW)
    )
    services.events_drain()
    ingest(
        endpoint,
        event_payload("widget.created", obj={"id": "wid_1", "color": "old"}, created=NOW - 60),
    )
    ingest(
        endpoint,
        event_payload("widget.created", obj={"id": "wid_2", "color": "fresh"}, created=NOW - 60),
    )

    services.events_drain()

    assert widget_color(acme) == "new"
    assert widget_color(acme, "wid_2") == "fresh"


def test_a_failing_event_in_a_batch_fails_alone(acme, endpoint, widget_table):
    calls = []

    @handles_batch("widget.*")
    def picky(events: list[Event]) -> None:
        calls.append(len(events))
        bulk_upsert(Widget, widget_rows(events))  # written, then rolled back with the error
        if any(event.object.get("color") == "poison" for event in events):
            raise RuntimeError("the bank is closed")

    good = [
        ingest(endpoint, event_payload("widget.created", obj={"id": f"wid_{i}", "color": "ok"}))
        for i in range(7)
    ]
    bad = ingest(endpoint, event_payload("widget.created", obj={"id": "wid_x", "color": "poison"}))

    services.events_drain()

    assert calls[0] == 8 and len(calls) > 1  # the whole batch first, then smaller groups
    found = statuses(acme)
    assert found.pop(bad["id"]) == "failed"
    assert set(found.values()) == {"processed"} and len(found) == len(good)
    with scope(account=acme):
        failed = Event.objects.get(stripe_id=bad["id"])
        assert failed.attempts == 1 and "RuntimeError: the bank is closed" in failed.last_error
        assert failed.next_attempt_at > timezone.now() + timedelta(seconds=20)
        assert not Widget.objects.filter(stripe_id="wid_x").exists()
        assert Widget.objects.filter(color="ok").count() == 7


def test_a_failing_event_rolls_back_what_every_handler_wrote_for_it(acme, endpoint, widget_table):
    register_batch_widget_handler()

    @handles("widget.*")
    def fails_on_poison(event: Event) -> None:
        if event.object.get("color") == "poison":
            raise ValueError("no")

    ingest(endpoint, event_payload("widget.created", obj={"id": "wid_1", "color": "ok"}))
    bad = ingest(endpoint, event_payload("widget.created", obj={"id": "wid_2", "color": "poison"}))

    services.events_drain()

    assert statuses(acme)[bad["id"]] == "failed"
    with scope(account=acme):
        # The batch handler ran before the failing one; its row for wid_2 is rolled back.
        assert list(Widget.objects.values_list("stripe_id", flat=True)) == ["wid_1"]


def test_bulk_upsert_writes_newest_per_id_in_one_statement(acme, widget_table):
    t0 = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)

    def row(stripe_id, color, seconds, sequence):
        obj = {"id": stripe_id, "color": color, "nested": {"n": [1, 2]}}
        return {
            "account_id": acme.pk,
            "stripe_id": stripe_id,
            "livemode": False,
            "created": t0,
            "data": obj,
            "source_time": t0 + timedelta(seconds=seconds),
            "source_sequence": sequence,
            "color": color,
        }

    with scope(account=acme):
        upsert(
            Widget,
            account=acme,
            livemode=False,
            obj={"id": "wid_held", "color": "held"},
            fields={"color": "held"},
            source_time=t0 + timedelta(seconds=100),
            source_sequence=0,
        )
        rows = [
            row("wid_1", "first", 1, 5),
            row("wid_1", "same second, later", 1, 6),
            row("wid_1", "older", 0, 9),
            row("wid_2", "only", 3, 1),
            row("wid_held", "too old", 50, 1),
            # The same second as an API read (sequence 0): the event wins.
            row("wid_3", "event", 7, 2),
        ]
        with CaptureQueriesContext(connection) as queries:
            written = bulk_upsert(Widget, rows)
        assert len(queries) == 1
        assert set(written) == {"wid_1", "wid_2", "wid_3"}
        assert bulk_upsert(Widget, [row("wid_3", "api read", 7, 0)]) == {}
        assert bulk_upsert(Widget, []) == {}

        widgets = {w.stripe_id: w for w in Widget.objects.all()}
        assert widgets["wid_1"].color == "same second, later"
        assert widgets["wid_1"].data == {
            "id": "wid_1",
            "color": "same second, later",
            "nested": {"n": [1, 2]},
        }
        assert widgets["wid_1"].pk == written["wid_1"]
        assert widgets["wid_1"].source_time == t0 + timedelta(seconds=1)
        assert widgets["wid_1"].stripe_account == ""  # a default for a column not named
        assert widgets["wid_held"].color == "held"
        assert widgets["wid_3"].color == "event"

        # A newer version updates in place.
        assert bulk_upsert(Widget, [row("wid_2", "newer", 4, 0)]) == {"wid_2": widgets["wid_2"].pk}
        assert Widget.objects.get(stripe_id="wid_2").color == "newer"
