import pytest
import stripe

from sandbox import services
from tests.sandbox.conftest import pay


def test_it_charges_a_test_card_and_records_the_charge_and_its_fee(client):
    intent = pay(client, amount=2000)
    assert intent.status == "succeeded"
    assert intent.amount_received == 2000
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.status == "succeeded" and charge.paid and charge.captured
    assert charge.payment_intent == intent.id
    assert charge.outcome.type == "authorized"
    assert charge.outcome.network_status == "approved_by_network"
    assert charge.payment_method_details.card.last4 == "4242"
    transaction = client.v1.balance_transactions.retrieve(charge.balance_transaction)
    # 2.9% of $20.00 is 58¢, plus 30¢.
    assert (transaction.amount, transaction.fee, transaction.net) == (2000, 88, 1912)
    assert transaction.fee_details[0].type == "stripe_fee"
    assert transaction.type == "charge" and transaction.reporting_category == "charge"
    assert transaction.status == "pending"
    assert transaction.available_on == transaction.created + 2 * 86400
    assert transaction.source == charge.id


def test_it_creates_then_confirms_in_two_steps(client):
    intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "payment_method_types": ["card"]}
    )
    assert intent.status == "requires_payment_method"
    assert intent.client_secret.startswith(intent.id + "_secret_")
    intent = client.v1.payment_intents.update(intent.id, params={"payment_method": "pm_card_visa"})
    assert intent.status == "requires_confirmation"
    confirmed = client.v1.payment_intents.confirm(intent.id)
    assert confirmed.status == "succeeded"


@pytest.mark.parametrize(
    ("payment_method", "decline_code", "code"),
    [
        ("pm_card_chargeDeclined", "generic_decline", "card_declined"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds", "card_declined"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
    ],
)
def test_it_declines_with_stripes_card_error(client, payment_method, decline_code, code):
    with pytest.raises(stripe.CardError) as caught:
        pay(client, payment_method=payment_method)
    error = caught.value
    assert error.http_status == 402
    assert error.code == code
    assert error.error.decline_code == decline_code
    intent = error.error.payment_intent
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.decline_code == decline_code
    stored = client.v1.payment_intents.retrieve(intent.id)
    assert stored.status == "requires_payment_method"
    failed = client.v1.charges.retrieve(stored.latest_charge)
    assert failed.status == "failed" and failed.balance_transaction is None
    assert failed.outcome.reason == decline_code
    assert failed.failure_code == code


def test_it_declines_the_insufficient_funds_card_number(client):
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4000000000009995", "exp_month": 1, "exp_year": 2040},
        }
    )
    with pytest.raises(stripe.CardError) as caught:
        pay(client, payment_method=method.id)
    assert caught.value.error.decline_code == "insufficient_funds"


def test_it_asks_for_3d_secure_with_the_3ds_test_card(client, key):
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4000002500003155", "exp_month": 1, "exp_year": 2040},
        }
    )
    intent = pay(client, payment_method=method.id)
    assert intent.status == "requires_action"
    assert intent.next_action.type == "use_stripe_sdk"
    assert intent.latest_charge is None
    completed = services.three_d_secure_complete(token_or_account=key, payment_intent=intent.id)
    assert completed["status"] == "succeeded"
    assert client.v1.payment_intents.retrieve(intent.id).latest_charge


def test_it_fails_3d_secure_off_session_with_authentication_required(client, customer):
    method = client.v1.payment_methods.attach(
        "pm_card_authenticationRequired", params={"customer": customer.id}
    )
    with pytest.raises(stripe.CardError) as caught:
        pay(client, payment_method=method.id, customer=customer.id, off_session=True)
    assert caught.value.code == "authentication_required"


def test_it_charges_a_saved_card_off_session(client, customer):
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    intent = pay(client, payment_method=method.id, customer=customer.id, off_session=True)
    assert intent.status == "succeeded"
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.customer == customer.id


def test_it_captures_part_of_a_manual_capture_payment(client):
    intent = pay(client, amount=5000, capture_method="manual")
    assert intent.status == "requires_capture"
    assert intent.amount_capturable == 5000
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.captured is False and charge.balance_transaction is None
    captured = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 3000})
    assert captured.status == "succeeded" and captured.amount_received == 3000
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.captured and charge.amount_captured == 3000
    assert charge.amount_refunded == 2000
    transaction = client.v1.balance_transactions.retrieve(charge.balance_transaction)
    assert transaction.amount == 3000 and transaction.fee == 117


def test_it_refuses_to_capture_more_than_capturable(client):
    intent = pay(client, amount=1000, capture_method="manual")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 1001})
    assert caught.value.param == "amount_to_capture"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"


def test_it_refuses_to_capture_a_succeeded_intent(client):
    intent = pay(client)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.capture(intent.id)
    assert caught.value.code == "payment_intent_unexpected_state"


def test_it_cancels_an_uncaptured_intent_and_releases_the_charge(client):
    intent = pay(client, capture_method="manual")
    canceled = client.v1.payment_intents.cancel(
        intent.id, params={"cancellation_reason": "requested_by_customer"}
    )
    assert canceled.status == "canceled" and canceled.canceled_at
    assert canceled.cancellation_reason == "requested_by_customer"
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.refunded is True


def test_it_refuses_to_cancel_a_succeeded_intent(client):
    intent = pay(client)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.cancel(intent.id)


def test_it_refuses_an_amount_below_the_minimum(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        pay(client, amount=10)
    assert caught.value.param == "amount"
    assert caught.value.code == "amount_too_small"


def test_it_requires_the_currency(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(params={"amount": 1000})
    assert caught.value.param == "currency"
    assert caught.value.code == "parameter_missing"


def test_it_lists_charges_and_intents_of_a_customer(client, customer):
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    mine = pay(client, payment_method=method.id, customer=customer.id)
    pay(client)
    charges = client.v1.charges.list(params={"customer": customer.id})
    assert [item.payment_intent for item in charges.data] == [mine.id]
    intents = client.v1.payment_intents.list(params={"customer": customer.id})
    assert [item.id for item in intents.data] == [mine.id]
