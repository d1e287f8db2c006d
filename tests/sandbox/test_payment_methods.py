import pytest
import stripe

from sandbox.models import IdempotencyRecord, StateObject


def card(number="4242424242424242", exp_year=2034):
    return {
        "type": "card",
        "card": {"number": number, "exp_month": 8, "exp_year": exp_year, "cvc": "123"},
    }


def test_it_creates_a_card_with_brand_last4_and_fingerprint(client):
    method = client.v1.payment_methods.create(params=card())
    assert method.id.startswith("pm_")
    assert method.card.brand == "visa"
    assert method.card.last4 == "4242"
    assert method.card.exp_month == 8 and method.card.exp_year == 2034
    assert method.card.country == "US"
    assert len(method.card.fingerprint) == 16
    again = client.v1.payment_methods.create(params=card())
    assert again.card.fingerprint == method.card.fingerprint


def test_it_tells_brands_apart(client):
    assert (
        client.v1.payment_methods.create(params=card("5555555555554444")).card.brand == "mastercard"
    )
    assert client.v1.payment_methods.create(params=card("378282246310005")).card.brand == "amex"


def test_it_never_stores_the_card_number(client):
    client.v1.payment_methods.create(params=card("4000000000009995"))
    client.v1.payment_methods.create(params=card(), options={"idempotency_key": "card-key"})
    for row in StateObject.objects.all():
        assert "4000000000009995" not in str(row.data) + str(row.hidden)
        assert "4242424242424242" not in str(row.data) + str(row.hidden)
    for record in IdempotencyRecord.objects.all():
        assert "4242424242424242" not in record.body + record.fingerprint


def test_it_refuses_a_number_that_fails_the_luhn_check(client):
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_methods.create(params=card("4242424242424241"))
    assert caught.value.code == "incorrect_number"
    assert caught.value.param == "card[number]"
    assert caught.value.http_status == 402


def test_it_refuses_an_expired_card(client):
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_methods.create(params=card(exp_year=2001))
    assert caught.value.code == "invalid_expiry_year"


def test_it_attaches_and_detaches(client, customer):
    method = client.v1.payment_methods.create(params=card())
    attached = client.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    assert attached.customer == customer.id
    listed = client.v1.customers.payment_methods.list(customer.id)
    assert [item.id for item in listed.data] == [method.id]
    detached = client.v1.payment_methods.detach(method.id)
    assert detached.customer is None
    assert client.v1.customers.payment_methods.list(customer.id).data == []


def test_it_turns_a_test_id_into_a_new_payment_method_on_attach(client, customer):
    attached = client.v1.payment_methods.attach(
        "pm_card_mastercard", params={"customer": customer.id}
    )
    assert attached.id.startswith("pm_") and attached.id != "pm_card_mastercard"
    assert attached.card.brand == "mastercard"
    assert attached.card.last4 == "4444"


def test_it_declines_attaching_a_card_that_is_always_declined(client, customer):
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_methods.attach("pm_card_chargeDeclined", params={"customer": customer.id})
    assert caught.value.code == "card_declined"
    assert caught.value.error.decline_code == "generic_decline"


def test_it_refuses_to_detach_a_payment_method_that_is_not_attached(client):
    method = client.v1.payment_methods.create(params=card())
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.detach(method.id)
