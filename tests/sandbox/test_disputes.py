from datetime import timedelta

import pytest
import stripe

from sandbox import clock, services
from tests.sandbox.conftest import pay


def test_the_dispute_test_card_opens_a_dispute_after_the_charge(client):
    intent = pay(client, amount=10000, payment_method="pm_card_createDispute")
    assert intent.status == "succeeded"
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.disputed is True
    disputes = client.v1.disputes.list(params={"charge": charge.id}).data
    assert len(disputes) == 1
    dispute = disputes[0]
    assert dispute.id.startswith("dp_")
    assert dispute.status == "needs_response" and dispute.reason == "fraudulent"
    assert dispute.amount == 10000
    assert dispute.evidence_details.due_by > dispute.created
    withdrawal = dispute.balance_transactions[0]
    assert withdrawal.amount == -10000 and withdrawal.fee == 1500 and withdrawal.net == -11500
    assert withdrawal.reporting_category == "dispute"


def test_it_loses_a_dispute_with_the_fee_charged(client, key):
    intent = pay(client, amount=10000)
    dispute = services.dispute_create(token_or_account=key, charge=intent.latest_charge)
    lost = services.dispute_resolve(token_or_account=key, dispute=dispute["id"], won=False)
    assert lost["status"] == "lost"
    fetched = client.v1.disputes.retrieve(dispute["id"])
    assert fetched.status == "lost"
    transactions = client.v1.balance_transactions.list(params={"source": dispute["id"]}).data
    assert [(item.amount, item.fee) for item in transactions] == [(-10000, 1500)]
    # 10,000 - 320 fee on the charge, then -10,000 and the 15 USD dispute fee.
    pending = {entry.currency: entry.amount for entry in client.v1.balance.retrieve().pending}
    available = {entry.currency: entry.amount for entry in client.v1.balance.retrieve().available}
    assert pending["usd"] + available["usd"] == 9680 - 11500
    closed = client.v1.events.list(params={"type": "charge.dispute.closed"}).data
    assert closed[0].data.object.id == dispute["id"]


def test_it_wins_a_dispute_and_reinstates_funds(client, key):
    intent = pay(client, amount=10000)
    dispute = services.dispute_create(token_or_account=key, charge=intent.latest_charge)
    services.dispute_resolve(token_or_account=key, dispute=dispute["id"], won=True)
    fetched = client.v1.disputes.retrieve(dispute["id"])
    assert fetched.status == "won"
    assert sum(item.net for item in fetched.balance_transactions) == 0


def test_it_submits_evidence_and_winning_evidence_wins(client):
    intent = pay(client, payment_method="pm_card_createDispute")
    dispute = client.v1.disputes.list().data[0]
    updated = client.v1.disputes.update(
        dispute.id,
        params={"evidence": {"customer_name": "Jenny Rosen"}, "submit": False},
    )
    assert updated.status == "needs_response"
    assert updated.evidence.customer_name == "Jenny Rosen"
    assert updated.evidence_details.has_evidence is True
    won = client.v1.disputes.update(
        dispute.id, params={"evidence": {"uncategorized_text": "winning_evidence"}}
    )
    assert won.status == "won"
    assert won.evidence_details.submission_count == 1
    assert intent.id == won.payment_intent


def test_accepting_a_dispute_closes_it_as_lost(client):
    pay(client, payment_method="pm_card_createDispute")
    dispute = client.v1.disputes.list().data[0]
    closed = client.v1.disputes.close(dispute.id)
    assert closed.status == "lost"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.close(dispute.id)


def test_an_unanswered_dispute_is_lost_when_its_deadline_passes(client, key):
    pay(client, payment_method="pm_card_createDispute")
    dispute = client.v1.disputes.list().data[0]
    account = services.resolve_account(key)
    account = services.clock_advance(
        token_or_account=account, to=clock.now(account) + timedelta(days=3)
    )
    assert client.v1.disputes.retrieve(dispute.id).status == "needs_response"
    services.clock_advance(token_or_account=account, to=clock.now(account) + timedelta(days=6))
    passed = client.v1.disputes.retrieve(dispute.id)
    assert passed.status == "lost"
    assert passed.evidence_details.past_due is True


def test_a_disputed_charge_cannot_be_refunded(client):
    intent = pay(client, payment_method="pm_card_createDispute")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent.id})
    assert caught.value.code == "charge_disputed"


def test_the_dispute_card_is_disputed_once_a_manual_capture_is_captured(client):
    intent = pay(client, payment_method="pm_card_createDispute", capture_method="manual")
    assert client.v1.disputes.list().data == []
    client.v1.payment_intents.capture(intent.id)
    assert [item.charge for item in client.v1.disputes.list().data] == [intent.latest_charge]
