from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_scopes import scope

from tests.workbench.conftest import SECRET
from tests.workbench.support import (
    event_payload,
    post_delivery,
    sign,
    signature_header,
    signed_delivery,
)
from workbench.models import Event, UnroutedDelivery, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    # Stripe is not a browser: no session, and CSRF checks enforced as in production.
    return Client(enforce_csrf_checks=True)


def deliveries(account):
    with scope(account=account):
        return list(WebhookDelivery.objects.order_by("id"))


def events(account):
    with scope(account=account):
        return list(Event.objects.order_by("sequence"))


def test_it_stores_a_validly_signed_event_as_pending(client, acme, endpoint):
    payload = event_payload("charge.succeeded", obj={"id": "ch_1", "object": "charge"})
    body, header = signed_delivery(payload, SECRET)

    response = post_delivery(client, endpoint, body, header)

    assert response.status_code == 200
    [event] = events(acme)
    assert (event.stripe_id, event.type, event.status) == (
        payload["id"],
        "charge.succeeded",
        "pending",
    )
    assert event.payload == payload
    assert event.object == {"id": "ch_1", "object": "charge"}
    assert event.created.timestamp() == payload["created"]
    assert event.livemode is False
    [delivery] = deliveries(acme)
    assert delivery.verified and delivery.response_status == 200
    assert bytes(delivery.body) == body
    assert delivery.headers["Stripe-Signature"] == header
    assert delivery.event_stripe_id == payload["id"]


def test_it_rejects_a_signature_made_with_another_secret(client, acme, endpoint):
    body, header = signed_delivery(event_payload(), "whsec_someone_else")

    response = post_delivery(client, endpoint, body, header)

    assert response.status_code == 400
    assert events(acme) == []
    [delivery] = deliveries(acme)
    assert not delivery.verified and delivery.response_status == 400
    assert "No signatures found matching" in delivery.failure_reason


def test_it_rejects_a_missing_signature(client, acme, endpoint):
    body, _ = signed_delivery(event_payload(), SECRET)

    response = post_delivery(client, endpoint, body, None)

    assert response.status_code == 400
    assert deliveries(acme)[0].failure_reason == "no Stripe-Signature header"
    assert events(acme) == []


def test_it_rejects_a_stale_timestamp(client, acme, endpoint):
    body, header = signed_delivery(event_payload(), SECRET, timestamp=int(time.time()) - 301)

    response = post_delivery(client, endpoint, body, header)

    assert response.status_code == 400
    assert "tolerance" in deliveries(acme)[0].failure_reason
    assert events(acme) == []


def test_it_accepts_a_timestamp_within_five_minutes(client, acme, endpoint):
    body, header = signed_delivery(event_payload(), SECRET, timestamp=int(time.time()) - 280)

    assert post_delivery(client, endpoint, body, header).status_code == 200


def test_it_rejects_a_body_changed_after_signing(client, acme, endpoint):
    body, header = signed_delivery(event_payload(), SECRET)

    response = post_delivery(client, endpoint, body.replace(b'"livemode"', b' "livemode"'), header)

    assert response.status_code == 400
    assert events(acme) == []


def test_it_accepts_any_of_several_v1_values(client, acme, endpoint):
    body = json.dumps(event_payload()).encode()
    header = signature_header(body, "whsec_old_secret", SECRET)

    assert post_delivery(client, endpoint, body, header).status_code == 200
    assert len(events(acme)) == 1


def test_it_accepts_the_previous_secret_during_the_overlap(client, acme, endpoint):
    with scope(account=acme):
        endpoint.previous_secret = "whsec_previous"
        endpoint.previous_secret_expires_at = timezone.now() + timedelta(hours=1)
        endpoint.save()
    old_body, old_header = signed_delivery(event_payload(), "whsec_previous")
    new_body, new_header = signed_delivery(event_payload(), SECRET)

    assert post_delivery(client, endpoint, old_body, old_header).status_code == 200
    assert post_delivery(client, endpoint, new_body, new_header).status_code == 200
    assert len(events(acme)) == 2


def test_it_refuses_the_previous_secret_after_the_overlap(client, acme, endpoint):
    with scope(account=acme):
        endpoint.previous_secret = "whsec_previous"
        endpoint.previous_secret_expires_at = timezone.now() - timedelta(seconds=1)
        endpoint.save()
    old_body, old_header = signed_delivery(event_payload(), "whsec_previous")
    new_body, new_header = signed_delivery(event_payload(), SECRET)

    assert post_delivery(client, endpoint, old_body, old_header).status_code == 400
    assert post_delivery(client, endpoint, new_body, new_header).status_code == 200
    assert len(events(acme)) == 1


