"""Connect in the sandbox, through the real SDK: accounts and their onboarding states,
links, acting as a connected account, destination/direct/separate charges, transfers and
reversals, application fees and their refunds, and the events they send."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import stripe

from sandbox import clock, services
from sandbox.models import StateObject
from tests.sandbox.conftest import pay

CAPABILITIES = {"card_payments": {"requested": True}, "transfers": {"requested": True}}


def new_account(client, **params):
    return client.v1.accounts.create(
        params={"type": "express", "country": "US", "capabilities": CAPABILITIES, **params}
    )


def enabled_account(client, key, **params):
    account = new_account(client, **params)
    services.connect_account_state(token_or_account=key, account=account.id, state="enabled")
    return client.v1.accounts.retrieve(account.id)


def as_account(account):
    return {"stripe_account": account.id}


def amounts(balance, kind):
    return {entry.currency: entry.amount for entry in getattr(balance, kind)}


def total(balance):
    pending, available = amounts(balance, "pending"), amounts(balance, "available")
    return {currency: pending[currency] + available[currency] for currency in pending}


def event_types(key, **filters):
    account = services.resolve_account(key)
    return list(
        StateObject.objects.filter(account=account, object_type="event", **filters)
        .order_by("id")
        .values_list("type", flat=True)
    )


def advance(key, **delta):
    account = services.resolve_account(key)
    services.clock_advance(token_or_account=account, to=clock.now(account) + timedelta(**delta))


def test_a_new_express_account_has_requirements_due_and_nothing_enabled(client):
    account = new_account(client, email="seller@example.com")
    assert account.id.startswith("acct_") and account.type == "express"
    assert account.charges_enabled is False and account.payouts_enabled is False
    assert account.details_submitted is False
    assert "external_account" in account.requirements.currently_due
    assert account.requirements.disabled_reason == "requirements.past_due"
    assert account.capabilities.to_dict() == {"card_payments": "inactive", "transfers": "inactive"}
    assert account.settings.payouts.schedule.interval == "daily"


def test_a_standard_account_authorizes_the_platforms_application(client, key):
    account = client.v1.accounts.create(params={"type": "standard"})
    assert account.capabilities.to_dict() == {"card_payments": "inactive", "transfers": "inactive"}
    assert event_types(key, stripe_account=account.id) == [
        "account.updated",
        "account.application.authorized",
    ]


def test_it_refuses_an_unknown_type_and_express_without_capabilities(client):
    with pytest.raises(stripe.InvalidRequestError, match="Invalid type"):
        client.v1.accounts.create(params={"type": "premium"})
    with pytest.raises(stripe.InvalidRequestError, match="capability"):
        client.v1.accounts.create(params={"type": "express"})


def test_it_retrieves_updates_lists_and_deletes_accounts(client, key):
    first = new_account(client)
    second = new_account(client, type="custom")
    updated = client.v1.accounts.update(
        first.id,
        params={
            "email": "new@example.com",
            "settings": {
                "payouts": {"schedule": {"interval": "weekly", "weekly_anchor": "friday"}}
            },
        },
    )
    assert updated.email == "new@example.com"
    assert updated.settings.payouts.schedule.interval == "weekly"
    assert updated.settings.payouts.schedule.weekly_anchor == "friday"
    assert [a.id for a in client.v1.accounts.list().data] == [second.id, first.id]
    deleted = client.v1.accounts.delete(second.id)
    assert deleted.deleted is True
    assert [a.id for a in client.v1.accounts.list().data] == [first.id]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.accounts.retrieve(second.id)
    assert "account.application.deauthorized" in event_types(key)


@pytest.mark.parametrize(
    ("state", "options", "disabled_reason", "enabled"),
    [
        ("enabled", {}, None, True),
        ("restricted", {}, "requirements.past_due", False),
        ("restricted_soon", {}, None, True),
        ("in_review", {}, "requirements.pending_verification", False),
        ("rejected", {"reason": "terms_of_service"}, "rejected.terms_of_service", False),
    ],
)
def test_it_moves_an_account_through_onboarding_states(
    client, key, state, options, disabled_reason, enabled
):
    account = new_account(client)
    services.connect_account_state(token_or_account=key, account=account.id, state=state, **options)
    seen = client.v1.accounts.retrieve(account.id)
    assert seen.requirements.disabled_reason == disabled_reason
    assert seen.charges_enabled is enabled and seen.payouts_enabled is enabled
    if state == "restricted_soon":
        assert seen.requirements.currently_due and seen.requirements.current_deadline > 0
    if state == "in_review":
        assert seen.requirements.pending_verification
    assert event_types(key, stripe_account=account.id)[-1] == "account.updated"


def test_rejecting_through_the_api_records_the_reason(client, key):
    account = enabled_account(client, key)
    rejected = client.v1.accounts.reject(account.id, params={"reason": "fraud"})
    assert rejected.requirements.disabled_reason == "rejected.fraud"
    assert rejected.charges_enabled is False
    with pytest.raises(stripe.InvalidRequestError, match="Invalid reason"):
        client.v1.accounts.reject(account.id, params={"reason": "bored"})


def test_capabilities_account_links_and_login_links(client, key):
    account = enabled_account(client, key)
    capabilities = client.v1.accounts.capabilities.list(account.id).data
    assert {(c.id, c.status) for c in capabilities} == {
        ("card_payments", "active"),
        ("transfers", "active"),
    }
    link = client.v1.account_links.create(
        params={
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://example.com/refresh",
            "return_url": "https://example.com/return",
        }
    )
    assert link.object == "account_link" and link.expires_at == link.created + 300
    login = client.v1.accounts.login_links.create(account.id)
    assert login.object == "login_link" and account.id in login.url
    custom = new_account(client, type="custom")
    with pytest.raises(stripe.InvalidRequestError, match="not an Express account"):
        client.v1.accounts.login_links.create(custom.id)


def test_the_account_endpoint_answers_for_the_connected_account(client, key):
    account = enabled_account(client, key)
    assert client.v1.accounts.retrieve_current(options=as_account(account)).id == account.id


def test_a_destination_charge_moves_money_and_takes_the_application_fee(client, key):
    account = enabled_account(client, key)
    intent = pay(
        client,
        amount=10000,
        transfer_data={"destination": account.id},
        application_fee_amount=1230,
        on_behalf_of=account.id,
    )
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.transfer_data.destination == account.id and charge.on_behalf_of == account.id
    transfer = client.v1.transfers.retrieve(charge.transfer)
    assert transfer.amount == 10000 and transfer.destination == account.id
    assert transfer.source_transaction == charge.id
    fee = client.v1.application_fees.retrieve(charge.application_fee)
    assert (fee.amount, fee.account, fee.charge) == (1230, account.id, charge.id)
    # The platform keeps the fee minus Stripe's fee; the seller gets the rest.
    assert amounts(client.v1.balance.retrieve(), "pending") == {"usd": 10000 - 320 - 10000 + 1230}
    connected = client.v1.balance.retrieve(options=as_account(account))
    assert amounts(connected, "pending") == {"usd": 10000 - 1230}
    payment = client.v1.charges.retrieve(transfer.destination_payment, options=as_account(account))
    assert payment.id.startswith("py_") and payment.source_transfer == transfer.id
    # On behalf of: the seller is the merchant of record and sees the card.
    assert payment.payment_method_details.card.last4 == "4242"
    types = client.v1.balance_transactions.list(options=as_account(account)).data
    assert sorted(t.type for t in types) == ["application_fee", "payment"]
    assert "transfer.created" in event_types(key, stripe_account="")
    assert "application_fee.created" in event_types(key, stripe_account="")
    assert "charge.succeeded" in event_types(key, stripe_account=account.id)


def test_a_destination_charge_without_on_behalf_of_hides_the_buyer(client, key):
    account = enabled_account(client, key)
    intent = pay(client, amount=5000, transfer_data={"destination": account.id, "amount": 4000})
    transfer = client.v1.transfers.retrieve(
        client.v1.charges.retrieve(intent.latest_charge).transfer
    )
    assert transfer.amount == 4000
    payment = client.v1.charges.retrieve(transfer.destination_payment, options=as_account(account))
    assert payment.payment_method_details is None and payment.billing_details is None
    assert client.v1.application_fees.list().data == []


def test_a_connected_account_is_paid_out_on_its_schedule(client, key):
    account = enabled_account(client, key)
    pay(
        client, amount=10000, transfer_data={"destination": account.id}, application_fee_amount=1000
    )
    advance(key, days=3)
    payouts = client.v1.payouts.list(options=as_account(account)).data
    assert [(p.amount, p.automatic) for p in payouts] == [(9000, True)]
    assert amounts(client.v1.balance.retrieve(options=as_account(account)), "available") == {
        "usd": 0
    }
    manual = enabled_account(client, key)
    client.v1.accounts.update(
        manual.id, params={"settings": {"payouts": {"schedule": {"interval": "manual"}}}}
    )
    pay(client, amount=10000, transfer_data={"destination": manual.id})
    advance(key, days=3)
    assert client.v1.payouts.list(options=as_account(manual)).data == []
    payout = client.v1.payouts.create(
        params={"amount": 10000, "currency": "usd"}, options=as_account(manual)
    )
    assert payout.status == "pending"


def test_a_direct_charge_lives_on_the_connected_account(client, key):
    account = enabled_account(client, key)
    intent = client.v1.payment_intents.create(
        params={
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "payment_method_types": ["card"],
            "confirm": True,
            "application_fee_amount": 200,
        },
        options=as_account(account),
    )
    assert intent.status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.retrieve(intent.id)
    charge = client.v1.charges.retrieve(intent.latest_charge, options=as_account(account))
    fee = client.v1.application_fees.retrieve(charge.application_fee)
    assert (fee.amount, fee.account) == (200, account.id)
    assert amounts(client.v1.balance.retrieve(options=as_account(account)), "pending") == {
        "usd": 2000 - 88 - 200
    }
    assert amounts(client.v1.balance.retrieve(), "pending") == {"usd": 200}


def test_separate_charges_and_transfers_share_a_transfer_group(client, key):
    services.automatic_payouts_set(token_or_account=key, enabled=False)
    account = enabled_account(client, key)
    intent = pay(client, amount=10000, transfer_group="order_42")
    with pytest.raises(stripe.InvalidRequestError, match="insufficient available funds"):
        client.v1.transfers.create(
            params={"amount": 7000, "currency": "usd", "destination": account.id}
        )
    transfer = client.v1.transfers.create(
        params={
            "amount": 7000,
            "currency": "usd",
            "destination": account.id,
            "transfer_group": "order_42",
            "source_transaction": intent.latest_charge,
        }
    )
    assert transfer.transfer_group == "order_42"
    listed = client.v1.transfers.list(params={"transfer_group": "order_42"}).data
    assert [t.id for t in listed] == [transfer.id]
    advance(key, days=3)
    later = client.v1.transfers.create(
        params={"amount": 500, "currency": "usd", "destination": account.id}
    )
    assert later.source_transaction is None


def test_a_transfer_to_a_restricted_account_is_refused(client, key):
    services.automatic_payouts_set(token_or_account=key, enabled=False)
    account = new_account(client)
    pay(client, amount=10000)
    advance(key, days=3)
    with pytest.raises(stripe.InvalidRequestError, match="capabilities"):
        client.v1.transfers.create(
            params={"amount": 500, "currency": "usd", "destination": account.id}
        )


def test_a_destination_charge_to_a_restricted_account_is_refused_up_front(client, key):
    account = new_account(client)
    with pytest.raises(stripe.InvalidRequestError, match="capabilities"):
        pay(client, amount=1000, transfer_data={"destination": account.id})
    assert client.v1.payment_intents.list().data == []


def test_a_transfer_is_reversed_in_parts_but_never_beyond_its_amount(client, key):
    account = enabled_account(client, key)
    intent = pay(client, amount=10000, transfer_data={"destination": account.id})
    transfer_id = client.v1.charges.retrieve(intent.latest_charge).transfer
    first = client.v1.transfers.reversals.create(transfer_id, params={"amount": 3000})
    assert first.object == "transfer_reversal" and first.amount == 3000
    with pytest.raises(stripe.InvalidRequestError, match="greater than"):
        client.v1.transfers.reversals.create(transfer_id, params={"amount": 7001})
    client.v1.transfers.reversals.create(transfer_id)
    transfer = client.v1.transfers.retrieve(transfer_id)
    assert transfer.reversed is True and transfer.amount_reversed == 10000
    assert len(client.v1.transfers.reversals.list(transfer_id).data) == 2
    assert total(client.v1.balance.retrieve(options=as_account(account))) == {"usd": 0}
    assert "transfer.reversed" in event_types(key)


def test_an_application_fee_is_refunded_to_the_connected_account(client, key):
    account = enabled_account(client, key)
    intent = pay(
        client, amount=10000, transfer_data={"destination": account.id}, application_fee_amount=800
    )
    fee_id = client.v1.charges.retrieve(intent.latest_charge).application_fee
    refund = client.v1.application_fees.refunds.create(fee_id, params={"amount": 300})
    assert refund.object == "fee_refund" and refund.fee == fee_id
    fee = client.v1.application_fees.retrieve(fee_id)
    assert fee.amount_refunded == 300 and fee.refunded is False
    with pytest.raises(stripe.InvalidRequestError, match="greater than"):
        client.v1.application_fees.refunds.create(fee_id, params={"amount": 501})
    connected = client.v1.balance.retrieve(options=as_account(account))
    assert amounts(connected, "pending") == {"usd": 10000 - 800}
    assert amounts(connected, "available") == {"usd": 300}
    assert "application_fee.refunded" in event_types(key)


def test_connect_objects_have_the_keys_of_stripes_examples(client, key):
    from tests.sandbox.test_contract import FIXTURES

    # Stripe's example objects live in the shared folder beside the repository (CI has it);
    # a clone elsewhere has nothing to compare with.
    if not FIXTURES.exists():
        pytest.skip(f"Stripe's example objects are not at {FIXTURES}")
    examples = json.loads(FIXTURES.read_text())["resources"]
    account = enabled_account(client, key)
    intent = pay(
        client, amount=10000, transfer_data={"destination": account.id}, application_fee_amount=500
    )
    charge = client.v1.charges.retrieve(intent.latest_charge)
    emitted = {
        "account": client.v1.accounts.retrieve(account.id),
        "transfer": client.v1.transfers.retrieve(charge.transfer),
        "transfer_reversal": client.v1.transfers.reversals.create(
            charge.transfer, params={"amount": 100}
        ),
        "application_fee": client.v1.application_fees.retrieve(charge.application_fee),
        "fee_refund": client.v1.application_fees.refunds.create(
            charge.application_fee, params={"amount": 100}
        ),
        "account_link": client.v1.account_links.create(
            params={"account": account.id, "type": "account_onboarding"}
        ),
        "login_link": client.v1.accounts.login_links.create(account.id),
        "capability": client.v1.accounts.capabilities.retrieve(account.id, "transfers"),
    }
    missing = {
        kind: sorted(set(examples[kind]) - set(obj.to_dict()))
        for kind, obj in emitted.items()
        if set(examples[kind]) - set(obj.to_dict())
    }
    assert missing == {}
    for kind, obj in emitted.items():
        assert obj.object == examples[kind]["object"], kind
