import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import stripe

from sandbox import delivery
from sandbox.models import Delivery, DeliveryAttempt
from tests.sandbox import webhook_urls
from tests.sandbox.conftest import pay

pytestmark = pytest.mark.urls("tests.sandbox.webhook_urls")


@pytest.fixture(autouse=True)
def _clean_receiver():
    webhook_urls.RECEIVED.clear()
    webhook_urls.SECRETS.clear()
    yield


def endpoint(client, name, events=("*",)):
    created = client.v1.webhook_endpoints.create(
        params={"url": f"http://127.0.0.1:8000/hooks/{name}/", "enabled_events": list(events)}
    )
    webhook_urls.SECRETS[name] = created.secret
    return created


def test_it_returns_the_signing_secret_only_on_create(client):
    created = endpoint(client, "ok")
    assert created.id.startswith("we_") and created.secret.startswith("whsec_")
    assert created.status == "enabled"
    fetched = client.v1.webhook_endpoints.retrieve(created.id)
    assert "secret" not in fetched
    assert [item.id for item in client.v1.webhook_endpoints.list().data] == [created.id]


def test_it_delivers_signed_events_in_process_to_the_receiving_view(client):
    endpoint(client, "ok")
    customer = client.v1.customers.create(params={"name": "Jenny"})
    assert delivery.deliver_pending() == 1
    assert [(item["name"], item["type"]) for item in webhook_urls.RECEIVED] == [
        ("ok", "customer.created")
    ]
    event = client.v1.events.retrieve(webhook_urls.RECEIVED[0]["id"])
    assert event.data.object.id == customer.id
    assert event.pending_webhooks == 0
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code == 200 and attempt.response_body == "ok"


def test_it_only_sends_the_enabled_event_types(client):
    endpoint(client, "ok", events=["payment_intent.succeeded"])
    pay(client)
    delivery.deliver_pending()
    assert [item["type"] for item in webhook_urls.RECEIVED] == ["payment_intent.succeeded"]


def test_a_receiver_with_the_wrong_secret_refuses_and_the_delivery_is_retried(client):
    endpoint(client, "ok")
    webhook_urls.SECRETS["ok"] = "whsec_wrong"
    client.v1.customers.create(params={"name": "Jenny"})
    delivery.deliver_pending()
    queued = Delivery.objects.get()
    assert queued.status == Delivery.Status.PENDING and queued.attempts == 1
    assert DeliveryAttempt.objects.get().status_code == 400
    # Not due again until its backoff has passed.
    assert delivery.deliver_pending() == 0


def test_a_failing_receiver_is_recorded_and_retried_later(client):
    endpoint(client, "broken")
    client.v1.customers.create(params={"name": "Jenny"})
    delivery.deliver_pending()
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code == 500 and attempt.response_body == "boom"
    queued = Delivery.objects.get()
    assert queued.next_attempt_at > attempt.created


def test_disabled_and_deleted_endpoints_get_nothing(client):
    disabled = endpoint(client, "ok")
    client.v1.webhook_endpoints.update(disabled.id, params={"disabled": True})
    deleted = endpoint(client, "other")
    assert client.v1.webhook_endpoints.delete(deleted.id).deleted is True
    client.v1.customers.create(params={"name": "Jenny"})
    assert delivery.deliver_pending() == 0


def test_it_delivers_automatically_after_the_request_commits(
    client, django_capture_on_commit_callbacks
):
    endpoint(client, "ok")
    with django_capture_on_commit_callbacks(execute=True):
        client.v1.customers.create(params={"name": "Jenny"})
    assert [item["type"] for item in webhook_urls.RECEIVED] == ["customer.created"]


def test_it_records_previous_attributes_on_updates(client, customer):
    client.v1.customers.update(customer.id, params={"name": "Jenny R."})
    event = client.v1.events.list(params={"type": "customer.updated"}).data[0]
    assert event.data.previous_attributes.name == "Jenny Rosen"
    assert event.data.object.name == "Jenny R."
    assert event.request.id.startswith("req_")
    assert event.api_version == stripe.api_version


def test_it_delivers_over_http_to_other_urls(client, settings):
    settings.SANDBOX_DELIVER_IN_PROCESS = False
    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            event = stripe.Webhook.construct_event(
                body, self.headers["Stripe-Signature"], received_secret[0]
            )
            received.append(event.type)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"thanks")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        created = client.v1.webhook_endpoints.create(
            params={
                "url": f"http://127.0.0.1:{server.server_port}/stripe",
                "enabled_events": ["customer.created"],
            }
        )
        received_secret = [created.secret]
        client.v1.customers.create(params={"name": "Jenny"})
        delivery.deliver_pending()
    finally:
        server.shutdown()
    assert received == ["customer.created"]
    assert DeliveryAttempt.objects.get().response_body == "thanks"


def test_the_signature_header_verifies_with_the_sdk():
    payload = json.dumps({"id": "evt_1", "object": "event"})
    header = delivery.signature_header(payload, "whsec_test")
    assert stripe.WebhookSignature.verify_header(payload, header, "whsec_test", tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(payload, header, "whsec_other", tolerance=300)
