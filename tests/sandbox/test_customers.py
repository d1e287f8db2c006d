import pytest
import stripe

from tests.sandbox.conftest import make_client, sandbox_key


def test_it_creates_and_retrieves_a_customer(client):
    created = client.v1.customers.create(
        params={"email": "jenny@example.com", "name": "Jenny Rosen", "metadata": {"plan": "pro"}}
    )
    assert created.id.startswith("cus_")
    assert created.object == "customer"
    assert created.livemode is False
    fetched = client.v1.customers.retrieve(created.id)
    assert fetched.email == "jenny@example.com"
    assert fetched.metadata["plan"] == "pro"


def test_it_updates_metadata_and_unsets_an_emptied_key(client, customer):
    client.v1.customers.update(customer.id, params={"metadata": {"a": "1", "b": "2"}})
    updated = client.v1.customers.update(
        customer.id, params={"metadata": {"a": ""}, "description": "VIP"}
    )
    assert updated.metadata.to_dict() == {"b": "2"}
    assert updated.description == "VIP"


def test_it_deletes_a_customer_and_then_reports_it_deleted(client, customer):
    deleted = client.v1.customers.delete(customer.id)
    assert deleted.deleted is True
    assert client.v1.customers.retrieve(customer.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.update(customer.id, params={"name": "x"})
    ids = [item.id for item in client.v1.customers.list().data]
    assert customer.id not in ids


def test_it_answers_404_resource_missing_for_an_unknown_customer(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.retrieve("cus_doesnotexist")
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    assert caught.value.param == "id"
    assert "No such customer: 'cus_doesnotexist'" in caught.value.user_message


def test_it_lists_by_email(client):
    client.v1.customers.create(params={"email": "a@example.com"})
    wanted = client.v1.customers.create(params={"email": "b@example.com"})
    listed = client.v1.customers.list(params={"email": "b@example.com"})
    assert [item.id for item in listed.data] == [wanted.id]


def test_it_searches_by_email_and_name_with_stripes_query_syntax(client):
    jenny = client.v1.customers.create(params={"email": "jenny@example.com", "name": "Jenny Rosen"})
    client.v1.customers.create(params={"email": "jenny@other.com", "name": "Jenny Smith"})
    client.v1.customers.create(params={"email": "bob@example.com", "name": "Bob Rosen"})
    found = client.v1.customers.search(params={"query": "email:'JENNY@example.com'"})
    assert found.object == "search_result"
    assert [item.id for item in found.data] == [jenny.id]
    both = client.v1.customers.search(params={"query": "name~'Rosen' AND email~'example.com'"})
    assert len(both.data) == 2
    either = client.v1.customers.search(params={"query": "name:'Jenny Rosen' OR name:'Bob Rosen'"})
    assert len(either.data) == 2


def test_it_refuses_an_unsupported_search_field(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.search(params={"query": "colour:'red'"})
    assert caught.value.param == "query"


def test_it_pages_search_results_without_repeats(client):
    made = {client.v1.customers.create(params={"name": f"Page {n}"}).id for n in range(5)}
    seen = [
        item.id
        for item in client.v1.customers.search(
            params={"query": "name~'Page'", "limit": 2}
        ).auto_paging_iter()
    ]
    assert sorted(seen) == sorted(made)


def test_it_keeps_test_and_live_data_of_one_account_apart(db):
    test_client = make_client(sandbox_key("test", "shared"))
    live_client = make_client(sandbox_key("live", "shared"))
    test_customer = test_client.v1.customers.create(params={"name": "Test"})
    live_customer = live_client.v1.customers.create(params={"name": "Live"})
    assert live_customer.livemode is True
    assert [item.id for item in live_client.v1.customers.list().data] == [live_customer.id]
    with pytest.raises(stripe.InvalidRequestError):
        live_client.v1.customers.retrieve(test_customer.id)
    assert (
        test_client.v1.accounts.retrieve_current().id
        == live_client.v1.accounts.retrieve_current().id
    )


def test_it_keeps_two_emulated_accounts_apart(db):
    first = make_client(sandbox_key())
    second = make_client(sandbox_key())
    made = first.v1.customers.create(params={"name": "Mine"})
    with pytest.raises(stripe.InvalidRequestError):
        second.v1.customers.retrieve(made.id)
    assert first.v1.accounts.retrieve_current().id != second.v1.accounts.retrieve_current().id
