from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from tests.workbench.conftest import SECRET
from tests.workbench.support import Widget, event_payload, signed_delivery
from workbench import services
from workbench.dispatch import handlers_for, handles
from workbench.mirror import upsert
from workbench.models import Event, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def ingest(endpoint, payload, secret=SECRET):
    body, header = signed_delivery(payload, secret)
    result = services.delivery_receive(
        endpoint_uuid=endpoint.uuid, body=body, headers={"Stripe-Signature": header}
    )
    assert result.status == 200, result.reason
    return payload


def event(account, stripe_id) -> Event:
    with scope(account=account):
        return Event.objects.get(stripe_id=stripe_id)


def register_widget_handler():
    @handles("widget.*")
    def store_widget(event: Event) -> None:
        upsert(
            Widget,
            account=event.account,
            livemode=event.livemode,
            obj=event.object,
            fields={"color": event.object.get("color", "")},
            source_time=event.created,
            source_sequence=event.sequence,
            stripe_account=event.connected_account,
        )

    return store_widget


def widget(account, stripe_id="wid_1") -> Widget:
    with scope(account=account):
        return Widget.objects.get(stripe_id=stripe_id)


def test_an_unknown_event_type_is_stored_and_ignored(acme, endpoint):
    payload = ingest(endpoint, event_payload("issuing_card.created"))

    services.events_drain()

    stored = event(acme, payload["id"])
    assert stored.status == "ignored" and stored.processed_at is not None


def test_a_handler_runs_in_the_account_scope(acme, endpoint, widget_table):
    register_widget_handler()
    payload = ingest(endpoint, event_payload("widget.created", obj={"id": "wid_1", "color": "red"}))

    assert services.events_drain() == 1

    assert event(acme, payload["id"]).status == "processed"
    assert widget(acme).color == "red"


def test_an_older_update_after_a_newer_one_does_not_overwrite(acme, endpoint, widget_table):
    register_widget_handler()
    now = 1_800_000_000
    ingest(
        endpoint, event_payload("widget.updated", obj={"id": "wid_1", "color": "blue"}, created=now)
    )
    services.events_drain()
    ingest(
        endpoint,
        event_payload("widget.updated", obj={"id": "wid_1", "color": "red"}, created=now - 5),
    )

    services.events_drain()

    assert widget(acme).color == "blue"


def test_an_update_before_its_create_ends_with_the_update(acme, endpoint, widget_table):
    register_widget_handler()
    now = 1_800_000_000
    ingest(
        endpoint, event_payload("widget.updated", obj={"id": "wid_1", "color": "blue"}, created=now)
    )
    ingest(
        endpoint,
        event_payload("widget.created", obj={"id": "wid_1", "color": "new"}, created=now - 60),
    )

    services.events_drain()

    assert widget(acme).color == "blue"


def test_same_second_events_are_ordered_by_arrival(acme, endpoint, widget_table):
    register_widget_handler()
    now = 1_800_000_000
    first = ingest(
        endpoint, event_payload("widget.updated", obj={"id": "wid_1", "color": "a"}, created=now)
    )
    second = ingest(
        endpoint, event_payload("widget.updated", obj={"id": "wid_1", "color": "b"}, created=now)
    )

    services.events_drain()

    assert event(acme, first["id"]).sequence < event(acme, second["id"]).sequence
    assert widget(acme).color == "b"


def test_a_failing_handler_keeps_its_error_and_rolls_back_its_writes(acme, endpoint, widget_table):
    @handles("widget.created")
    def half_then_fail(event: Event) -> None:
        Widget.objects.create(
            account=event.account,
            livemode=False,
            stripe_id="wid_half",
            created=timezone.now(),
            source_time=timezone.now(),
        )
        raise RuntimeError("the bank is closed")

    register_widget_handler()
    failing = ingest(endpoint, event_payload("widget.created", obj={"id": "wid_1"}))
    fine = ingest(endpoint, event_payload("widget.updated", obj={"id": "wid_2", "color": "ok"}))

    services.events_drain()

    failed = event(acme, failing["id"])
    assert failed.status == "failed" and failed.attempts == 1
    assert "RuntimeError: the bank is closed" in failed.last_error
    assert failed.next_attempt_at > timezone.now() + timedelta(seconds=20)
    with scope(account=acme):
        assert not Widget.objects.filter(stripe_id__in=["wid_half", "wid_1"]).exists()
    assert event(acme, fine["id"]).status == "processed"
    assert widget(acme, "wid_2").color == "ok"


