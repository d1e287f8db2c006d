"""API personas: `api` is a client holding a full-access test key of acme (connected to the
sandbox); `outsider_api` holds globex's. `key_for(...)` makes other keys."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django_scopes import scope

from payments import services
from tests.payments import sandbox_support
from workbench import api_keys
from workbench import services as workbench_services

# The sandbox fixtures of the payments tests, shared.
connected = sandbox_support.connected
sandbox_settings = sandbox_support.sandbox_settings
stripe = sandbox_support.stripe


class ApiClient:
    """A Django test client that sends the Bearer key and JSON bodies."""

    def __init__(self, secret: str):
        self.secret = secret
        self.key_hash = api_keys.key_hash(secret)
        self.client = Client()

    def _headers(self, headers):
        merged = {"Authorization": f"Bearer {self.secret}"} if self.secret else {}
        merged.update(headers or {})
        return merged

    def get(self, path, params=None, headers=None):
        return self.client.get(path, params or {}, headers=self._headers(headers))

    def post(self, path, body=None, headers=None):
        return self.client.post(
            path,
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=self._headers(headers),
        )

    def delete(self, path, headers=None):
        return self.client.delete(path, headers=self._headers(headers))


@pytest.fixture(autouse=True)
def api_settings(settings):
    # Generous so ordinary tests never meet the limit; the rate-limit test lowers it.
    settings.PAYDESK_API_RATE_LIMIT_READ = 1000
    settings.PAYDESK_API_RATE_LIMIT_WRITE = 1000
    return settings


@pytest.fixture
def key_for(owner_user):
    def make(account, *, permissions=None, livemode=False):
        with scope(account=account):
            return api_keys.api_key_create(
                account=account,
                livemode=livemode,
                name="Backend",
                actor=owner_user if account.slug == "acme" else None,
                permissions=permissions,
            )

    return make


@pytest.fixture
def acme_key(connected, acme, key_for):
    return key_for(acme)


@pytest.fixture
def api(acme_key) -> ApiClient:
    return ApiClient(acme_key[1])


@pytest.fixture
def globex_connected(globex, outsider_user, sandbox_settings):
    with scope(account=globex):
        return workbench_services.connect_sandbox(account=globex, actor=outsider_user)


@pytest.fixture
def outsider_api(globex, globex_connected, key_for) -> ApiClient:
    return ApiClient(key_for(globex)[1])


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"type", "code", "message", "param"}, body
    return body["error"]


@pytest.fixture
def customer(connected, acme, owner_user):
    return services.customer_create(
        account=acme, livemode=False, email="jenny@example.com", name="Jenny", actor=owner_user
    )


@pytest.fixture
def card(customer, acme, owner_user):
    return services.payment_method_attach(
        account=acme,
        livemode=False,
        customer=customer,
        payment_method="pm_card_visa",
        make_default=True,
        actor=owner_user,
    )


@pytest.fixture
def globex_customer(globex_connected, globex, outsider_user):
    return services.customer_create(
        account=globex, livemode=False, email="hans@example.de", actor=outsider_user
    )
