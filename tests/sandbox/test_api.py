import pytest
import stripe

from tests.sandbox.conftest import make_client, pay, sandbox_key


@pytest.mark.parametrize("key", ["sk_test_123", "sk_live_sbx_", "pk_test_sbx_abc", "rk_test_sbx_x"])
def test_it_refuses_keys_that_are_not_sandbox_secret_keys(db, key):
    with pytest.raises(stripe.AuthenticationError) as caught:
        make_client(key).v1.customers.list()
    assert caught.value.http_status == 401


def test_the_first_request_with_a_new_token_creates_the_emulated_account(db):
    key = sandbox_key()
    account = make_client(key).v1.accounts.retrieve_current()
    assert account.id.startswith("acct_") and account.object == "account"
    assert make_client(key).v1.accounts.retrieve_current().id == account.id


def test_it_answers_with_stripes_headers(client):
    customer = client.v1.customers.create(params={"name": "x"}, options={"idempotency_key": "k1"})
    headers = customer.last_response.headers
    assert headers["Request-Id"].startswith("req_")
    assert headers["Idempotency-Key"] == "k1"
    assert headers["Stripe-Version"] == stripe.api_version


def test_it_replays_a_request_with_the_same_idempotency_key(client):
    first = client.v1.customers.create(params={"name": "Once"}, options={"idempotency_key": "same"})
    again = client.v1.customers.create(params={"name": "Once"}, options={"idempotency_key": "same"})
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(client.v1.customers.list().data) == 1


def test_it_refuses_an_idempotency_key_reused_with_other_params(client):
    client.v1.customers.create(params={"name": "Once"}, options={"idempotency_key": "same"})
    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.customers.create(params={"name": "Twice"}, options={"idempotency_key": "same"})
    assert caught.value.http_status == 400
    assert len(client.v1.customers.list().data) == 1


def test_it_replays_a_decline_without_charging_again(client):
    options = {"idempotency_key": "decline-1"}
    params = {
        "amount": 1000,
        "currency": "usd",
        "payment_method": "pm_card_chargeDeclined",
        "payment_method_types": ["card"],
        "confirm": True,
    }
    with pytest.raises(stripe.CardError) as first:
        client.v1.payment_intents.create(params=params, options=options)
    with pytest.raises(stripe.CardError) as second:
        client.v1.payment_intents.create(params=params, options=options)
    assert first.value.error.payment_intent.id == second.value.error.payment_intent.id
    assert len(client.v1.charges.list().data) == 1


def test_it_pages_newest_first_without_gaps_or_repeats(client):
    made = [client.v1.customers.create(params={"name": f"c{n}"}).id for n in range(23)]
    first = client.v1.customers.list(params={"limit": 10})
    assert first.has_more is True and first.url == "/v1/customers"
    assert [item.id for item in first.data] == list(reversed(made))[:10]
    walked = [item.id for item in client.v1.customers.list(params={"limit": 7}).auto_paging_iter()]
    assert walked == list(reversed(made))
    last = client.v1.customers.list(params={"limit": 10, "starting_after": first.data[-1].id})
    third = client.v1.customers.list(params={"limit": 10, "starting_after": last.data[-1].id})
    assert len(third.data) == 3 and third.has_more is False
    back = client.v1.customers.list(params={"limit": 10, "ending_before": last.data[0].id})
    assert [item.id for item in back.data] == [item.id for item in first.data]


def test_it_refuses_a_limit_above_100(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.list(params={"limit": 101})
    assert caught.value.param == "limit"


def test_it_filters_lists_by_created(client):
    customer = client.v1.customers.create(params={"name": "x"})
    assert client.v1.customers.list(params={"created": {"gte": customer.created}}).data
    assert client.v1.customers.list(params={"created": {"gt": customer.created}}).data == []


def test_it_expands_nested_ids(client, customer):
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    intent = client.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": method.id,
            "payment_method_types": ["card"],
            "confirm": True,
            "expand": ["latest_charge.balance_transaction", "customer", "payment_method"],
        }
    )
    assert intent.customer.email == "jenny@example.com"
    assert intent.payment_method.card.last4 == "4242"
    assert intent.latest_charge.balance_transaction.fee == 59
    transactions = client.v1.balance_transactions.list(params={"expand": ["data.source"]})
    assert transactions.data[0].source.object == "charge"


def test_it_refuses_to_expand_an_unknown_property(client, customer):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.retrieve(customer.id, params={"expand": ["colour"]})
    assert caught.value.param == "expand"


def test_it_answers_404_for_an_unknown_url(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.raw_request("get", "/v1/no_such_things")
    assert caught.value.http_status == 404


def test_objects_on_a_connected_account_are_kept_apart_and_events_name_it(client, key):
    connected = make_client(key, stripe_account="acct_1Connected")
    theirs = connected.v1.customers.create(params={"name": "Theirs"})
    assert client.v1.customers.list().data == []
    assert [item.id for item in connected.v1.customers.list().data] == [theirs.id]
    event = connected.v1.events.list().data[0]
    assert event.account == "acct_1Connected"


def test_a_payment_records_stripes_events_in_order(client):
    intent = pay(client)
    types = [event.type for event in client.v1.events.list().data]
    assert types[:3] == ["payment_intent.succeeded", "charge.succeeded", "payment_intent.created"]
    succeeded = client.v1.events.list(params={"type": "payment_intent.succeeded"}).data[0]
    assert succeeded.data.object.id == intent.id and succeeded.livemode is False


def test_it_echoes_the_requested_api_version(key):
    pinned = make_client(key, stripe_version="2025-01-27.acacia")
    customer = pinned.v1.customers.create(params={"name": "x"})
    assert customer.last_response.headers["Stripe-Version"] == "2025-01-27.acacia"
    event = pinned.v1.events.list().data[0]
    assert event.api_version == "2025-01-27.acacia"


def test_it_filters_events_by_several_types(client, customer):
    pay(client)
    listed = client.v1.events.list(params={"types": ["customer.created", "charge.*"]}).data
    assert sorted(event.type for event in listed) == ["charge.succeeded", "customer.created"]