def test_a_failed_event_is_retried_with_backoff_until_the_limit(acme, endpoint, settings):
    settings.PAYDESK_EVENT_MAX_ATTEMPTS = 3
    calls = []

    @handles("widget.created")
    def always_fails(event: Event) -> None:
        calls.append(event.stripe_id)
        raise ValueError("nope")

    payload = ingest(endpoint, event_payload("widget.created"))
    services.events_drain()
    delays = []
    for _ in range(3):
        stored = event(acme, payload["id"])
        if stored.next_attempt_at is None:
            break
        delays.append((stored.next_attempt_at - stored.processed_at).total_seconds())
        # Not before its time...
        services.events_drain()
        assert len(calls) == len(delays)
        # ...but once the backoff has passed.
        with scopes_disabled():
            Event.objects.filter(pk=stored.pk).update(next_attempt_at=timezone.now())
        services.events_drain()

    stored = event(acme, payload["id"])
    assert (stored.status, stored.attempts, stored.next_attempt_at) == ("failed", 3, None)
    assert len(calls) == 3
    assert delays == [30, 120]


def test_replay_events_replays_a_failed_event(acme, endpoint, widget_table):
    broken = {"yes": True}

    @handles("widget.created")
    def flaky(event: Event) -> None:
        if broken["yes"]:
            raise RuntimeError("bug")
        Widget.objects.create(
            account=event.account,
            livemode=False,
            stripe_id=event.object["id"],
            created=event.created,
            source_time=event.created,
        )

    payload = ingest(endpoint, event_payload("widget.created", obj={"id": "wid_9"}))
    services.events_drain()
    assert event(acme, payload["id"]).status == "failed"

    broken["yes"] = False
    out = StringIO()
    call_command("replay_events", "--account", "acme", "--failed", stdout=out)
    assert "Queued 1 event" in out.getvalue()
    assert event(acme, payload["id"]).status == "pending"
    services.events_drain()

    replayed = event(acme, payload["id"])
    assert (replayed.status, replayed.attempts, replayed.last_error) == ("processed", 2, "")
    assert widget(acme, "wid_9")


def test_replay_events_by_id_and_its_guards(acme, globex, endpoint):
    payload = ingest(endpoint, event_payload("widget.created"))
    services.events_drain()

    call_command("replay_events", "--event", payload["id"], stdout=StringIO())
    assert event(acme, payload["id"]).status == "pending"
    with pytest.raises(CommandError, match="--all"):
        call_command("replay_events")
    with pytest.raises(CommandError, match="No account"):
        call_command("replay_events", "--account", "nope")
    with pytest.raises(CommandError, match="No event"):
        call_command("replay_events", "--event", "evt_missing")


def test_a_drain_processes_every_account_in_batches(acme, globex, endpoint):
    seen = []

    @handles("widget.created")
    def record(event: Event) -> None:
        # A scoped query that only works inside the event's own account scope.
        assert WebhookEndpoint.objects.filter(account=event.account).exists()
        seen.append((event.account.slug, event.stripe_id))

    with scope(account=globex):
        other = WebhookEndpoint.objects.create(account=globex, secret="whsec_g")
    for _ in range(5):
        ingest(endpoint, event_payload("widget.created"))
        ingest(other, event_payload("widget.created"), secret="whsec_g")

    assert services.events_drain(batch_size=3) == 10

    assert sorted({slug for slug, _ in seen}) == ["acme", "globex"]
    assert len(seen) == 10
    with scopes_disabled():
        assert set(Event.objects.values_list("status", flat=True)) == {"processed"}


def test_a_star_matches_one_segment_only():
    # As `charge.*` must not hand a dispute (`charge.dispute.created`) to a charge handler.
    @handles("gadget.*")
    def gadget(event):
        pass

    @handles("gadget.part.*")
    def part(event):
        pass

    assert handlers_for("gadget.succeeded") == (gadget,)
    assert handlers_for("gadget.part.created") == (part,)
    assert handlers_for("gadgetry.succeeded") == ()


def test_old_request_logs_and_deliveries_are_pruned_but_events_stay(acme, endpoint, settings):
    settings.PAYDESK_LOG_RETENTION_DAYS = 30
    ingest(endpoint, event_payload("widget.created"))
    ingest(endpoint, event_payload("widget.created"))
    with scope(account=acme):
        old = WebhookDelivery.objects.order_by("id").first()
        WebhookDelivery.objects.filter(pk=old.pk).update(
            received_at=timezone.now() - timedelta(days=31)
        )

    assert services.logs_prune() == 1

    with scope(account=acme):
        assert WebhookDelivery.objects.count() == 1
        assert Event.objects.count() == 2
