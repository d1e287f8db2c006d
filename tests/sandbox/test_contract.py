"""Each object kind the sandbox emits has every top-level key of Stripe's example object."""

import json
from pathlib import Path

import pytest

from sandbox import services
from tests.sandbox.conftest import pay

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "stripe" / "fixtures3.json"


@pytest.fixture(scope="module")
def examples():
    if not FIXTURES.exists():
        pytest.skip(f"Stripe's example objects are not at {FIXTURES}")
    return json.loads(FIXTURES.read_text())["resources"]


@pytest.fixture
def emitted(client, key, customer):
    objects = {"customer": customer}
    objects["deleted_customer"] = client.v1.customers.delete(
        client.v1.customers.create(params={"name": "gone"}).id
    )
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    objects["payment_method"] = method
    intent = pay(client, amount=5000, payment_method=method.id, customer=customer.id)
    objects["payment_intent"] = intent
    charge = client.v1.charges.retrieve(intent.latest_charge)
    objects["charge"] = charge
    objects["balance_transaction"] = client.v1.balance_transactions.retrieve(
        charge.balance_transaction
    )
    objects["refund"] = client.v1.refunds.create(params={"charge": charge.id, "amount": 100})
    objects["balance"] = client.v1.balance.retrieve()
    objects["topup"] = client.v1.topups.create(params={"amount": 100000, "currency": "usd"})
    account = services.resolve_account(key)
    from datetime import timedelta

    from sandbox import clock

    services.automatic_payouts_set(token_or_account=account, enabled=False)
    services.clock_advance(token_or_account=account, to=clock.now(account) + timedelta(days=3))
    objects["payout"] = client.v1.payouts.create(params={"amount": 1000, "currency": "usd"})
    disputed = pay(client, payment_method="pm_card_createDispute")
    objects["dispute"] = client.v1.disputes.list(params={"payment_intent": disputed.id}).data[0]
    product = client.v1.products.create(params={"name": "T-shirt"})
    objects["product"] = product
    objects["price"] = client.v1.prices.create(
        params={"product": product.id, "currency": "usd", "unit_amount": 100}
    )
    objects["deleted_product"] = client.v1.products.delete(
        client.v1.products.create(params={"name": "gone"}).id
    )
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": "https://example.com/hook", "enabled_events": ["*"]}
    )
    objects["webhook_endpoint"] = client.v1.webhook_endpoints.retrieve(endpoint.id)
    objects["deleted_webhook_endpoint"] = client.v1.webhook_endpoints.delete(endpoint.id)
    objects["event"] = client.v1.events.list().data[0]
    objects["account"] = client.v1.accounts.retrieve_current()
    return {name: obj.to_dict() for name, obj in objects.items()}


def test_every_emitted_object_has_the_keys_of_stripes_example(examples, emitted):
    missing = {
        kind: sorted(set(examples[kind]) - set(obj))
        for kind, obj in emitted.items()
        if set(examples[kind]) - set(obj)
    }
    assert missing == {}


def test_every_emitted_object_names_its_kind(examples, emitted):
    for kind, obj in emitted.items():
        assert obj["object"] == examples[kind]["object"], kind
