"""Product catalog pages: list with prices, create (with a first price), edit, archive,
prices and the default price, end to end through the sandbox; refusals and isolation."""

from __future__ import annotations

import pytest
from django_scopes import scope

from billing import services
from billing.models import Price, Product
from dashboard.models import AuditLog
from dashboard.roles import Role
from tests.payments.pages_support import member_in_test_mode, role_in_test_mode
from tests.payments.sandbox_support import webhooks_arrive

pytestmark = pytest.mark.django_db

PRODUCTS = "/a/acme/products/"


@pytest.fixture
def operator(connected, owner_user):
    """The owner, looking at test data (the sandbox is a test-mode Stripe)."""
    return member_in_test_mode(owner_user)


@pytest.fixture
def mug(connected, acme, owner_user) -> Product:
    product = services.product_create(
        account=acme, livemode=False, name="Mug", description="Stoneware", actor=owner_user
    )
    services.price_create(
        account=acme,
        livemode=False,
        product=product,
        unit_amount=1200,
        currency="usd",
        actor=owner_user,
    )
    return product


def products(account):
    with scope(account=account):
        return {p.name: p for p in Product.objects.all()}


def prices_of(account, product):
    with scope(account=account):
        return list(
            Price.objects.filter(product_stripe_id=product.stripe_id).order_by("created", "id")
        )


def test_it_creates_a_product_with_its_first_price_through_the_sandbox(operator, acme):
    response = operator.post(
        f"{PRODUCTS}new/",
        {
            "name": "Pro plan",
            "description": "Everything",
            "amount": "25.00",
            "currency": "USD",
            "interval": "month",
        },
    )

    product = products(acme)["Pro plan"]
    assert response.status_code == 302
    assert response.url == f"{PRODUCTS}{product.stripe_id}/"
    [price] = prices_of(acme, product)
    assert (price.unit_amount, price.currency, price.type, price.recurring_interval) == (
        2500,
        "usd",
        "recurring",
        "month",
    )
    assert product.default_price_stripe_id == price.stripe_id
    assert product.stripe_id.startswith("prod_")

    page = operator.get(response.url)
    assert "Pro plan" in page.text
    assert "$25.00 USD / month" in page.text
    webhooks_arrive()
    with scope(account=acme):
        assert Product.objects.get().default_price_stripe_id == price.stripe_id


def test_it_creates_a_product_without_a_price(operator, acme):
    response = operator.post(f"{PRODUCTS}new/", {"name": "Gift card", "currency": "usd"})

    assert response.status_code == 302
    product = products(acme)["Gift card"]
    assert prices_of(acme, product) == []
    assert product.default_price_stripe_id == ""


def test_a_price_with_too_many_decimals_is_refused_and_nothing_is_created(operator, acme):
    response = operator.post(
        f"{PRODUCTS}new/", {"name": "Sticker", "amount": "2.505", "currency": "usd"}
    )

    assert response.status_code == 200
    assert "at most 2 decimals" in response.text
    assert products(acme) == {}


def test_zero_decimal_currencies_are_priced_in_whole_units(operator, acme, mug):
    response = operator.post(
        f"{PRODUCTS}{mug.stripe_id}/prices/", {"amount": "1500", "currency": "jpy", "interval": ""}
    )

    assert response.status_code == 302
    yen = prices_of(acme, mug)[-1]
    assert (yen.unit_amount, yen.currency, yen.type) == (1500, "jpy", "one_time")
    assert "¥1,500 JPY" in operator.get(response.url).text


def test_several_prices_are_listed_and_one_becomes_the_default(operator, acme, mug):
    operator.post(
        f"{PRODUCTS}{mug.stripe_id}/prices/",
        {"amount": "100", "currency": "usd", "interval": "year"},
    )
    first, yearly = prices_of(acme, mug)

    response = operator.post(f"{PRODUCTS}{mug.stripe_id}/prices/{yearly.stripe_id}/default/")

    assert response.status_code == 302
    assert products(acme)["Mug"].default_price_stripe_id == yearly.stripe_id
    listing = operator.get(PRODUCTS).text
    assert "$12.00 USD" in listing
    assert "$100.00 USD / year" in listing
    with scope(account=acme):
        audit = AuditLog.objects.get(action="product.default_price_set")
    assert audit.metadata == {"price": yearly.stripe_id}


def test_another_products_price_cannot_be_the_default(operator, acme, mug, owner_user):
    other = services.product_create(account=acme, livemode=False, name="Tee", actor=owner_user)
    [mug_price] = prices_of(acme, mug)

    response = operator.post(f"{PRODUCTS}{other.stripe_id}/prices/{mug_price.stripe_id}/default/")

    assert response.status_code == 404
    assert products(acme)["Tee"].default_price_stripe_id == ""


