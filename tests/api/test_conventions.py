"""Stripe's conventions, across endpoints: idempotency, the rate limit, error objects for
what DRF and Django would otherwise answer themselves, the incoming request log, and the
schema and docs pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from payments.models import Customer, PaymentIntent
from tests.api.conftest import error_of
from workbench import api_keys
from workbench.models import ApiIdempotencyRecord, ApiIncomingLog

pytestmark = pytest.mark.django_db


def customers_in(account):
    with scope(account=account):
        return Customer.objects.count()


# --- Idempotency ------------------------------------------------------------------------


def test_the_same_key_and_body_replay_the_first_answer(api, acme):
    headers = {"Idempotency-Key": "order-42"}
    first = api.post("/api/v1/customers", {"email": "a@example.com"}, headers=headers)
    again = api.post("/api/v1/customers", {"email": "a@example.com"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert customers_in(acme) == 1


def test_a_replayed_charge_charges_once(api, acme, customer, card):
    body = {"customer": customer.stripe_id, "amount": 1000, "currency": "usd"}
    headers = {"Idempotency-Key": "charge-1"}
    first = api.post("/api/v1/payment_intents", body, headers=headers).json()
    again = api.post("/api/v1/payment_intents", body, headers=headers).json()
    assert again["id"] == first["id"]
    with scope(account=acme):
        assert PaymentIntent.objects.count() == 1


def test_the_same_key_with_another_body_is_an_idempotency_error(api, acme):
    headers = {"Idempotency-Key": "order-43"}
    api.post("/api/v1/customers", {"email": "a@example.com"}, headers=headers)
    other = api.post("/api/v1/customers", {"email": "b@example.com"}, headers=headers)
    assert other.status_code == 400
    assert error_of(other)["type"] == "idempotency_error"
    elsewhere = api.post(
        f"/api/v1/customers/{'cus_x'}", {"email": "a@example.com"}, headers=headers
    )
    assert error_of(elsewhere)["type"] == "idempotency_error"
    assert customers_in(acme) == 1


def test_keys_are_per_api_key_and_forgotten_after_24_hours(api, acme, key_for, connected):
    from tests.api.conftest import ApiClient

    headers = {"Idempotency-Key": "shared"}
    api.post("/api/v1/customers", {"email": "a@example.com"}, headers=headers)
    other_key = ApiClient(key_for(acme)[1])
    second = other_key.post("/api/v1/customers", {"email": "a@example.com"}, headers=headers)
    assert "Idempotent-Replayed" not in second
    assert customers_in(acme) == 2

    with scope(account=acme):
        ApiIdempotencyRecord.objects.update(created=timezone.now() - timedelta(hours=25))
    later = api.post("/api/v1/customers", {"email": "a@example.com"}, headers=headers)
    assert "Idempotent-Replayed" not in later
    with scope(account=acme):
        record = ApiIdempotencyRecord.objects.get(api_key__key_hash=api.key_hash, key="shared")
    assert timezone.now() - record.created < timedelta(minutes=1)


@pytest.mark.parametrize("key", ["x" * 256, "clé-unicode", "tab\tinside"])
def test_an_unusable_idempotency_key_is_refused(api, acme, key):
    response = api.post("/api/v1/customers", {}, headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert error_of(response)["code"] == "idempotency_key_invalid"
    assert customers_in(acme) == 0


def test_an_errored_request_replays_its_error(api, acme):
    headers = {"Idempotency-Key": "bad-1"}
    first = api.post("/api/v1/customers", {"emial": "x"}, headers=headers)
    again = api.post("/api/v1/customers", {"emial": "x"}, headers=headers)
    assert first.status_code == again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"


def test_a_request_still_running_is_a_409(api, acme, acme_key):
    with scope(account=acme):
        ApiIdempotencyRecord.objects.create(
            account=acme,
            api_key=acme_key[0],
            key="busy",
            fingerprint=api_keys.request_fingerprint(
                method="POST", path="/api/v1/customers", body=b"{}"
            ),
        )
    response = api.post("/api/v1/customers", {}, headers={"Idempotency-Key": "busy"})
    assert response.status_code == 409
    assert error_of(response)["code"] == "idempotency_key_in_progress"
    assert customers_in(acme) == 0

    # A "running" request that lost its process long ago no longer blocks a retry.
    with scope(account=acme):
        ApiIdempotencyRecord.objects.update(created=timezone.now() - timedelta(minutes=10))
    assert api.post("/api/v1/customers", {}, headers={"Idempotency-Key": "busy"}).status_code == 200
    assert customers_in(acme) == 1


# --- Rate limit -------------------------------------------------------------------------


@pytest.fixture
def long_window(api_settings):
    """A minute-long window, so the count cannot straddle a second on a slow machine."""
    api_settings.PAYDESK_API_RATE_LIMIT_WINDOW_SECONDS = 60
    return api_settings


def test_too_many_requests_get_429_with_retry_after(api, acme, long_window):
    long_window.PAYDESK_API_RATE_LIMIT_READ = 3
    statuses = [api.get("/api/v1/customers").status_code for _ in range(3)]
    response = api.get("/api/v1/customers")
    assert statuses == [200, 200, 200]
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert error_of(response) == {
        "type": "rate_limit_error",
        "code": "rate_limit",
        "message": "Too many requests hit the API too quickly. Retry after the Retry-After "
        "seconds.",
        "param": None,
    }


def test_writes_have_their_own_lower_limit(api, acme, long_window):
    long_window.PAYDESK_API_RATE_LIMIT_WRITE = 1
    assert api.post("/api/v1/customers", {}).status_code == 200
    assert api.post("/api/v1/customers", {}).status_code == 429
    assert api.get("/api/v1/customers").status_code == 200


def test_the_limit_is_per_second_by_default(acme_key, api_settings):
    api_settings.PAYDESK_API_RATE_LIMIT_WRITE = 1
    key = acme_key[0]
    assert api_keys.rate_limit_hit(api_key=key, write=True, now=1000.2) == 0
    assert api_keys.rate_limit_hit(api_key=key, write=True, now=1000.9) == 1
    assert api_keys.rate_limit_hit(api_key=key, write=False, now=1000.9) == 0
    assert api_keys.rate_limit_hit(api_key=key, write=True, now=1001.1) == 0


# --- Errors DRF and Django would answer their own way -----------------------------------


def test_a_wrong_method_is_a_405_error_object(api):
    response = api.client.put(
        "/api/v1/customers",
        "{}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.secret}"},
    )
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_an_unknown_url_is_a_404_error_object(api):
    response = api.get("/api/v1/charges_everything")
    assert response.status_code == 404
    assert error_of(response)["message"].startswith("Unrecognized request URL")


def test_invalid_json_is_a_400(api):
    response = api.client.post(
        "/api/v1/customers",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.secret}"},
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "parameter_invalid"


def test_responses_are_json_whatever_the_accept_header(api):
    response = api.get("/api/v1/customers", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_team_sessions_do_not_open_the_api(owner, connected):
    response = owner.get("/api/v1/customers")
    assert response.status_code == 401


# --- Incoming request log ---------------------------------------------------------------


def test_each_request_is_logged_without_secrets_or_bodies(api, acme, acme_key, customer):
    api.get(f"/api/v1/customers/{customer.stripe_id}")
    api.post(
        "/api/v1/customers", {"email": "secret-body@example.com"}, headers={"Idempotency-Key": "k1"}
    )
    api.get("/api/v1/customers/cus_missing")

    with scope(account=acme):
        logs = list(ApiIncomingLog.objects.order_by("created", "id"))
    assert [(log.method, log.endpoint, log.status) for log in logs] == [
        ("GET", "/api/v1/customers/{customer_id}", 200),
        ("POST", "/api/v1/customers", 200),
        ("GET", "/api/v1/customers/{customer_id}", 404),
    ]
    assert logs[1].idempotency_key == "k1"
    assert logs[2].error_code == "resource_missing"
    assert all(log.key_hint == acme_key[0].hint and log.livemode is False for log in logs)
    assert all(re.fullmatch(r"req_[\w-]+", log.request_id) for log in logs)
    flattened = " ".join(str(vars(log)) for log in logs)
    assert acme_key[1] not in flattened and "secret-body" not in flattened


def test_the_response_names_its_request_id(api, acme):
    response = api.get("/api/v1/balance")
    with scope(account=acme):
        assert ApiIncomingLog.objects.get().request_id == response["Request-Id"]


# --- Schema and docs --------------------------------------------------------------------


def test_the_schema_describes_the_api(client):
    schema = client.get("/api/schema/?format=json").json()
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["ApiKey"]["description"],
    }
    create = schema["paths"]["/api/v1/payment_intents"]["post"]
    assert {"401", "402", "404", "429"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    body = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/PaymentIntentInRequest")
    listing = schema["paths"]["/api/v1/customers"]["get"]
    assert {"limit", "starting_after", "ending_before"} <= {
        p["name"] for p in listing["parameters"]
    }


def test_the_docs_load_vendored_assets_only(client):
    page = client.get("/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(source.startswith("/static/") for source in sources)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in sources


def test_the_api_keeps_answering_when_redis_is_down(api, monkeypatch):
    import redis

    from workbench import api_keys as keys_module

    class BrokenPipeline:
        def incr(self, name):
            return self

        def expire(self, name, seconds):
            return self

        def execute(self):
            raise redis.ConnectionError("Redis is down")

    class BrokenRedis:
        def pipeline(self):
            return BrokenPipeline()

    monkeypatch.setattr(keys_module, "_redis", BrokenRedis)
    assert api.get("/api/v1/customers").status_code == 200
