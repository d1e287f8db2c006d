"""Service behaviour that the sandbox and localstripe cannot show."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import stripe as stripe_sdk
from django_scopes import scope

from payments import services
from payments.mirroring import Source, store_customer
from payments.models import PaymentMethod
from payments.services import PaymentError
from tests.payments import stripe_objects as so
from tests.payments.stripe_objects import at
from workbench import client as workbench_client

pytestmark = pytest.mark.django_db


class RecordingStripe:
    """Answers the two calls of a token attach and remembers what was sent."""

    def __init__(self):
        self.calls = []
        self.v1 = SimpleNamespace(
            payment_methods=SimpleNamespace(create=self.create, attach=self.attach)
        )

    def create(self, params, options):
        self.calls.append(("create", params, options))
        return stripe_sdk.PaymentMethod.construct_from(
            so.payment_method(id="pm_from_token"), "sk_test_recording"
        )

    def attach(self, payment_method, params, options):
        self.calls.append(("attach", payment_method, params, options))
        return stripe_sdk.PaymentMethod.construct_from(
            so.payment_method(id=payment_method, customer=params["customer"]),
            "sk_test_recording",
        )


@pytest.fixture
def customer(acme):
    with scope(account=acme):
        return store_customer(Source(account=acme, livemode=False, time=at(0)), so.customer())


def test_a_card_token_becomes_a_payment_method_then_is_attached(
    acme, owner_user, customer, monkeypatch
):
    stripe = RecordingStripe()
    monkeypatch.setattr(workbench_client, "stripe_client", lambda **kwargs: stripe)

    method = services.payment_method_attach(
        account=acme,
        livemode=False,
        customer=customer,
        payment_method="tok_visa",
        actor=owner_user,
        idempotency_key="form-1",
    )

    (_, create_params, create_options), (_, attached, attach_params, attach_options) = stripe.calls
    assert create_params == {"type": "card", "card": {"token": "tok_visa"}}
    assert (attached, attach_params) == ("pm_from_token", {"customer": "cus_1"})
    # Two different requests, each with its own key derived from the caller's.
    assert create_options["idempotency_key"] == "form-1-create"
    assert attach_options["idempotency_key"] == "form-1"
    with scope(account=acme):
        assert PaymentMethod.objects.get() == method
        assert method.customer == customer


def test_only_payment_method_ids_and_tokens_are_accepted(acme, owner_user, customer):
    with pytest.raises(PaymentError, match="pm_"):
        services.payment_method_attach(
            account=acme,
            livemode=False,
            customer=customer,
            payment_method="4242424242424242",
            actor=owner_user,
        )


def test_an_account_without_stripe_gets_a_clear_error(acme, owner_user, customer):
    with pytest.raises(PaymentError) as refused:
        services.payment_charge_saved_card(
            account=acme,
            livemode=False,
            customer=customer,
            payment_method="pm_1",
            amount=100,
            currency="usd",
            actor=owner_user,
        )
    assert refused.value.code == "not_connected"


@pytest.mark.parametrize("amount", [0, -5, 9.99, True])
def test_a_charge_needs_a_positive_whole_amount(acme, owner_user, customer, amount):
    with pytest.raises(PaymentError, match="positive whole number"):
        services.payment_charge_saved_card(
            account=acme,
            livemode=False,
            customer=customer,
            payment_method="pm_1",
            amount=amount,
            currency="usd",
            actor=owner_user,
        )