def test_it_edits_a_product(operator, acme, mug):
    response = operator.post(
        f"{PRODUCTS}{mug.stripe_id}/edit/", {"name": "Big mug", "description": ""}
    )

    assert response.status_code == 302
    mug = products(acme)["Big mug"]
    assert mug.description == ""
    with scope(account=acme):
        audit = AuditLog.objects.get(action="product.updated")
    assert audit.metadata["changes"]["name"] == {"from": "Mug", "to": "Big mug"}


def test_it_archives_and_unarchives_a_product(operator, acme, mug):
    operator.post(f"{PRODUCTS}{mug.stripe_id}/archive/")

    assert products(acme)["Mug"].active is False
    assert "Mug" not in operator.get(PRODUCTS).text
    assert "Mug" in operator.get(PRODUCTS, {"tab": "archived"}).text

    operator.post(f"{PRODUCTS}{mug.stripe_id}/archive/", {"active": "1"})

    assert products(acme)["Mug"].active is True
    assert "Mug" in operator.get(PRODUCTS).text


def test_the_list_pages_by_keyset_without_gaps_or_repeats(operator, acme, owner_user):
    for number in range(30):
        services.product_create(
            account=acme, livemode=False, name=f"Product {number:02}", actor=owner_user
        )
    seen = []
    url = PRODUCTS
    while url:
        response = operator.get(url)
        page = response.context["page"]
        seen += [product.name for product in page.rows]
        url = f"{PRODUCTS}?tab=active&after={page.next_cursor}" if page.next_cursor else None
    assert sorted(seen) == [f"Product {number:02}" for number in range(30)]
    assert len(seen) == len(set(seen))


def test_the_list_renders_in_a_fixed_number_of_queries(
    operator, acme, owner_user, django_assert_max_num_queries
):
    for number in range(5):
        product = services.product_create(
            account=acme, livemode=False, name=f"Product {number}", actor=owner_user
        )
        for amount in (100, 200):
            services.price_create(
                account=acme,
                livemode=False,
                product=product,
                unit_amount=amount,
                currency="usd",
                actor=owner_user,
            )
    # The shell (session, membership, shortcuts, recent pages) plus one query for the
    # products and one for all their prices.
    with django_assert_max_num_queries(16):
        response = operator.get(PRODUCTS)
    assert response.status_code == 200
    assert response.text.count("$2.00 USD") == 5


def test_the_htmx_tab_swaps_only_the_table(operator, mug):
    response = operator.get(PRODUCTS, {"tab": "archived"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="products"' in response.text
    assert "<html" not in response.text


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.VIEW_ONLY, Role.ANALYST])
def test_roles_without_catalog_manage_are_refused_and_nothing_changes(acme, mug, role):
    client = role_in_test_mode(acme, role)
    [price] = prices_of(acme, mug)
    before = products(acme)["Mug"]

    attempts = [
        client.post(f"{PRODUCTS}new/", {"name": "Sneaky", "currency": "usd"}),
        client.post(f"{PRODUCTS}{mug.stripe_id}/edit/", {"name": "Renamed"}),
        client.post(f"{PRODUCTS}{mug.stripe_id}/archive/"),
        client.post(f"{PRODUCTS}{mug.stripe_id}/prices/", {"amount": "1", "currency": "usd"}),
        client.post(f"{PRODUCTS}{mug.stripe_id}/prices/{price.stripe_id}/default/"),
    ]

    assert [response.status_code for response in attempts] == [403] * 5
    after = products(acme)
    assert list(after) == ["Mug"]
    assert (after["Mug"].name, after["Mug"].active, after["Mug"].source_time) == (
        before.name,
        before.active,
        before.source_time,
    )
    assert len(prices_of(acme, mug)) == 1
    # They can still read the catalog, without the buttons that would be refused.
    page = client.get(f"{PRODUCTS}{mug.stripe_id}/")
    assert page.status_code == 200
    assert "Archive product" not in page.text
    assert "Add product" not in client.get(PRODUCTS).text


def test_another_tenants_product_is_a_404(operator, mug, outsider):
    assert outsider.get(f"{PRODUCTS}{mug.stripe_id}/").status_code == 404
    assert outsider.post(f"{PRODUCTS}{mug.stripe_id}/archive/").status_code == 404
    assert outsider.get(f"/a/globex/products/{mug.stripe_id}/").status_code == 404
    assert products(mug.account)["Mug"].active is True


def test_a_live_mode_member_does_not_see_test_products(mug, owner):
    assert owner.get(f"{PRODUCTS}{mug.stripe_id}/").status_code == 404
    assert "Mug" not in owner.get(PRODUCTS).text


def test_services_refuse_an_empty_name_on_edit(connected, acme, owner_user, mug):
    with pytest.raises(services.CatalogError):
        services.product_update(
            account=acme, livemode=False, product=mug, changes={"name": " "}, actor=owner_user
        )
    assert products(acme)["Mug"].name == "Mug"
