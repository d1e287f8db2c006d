import pytest
import stripe

from sandbox.models import StateObject
from tests.sandbox.conftest import pay


def test_it_refunds_part_then_the_rest_of_a_charge(client):
    intent = pay(client, amount=3000)
    first = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000})
    assert first.id.startswith("re_") and first.status == "succeeded"
    assert first.charge == intent.latest_charge
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.amount_refunded == 1000 and charge.refunded is False
    second = client.v1.refunds.create(params={"charge": charge.id})
    assert second.amount == 2000
    charge = client.v1.charges.retrieve(charge.id)
    assert charge.amount_refunded == 3000 and charge.refunded is True
    transaction = client.v1.balance_transactions.retrieve(second.balance_transaction)
    assert transaction.type == "refund" and transaction.amount == -2000
    assert transaction.reporting_category == "refund"
    listed = client.v1.refunds.list(params={"charge": charge.id})
    assert [item.id for item in listed.data] == [second.id, first.id]


def test_it_refuses_refunds_above_the_remaining_amount(client):
    intent = pay(client, amount=2145)
    client.v1.refunds.create(params={"charge": intent.latest_charge, "amount": 145})
    before = StateObject.objects.count()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"charge": intent.latest_charge, "amount": 2500})
    error = caught.value
    assert error.http_status == 400
    assert error.error.type == "invalid_request_error"
    assert error.param == "amount"
    assert error.code == "amount_too_large"
    assert error.user_message == (
        "Refund amount ($25.00) is greater than unrefunded amount on charge ($20.00)"
    )
    assert StateObject.objects.count() == before
    assert client.v1.charges.retrieve(intent.latest_charge).amount_refunded == 145


def test_it_refuses_to_refund_a_fully_refunded_charge(client):
    intent = pay(client)
    client.v1.refunds.create(params={"charge": intent.latest_charge})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"charge": intent.latest_charge})
    assert caught.value.code == "charge_already_refunded"
    assert caught.value.user_message == f"Charge {intent.latest_charge} has already been refunded."


def test_it_requires_a_charge_or_payment_intent(client):
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"amount": 100})


def test_it_updates_refund_metadata(client):
    intent = pay(client)
    refund = client.v1.refunds.create(params={"charge": intent.latest_charge, "amount": 100})
    updated = client.v1.refunds.update(refund.id, params={"metadata": {"ticket": "42"}})
    assert updated.metadata.ticket == "42"
