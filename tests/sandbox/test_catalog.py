import pytest
import stripe


def test_it_creates_a_product_with_a_default_price(client):
    product = client.v1.products.create(
        params={"name": "T-shirt", "default_price_data": {"currency": "usd", "unit_amount": 2000}}
    )
    assert product.id.startswith("prod_") and product.active is True
    price = client.v1.prices.retrieve(product.default_price)
    assert price.product == product.id
    assert price.type == "one_time" and price.unit_amount == 2000
    assert str(price.unit_amount_decimal) == "2000"


def test_it_creates_recurring_prices_and_filters_them(client):
    product = client.v1.products.create(params={"name": "Pro plan"})
    monthly = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": 1500,
            "recurring": {"interval": "month"},
        }
    )
    client.v1.prices.create(params={"product": product.id, "currency": "usd", "unit_amount": 100})
    assert monthly.type == "recurring"
    assert monthly.recurring.interval == "month" and monthly.recurring.interval_count == 1
    recurring = client.v1.prices.list(params={"type": "recurring"}).data
    assert [item.id for item in recurring] == [monthly.id]
    by_interval = client.v1.prices.list(params={"recurring": {"interval": "month"}}).data
    assert [item.id for item in by_interval] == [monthly.id]


def test_it_filters_products_by_active(client):
    kept = client.v1.products.create(params={"name": "Kept"})
    archived = client.v1.products.create(params={"name": "Old"})
    client.v1.products.update(archived.id, params={"active": False})
    active_ids = [item.id for item in client.v1.products.list(params={"active": True}).data]
    assert active_ids == [kept.id]
    inactive = client.v1.products.list(params={"active": False}).data
    assert [item.id for item in inactive] == [archived.id]


def test_it_deletes_a_product_without_prices_only(client):
    bare = client.v1.products.create(params={"name": "Bare"})
    assert client.v1.products.delete(bare.id).deleted is True
    priced = client.v1.products.create(
        params={"name": "Priced", "default_price_data": {"currency": "usd", "unit_amount": 500}}
    )
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.products.delete(priced.id)


def test_it_refuses_a_price_for_an_unknown_product(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.prices.create(
            params={"product": "prod_nope", "currency": "usd", "unit_amount": 1}
        )
    assert caught.value.code == "resource_missing"
    assert caught.value.param == "product"


def test_it_archives_a_price(client):
    product = client.v1.products.create(params={"name": "Thing"})
    price = client.v1.prices.create(
        params={"product": product.id, "currency": "eur", "unit_amount": 900}
    )
    updated = client.v1.prices.update(price.id, params={"active": False, "nickname": "Old"})
    assert updated.active is False and updated.nickname == "Old"
    assert client.v1.prices.list(params={"active": True}).data == []
