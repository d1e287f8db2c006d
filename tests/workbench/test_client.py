from __future__ import annotations

import json

import pytest
import stripe
from django_scopes import scope

from workbench.client import LoggingHTTPClient, StripeNotConnected, redact_params, stripe_client
from workbench.models import ApiRequestLog, StripeConnection

pytestmark = pytest.mark.django_db

TEST_KEY = "sk_test_51ABCsecretvalue9876"
CARD = {"number": "4242424242424242", "cvc": "123", "exp_month": 12, "exp_year": 2030}


@pytest.fixture
def connected(acme):
    with scope(account=acme):
        return StripeConnection.objects.create(
            account=acme, mode="stripe", test_secret_key=TEST_KEY, stripe_account_id="acct_1"
        )


@pytest.fixture(autouse=True)
def no_backoff_sleep(monkeypatch):
    monkeypatch.setattr(LoggingHTTPClient, "_sleep_time_seconds", lambda self, n: 0)


def logs(account):
    with scope(account=account):
        return list(ApiRequestLog.objects.order_by("id"))


def test_it_logs_a_request_without_the_key(acme, connected, fake_stripe):
    account = stripe_client(account=acme, livemode=False).v1.accounts.retrieve_current()

    assert account.id.startswith("acct_")
    [log] = logs(acme)
    assert (log.method, log.path, log.status, log.livemode) == ("GET", "/v1/account", 200, False)
    assert log.request_id == "req_1"
    assert log.duration_ms >= 0
    stored = json.dumps([log.params, log.error_message, log.path, log.idempotency_key])
    assert TEST_KEY not in stored and "Bearer" not in stored
    [sent] = fake_stripe.requests
    assert sent["headers"]["Authorization"] == f"Bearer {TEST_KEY}"
    assert sent["headers"]["Stripe-Version"] == stripe.api_version


def test_card_data_never_reaches_the_log(acme, connected, fake_stripe):
    fake_stripe.queue(200, {"id": "pm_1", "object": "payment_method", "type": "card"})

    stripe_client(account=acme, livemode=False).v1.payment_methods.create(
        params={"type": "card", "card": CARD, "metadata": {"order": "A-17"}}
    )

    [log] = logs(acme)
    assert log.params["type"] == "card"
    assert log.params["metadata[order]"] == "A-17"
    assert log.params["card[number]"] == log.params["card[cvc]"] == "[redacted]"
    assert "4242424242424242" not in json.dumps(log.params)


def test_a_card_number_under_an_innocent_name_is_redacted_too():
    params = redact_params("description=paid+with+4242+4242+4242+4242&amount=500")

    assert params == {"description": "[redacted]", "amount": "500"}


def test_every_post_gets_an_idempotency_key(acme, connected, fake_stripe):
    fake_stripe.queue(200, {"id": "cus_1", "object": "customer"})
    fake_stripe.queue(200, {"id": "cus_2", "object": "customer"})
    client = stripe_client(account=acme, livemode=False)

    client.v1.customers.create(params={"email": "a@example.com"})
    client.v1.customers.create(
        params={"email": "b@example.com"}, options={"idempotency_key": "order-42"}
    )

    first, second = logs(acme)
    assert first.idempotency_key and first.idempotency_key != "order-42"
    assert second.idempotency_key == "order-42"
    assert fake_stripe.requests[1]["headers"]["Idempotency-Key"] == "order-42"


def test_a_429_is_retried_with_the_same_idempotency_key(acme, connected, fake_stripe):
    rate_limited = {"error": {"type": "invalid_request_error", "code": "rate_limit"}}
    fake_stripe.queue(429, rate_limited)
    fake_stripe.queue(200, {"id": "cus_1", "object": "customer"})

    customer = stripe_client(account=acme, livemode=False).v1.customers.create(
        params={"email": "a@example.com"}
    )

    assert customer.id == "cus_1"
    first, second = logs(acme)
    assert (first.status, first.error_code, second.status) == (429, "rate_limit", 200)
    assert first.idempotency_key == second.idempotency_key


def test_network_errors_are_retried_then_raised(acme, connected, fake_stripe):
    for _ in range(3):
        fake_stripe.queue_network_error()

    with pytest.raises(stripe.APIConnectionError):
        stripe_client(account=acme, livemode=False).v1.customers.retrieve("cus_1")

    assert [(log.status, log.error_type) for log in logs(acme)] == [
        (None, "api_connection_error")
    ] * 3  # the first attempt and two retries


def test_errors_are_logged_with_type_code_and_message(acme, connected, fake_stripe):
    error = {"type": "card_error", "code": "card_declined", "message": "Your card was declined."}
    fake_stripe.queue(402, {"error": error})

    with pytest.raises(stripe.CardError):
        stripe_client(account=acme, livemode=False).v1.payment_intents.create(
            params={"amount": 500, "currency": "usd", "confirm": True}
        )

    [log] = logs(acme)
    assert (log.status, log.error_type, log.error_code) == (402, "card_error", "card_declined")
    assert log.error_message == "Your card was declined."


def test_the_connected_account_header_is_logged(acme, connected, fake_stripe):
    fake_stripe.queue(200, {"id": "cus_1", "object": "customer"})

    stripe_client(account=acme, livemode=False).v1.customers.retrieve(
        "cus_1", options={"stripe_account": "acct_connected"}
    )

    assert logs(acme)[0].stripe_account == "acct_connected"


def test_it_refuses_without_a_connection_or_a_key_for_the_mode(acme, globex, connected):
    with pytest.raises(StripeNotConnected):
        stripe_client(account=globex, livemode=False)
    with pytest.raises(StripeNotConnected, match="live"):
        stripe_client(account=acme, livemode=True)


def test_a_sandbox_connection_uses_the_sandbox_client(acme, settings, fake_stripe):
    settings.PAYDESK_STRIPE_HTTP_CLIENT = "tests.workbench.test_client.Unreachable"
    with scope(account=acme):
        StripeConnection.objects.create(
            account=acme, mode="sandbox", live_secret_key="sk_live_sbx_0123456789abcdef"
        )

    stripe_client(account=acme, livemode=True).v1.accounts.retrieve_current()

    assert len(fake_stripe.requests) == 1
    assert logs(acme)[0].livemode is True


class Unreachable(stripe.HTTPClient):
    name = "unreachable"

    def request(self, *args, **kwargs):
        raise AssertionError("a sandbox connection must not use the Stripe client")


def test_a_post_without_a_key_gets_one_that_survives_retries(acme, fake_stripe):
    fake_stripe.queue(429, {"error": {"type": "invalid_request_error"}})
    fake_stripe.queue(200, {"id": "cus_1"})
    http = LoggingHTTPClient(fake_stripe(), account=acme, livemode=False)

    body, status, _ = http.request_with_retries(
        "post", "https://api.stripe.com/v1/customers", {}, "email=a%40example.com", 2
    )

    assert status == 200
    keys = [request["headers"].get("Idempotency-Key") for request in fake_stripe.requests]
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
