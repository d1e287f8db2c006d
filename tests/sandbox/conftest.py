from __future__ import annotations

import secrets

import pytest
import stripe

from sandbox.client import SandboxHTTPClient


def sandbox_key(mode: str = "test", token: str | None = None) -> str:
    return f"sk_{mode}_sbx_{token or secrets.token_hex(6)}"


def make_client(key: str, **options) -> stripe.StripeClient:
    return stripe.StripeClient(key, http_client=SandboxHTTPClient(), **options)


@pytest.fixture
def key(db) -> str:
    return sandbox_key()


@pytest.fixture
def client(key) -> stripe.StripeClient:
    return make_client(key)


@pytest.fixture
def customer(client):
    return client.v1.customers.create(params={"email": "jenny@example.com", "name": "Jenny Rosen"})


def pay(client, amount=2000, payment_method="pm_card_visa", **params):
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": payment_method,
            "payment_method_types": ["card"],
            "confirm": True,
            **params,
        }
    )