def test_a_duplicate_delivery_is_acknowledged_but_stored_once(client, acme, endpoint):
    payload = event_payload("charge.succeeded")
    body, header = signed_delivery(payload, SECRET)

    first = post_delivery(client, endpoint, body, header)
    with scope(account=acme):
        Event.objects.update(status=Event.Status.PROCESSED)
    second = post_delivery(client, endpoint, body, header)

    assert first.status_code == second.status_code == 200
    assert second.json() == {"received": True, "duplicate": True}
    [event] = events(acme)
    assert event.status == "processed"  # not put back in the queue
    assert [d.duplicate for d in deliveries(acme)] == [False, True]


def test_malformed_json_is_refused_and_recorded(client, acme, endpoint):
    body = b'{"id": "evt_1", "object": "event", '
    header = signature_header(body, SECRET)

    response = post_delivery(client, endpoint, body, header)

    assert response.status_code == 400
    [delivery] = deliveries(acme)
    assert delivery.verified and delivery.failure_reason == "body is not JSON"
    assert bytes(delivery.body) == body
    assert events(acme) == []


def test_json_that_is_not_an_event_is_refused(client, acme, endpoint):
    body, header = signed_delivery({"hello": "world"}, SECRET)

    assert post_delivery(client, endpoint, body, header).status_code == 400
    assert deliveries(acme)[0].failure_reason == "body is not a Stripe event"


def test_a_live_event_on_a_test_endpoint_is_refused(client, acme, endpoint):
    body, header = signed_delivery(event_payload(livemode=True), SECRET)

    assert post_delivery(client, endpoint, body, header).status_code == 400
    assert events(acme) == []


def test_an_unknown_endpoint_is_404_and_recorded_without_an_account(client, acme, endpoint):
    body, header = signed_delivery(event_payload(), SECRET)
    unknown = uuid.uuid4()

    response = client.post(
        f"/webhooks/stripe/{unknown}/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
        REMOTE_ADDR="203.0.113.9",
    )

    assert response.status_code == 404
    [unrouted] = UnroutedDelivery.objects.all()
    assert unrouted.endpoint_uuid == unknown
    assert bytes(unrouted.body) == body
    assert unrouted.remote_address == "203.0.113.9"
    assert deliveries(acme) == [] and events(acme) == []


def test_a_disabled_endpoint_refuses_deliveries(client, acme, endpoint):
    with scope(account=acme):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False)
    body, header = signed_delivery(event_payload(), SECRET)

    assert post_delivery(client, endpoint, body, header).status_code == 404
    assert deliveries(acme)[0].failure_reason == "endpoint disabled"
    assert events(acme) == []


def test_the_same_event_id_in_two_accounts_is_two_events(client, acme, globex, endpoint):
    with scope(account=globex):
        other = WebhookEndpoint.objects.create(account=globex, secret="whsec_globex")
    payload = event_payload(event_id="evt_shared")

    post_delivery(client, endpoint, *signed_delivery(payload, SECRET))
    post_delivery(client, other, *signed_delivery(payload, "whsec_globex"))

    assert [e.stripe_id for e in events(acme)] == ["evt_shared"]
    assert [e.stripe_id for e in events(globex)] == ["evt_shared"]


def test_it_rejects_get(client, endpoint):
    assert client.get(f"/webhooks/stripe/{endpoint.uuid}/").status_code == 405


def test_the_signature_is_checked_on_the_exact_bytes(client, acme, endpoint):
    # Non-ASCII and odd spacing survive untouched: nothing re-serialises before verifying.
    body = json.dumps(event_payload(obj={"id": "wid_ü", "created": 1}), indent=3).encode()
    header = f"t={int(time.time())},v1={sign(body, SECRET)}"

    assert post_delivery(client, endpoint, body, header).status_code == 200
    assert events(acme)[0].object["id"] == "wid_ü"


def test_a_stored_event_schedules_processing_after_commit(
    client, acme, endpoint, drain_key, django_capture_on_commit_callbacks, monkeypatch
):
    published = []
    monkeypatch.setattr("workbench.tasks.drain_events.delay", lambda: published.append(1))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for _ in range(3):
            post_delivery(client, endpoint, *signed_delivery(event_payload(), SECRET))

    assert len(callbacks) == 3
    # One drain message for the burst, not one per event.
    assert published == [1]
