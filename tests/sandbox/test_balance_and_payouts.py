from datetime import timedelta

import pytest
import stripe
from django.core.management import call_command

from sandbox import clock, services
from sandbox.models import SandboxAccount
from tests.sandbox.conftest import pay


def account_of(key):
    return services.resolve_account(key)


def advance(key, **delta):
    account = account_of(key)
    return services.clock_advance(
        token_or_account=account, to=clock.now(account) + timedelta(**delta)
    )


def amounts(balance, kind):
    return {entry.currency: entry.amount for entry in getattr(balance, kind)}


def test_it_keeps_a_new_charge_pending_until_available_on(client, key):
    pay(client, amount=10000)
    balance = client.v1.balance.retrieve()
    assert balance.object == "balance"
    assert amounts(balance, "pending") == {"usd": 9680}
    assert amounts(balance, "available") == {"usd": 0}
    advance(key, days=1)
    assert amounts(client.v1.balance.retrieve(), "available") == {"usd": 0}
    advance(key, days=1, seconds=5)
    balance = client.v1.balance.retrieve()
    assert amounts(balance, "available") == {"usd": 9680}
    assert amounts(balance, "pending") == {"usd": 0}


def test_it_flows_from_payment_to_a_paid_automatic_payout(client, key):
    intent = pay(client, amount=10000)
    charge = client.v1.charges.retrieve(
        intent.latest_charge, params={"expand": ["balance_transaction"]}
    )
    assert charge.balance_transaction.status == "pending"
    advance(key, days=3)
    transaction = client.v1.balance_transactions.retrieve(charge.balance_transaction.id)
    assert transaction.status == "available"
    payouts = client.v1.payouts.list().data
    assert len(payouts) == 1
    payout = payouts[0]
    assert payout.automatic is True and payout.amount == 9680 and payout.currency == "usd"
    assert payout.status in {"pending", "in_transit"}
    assert amounts(client.v1.balance.retrieve(), "available") == {"usd": 0}
    swept = client.v1.balance_transactions.list(params={"payout": payout.id})
    assert {item.id for item in swept.data} == {transaction.id, payout.balance_transaction}
    advance(key, days=3)
    paid = client.v1.payouts.retrieve(payout.id)
    assert paid.status == "paid"
    events = [event.type for event in client.v1.events.list(params={"type": "payout.*"}).data]
    assert "payout.paid" in events and "payout.created" in events


def test_it_fails_a_payout_when_the_bank_account_is_closed(client, key):
    services.payouts_fail(token_or_account=key, failure_code="account_closed")
    services.automatic_payouts_set(token_or_account=key, enabled=False)
    pay(client, amount=10000)
    advance(key, days=3)
    assert client.v1.payouts.list().data == []
    payout = client.v1.payouts.create(params={"amount": 5000, "currency": "usd"})
    assert payout.status == "pending" and payout.automatic is False
    assert amounts(client.v1.balance.retrieve(), "available") == {"usd": 4680}
    advance(key, days=3)
    failed = client.v1.payouts.retrieve(payout.id)
    assert failed.status == "failed"
    assert failed.failure_code == "account_closed"
    reversal = client.v1.balance_transactions.retrieve(failed.failure_balance_transaction)
    assert reversal.type == "payout_failure" and reversal.amount == 5000
    assert amounts(client.v1.balance.retrieve(), "available") == {"usd": 9680}


def test_it_refuses_a_payout_above_the_available_balance(client, key):
    services.automatic_payouts_set(token_or_account=key, enabled=False)
    pay(client, amount=1000)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payouts.create(params={"amount": 500, "currency": "usd"})
    assert caught.value.code == "balance_insufficient"
    assert client.v1.payouts.list().data == []


def test_it_cancels_a_pending_payout_and_returns_the_funds(client, key):
    services.automatic_payouts_set(token_or_account=key, enabled=False)
    client.v1.topups.create(params={"amount": 10000, "currency": "usd"})
    advance(key, days=2, seconds=1)
    payout = client.v1.payouts.create(params={"amount": 4000, "currency": "usd"})
    canceled = client.v1.payouts.cancel(payout.id)
    assert canceled.status == "canceled"
    assert amounts(client.v1.balance.retrieve(), "available") == {"usd": 10000}


def test_it_tops_up_the_balance(client, key):
    topup = client.v1.topups.create(
        params={"amount": 2500, "currency": "usd", "description": "Reserve"}
    )
    assert topup.id.startswith("tu_") and topup.status == "succeeded"
    transaction = client.v1.balance_transactions.retrieve(topup.balance_transaction)
    assert transaction.type == "topup" and transaction.net == 2500
    assert amounts(client.v1.balance.retrieve(), "pending") == {"usd": 2500}
    assert [item.id for item in client.v1.topups.list().data] == [topup.id]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.topups.cancel(topup.id)


def test_it_filters_balance_transactions_by_type_and_created(client, key):
    pay(client)
    intent = pay(client)
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 100})
    refunds = client.v1.balance_transactions.list(params={"type": "refund"})
    assert [item.type for item in refunds.data] == ["refund"]
    later = client.v1.balance_transactions.list(params={"created": {"gt": 2**31}})
    assert later.data == []


def test_the_clock_can_be_set_into_the_past_to_date_history(client, key):
    account = account_of(key)
    past = clock.now(account) - timedelta(days=90)
    services.clock_set(token_or_account=account, to=past)
    intent = pay(client)
    assert abs(intent.created - int(past.timestamp())) < 5


def test_the_sandbox_clock_command_advances_the_clock(client, key, capsys):
    account = account_of(key)
    before = clock.now(account)
    call_command("sandbox_clock", "--key", key, "--advance", "2d")
    account = SandboxAccount.objects.get(pk=account.pk)
    assert clock.now(account) - before >= timedelta(days=2)
    assert account.stripe_id in capsys.readouterr().out


def test_time_that_passed_since_the_last_request_fires_on_the_next_request(client, key):
    pay(client, amount=10000)
    account = account_of(key)
    # Moving the clock without advancing it runs nothing; the next API call catches up.
    services.clock_set(token_or_account=account, to=clock.now(account) + timedelta(days=2, hours=1))
    assert amounts(client.v1.balance.retrieve(), "available") == {"usd": 9680}
