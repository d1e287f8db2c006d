"""Customers: list filters and keyset pages, create and edit (address, metadata), detail
with saved cards, add a test card, charge a saved card, detach — through the sandbox."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scope

from dashboard.models import AuditLog
from dashboard.roles import Role
from payments import services, views_customers
from payments.models import Customer, PaymentIntent, PaymentMethod
from tests.payments import stripe_objects as so
from tests.payments.pages_support import (
    link,
    member_in_test_mode,
    mirror_charge,
    role_in_test_mode,
    row_ids,
    store,
)
from workbench.models import ApiRequestLog, StripeConnection

pytestmark = pytest.mark.django_db

DAY = 86400


@pytest.fixture
def owner(owner_user):
    return member_in_test_mode(owner_user)


@pytest.fixture
def viewer(viewer_user):
    return member_in_test_mode(viewer_user)


def url(view: str, *args, **query) -> str:
    path = reverse(f"payments:customer_{view}", args=["acme", *args])
    if query:
        path += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return path


def customer_ids(response) -> list[str]:
    return row_ids(response, "data-customer")


def mirror_customer(account, id: str, created: int = 0, **extra):
    return store(account, "customer", so.customer(id=id, created=created, **extra))


# --- The list ---------------------------------------------------------------------------


def test_the_list_shows_the_mirrors_customers(owner, acme):
    mirror_customer(acme, "cus_jenny", email="jenny@example.com", name="Jenny Rosen", phone="+1555")
    store(acme, "payment_method", so.payment_method(id="pm_1", customer="cus_jenny"))
    mirror_customer(acme, "cus_gone", created=1, deleted=True)

    response = owner.get(url("list"))

    assert customer_ids(response) == ["cus_jenny"]
    row = response.content.decode().split('data-customer="cus_jenny"')[1].split("</tr>")[0]
    assert "Jenny Rosen" in row and "jenny@example.com" in row and "+1555" in row
    assert "<td>1</td>" in row  # one saved card


def test_an_empty_list_says_so(owner, acme):
    assert "Customers appear here" in owner.get(url("list")).content.decode()
    mirror_customer(acme, "cus_1")
    assert "No customers match" in owner.get(url("list", email="nobody")).content.decode()


def test_it_filters_by_email_and_name(owner, acme):
    mirror_customer(acme, "cus_jenny", email="jenny@example.com", name="Jenny Rosen")
    mirror_customer(acme, "cus_bob", email="bob@example.org", name="Bob Jones", created=1)

    assert customer_ids(owner.get(url("list", email="JENNY@"))) == ["cus_jenny"]
    assert customer_ids(owner.get(url("list", name="jones"))) == ["cus_bob"]
    assert customer_ids(owner.get(url("list", name="jones", email="jenny"))) == []


def test_it_filters_by_created_range(owner, acme):
    mirror_customer(acme, "cus_14th", created=-DAY)
    mirror_customer(acme, "cus_15th")
    mirror_customer(acme, "cus_16th", created=DAY)

    response = owner.get(url("list", created_from="2025-06-15", created_to="2025-06-15"))
    assert customer_ids(response) == ["cus_15th"]
    assert customer_ids(owner.get(url("list", created_from="2025-06-15"))) == [
        "cus_16th",
        "cus_15th",
    ]


def test_it_filters_by_saved_payment_method_and_delinquency(owner, acme):
    mirror_customer(acme, "cus_card")
    store(acme, "payment_method", so.payment_method(id="pm_1", customer="cus_card"))
    mirror_customer(acme, "cus_late", created=1, delinquent=True)

    assert customer_ids(owner.get(url("list", has_payment_method="yes"))) == ["cus_card"]
    assert customer_ids(owner.get(url("list", has_payment_method="no"))) == ["cus_late"]
    assert customer_ids(owner.get(url("list", delinquent="yes"))) == ["cus_late"]
    assert customer_ids(owner.get(url("list", delinquent="no"))) == ["cus_card"]


def test_pages_have_no_gaps_or_repeats(owner, acme, monkeypatch):
    monkeypatch.setattr(views_customers, "PAGE_SIZE", 2)
    for index in range(7):
        mirror_customer(acme, f"cus_{index}", created=index // 3)

    pages, next_url = [], url("list")
    while next_url:
        response = owner.get(next_url)
        pages.append(customer_ids(response))
        next_url = link(response, "next")

    assert len(pages) == 4
    assert [row for page in pages for row in page] == [f"cus_{i}" for i in range(6, -1, -1)]
    previous = link(owner.get(link(owner.get(url("list")), "next")), "prev")
    assert customer_ids(owner.get(previous)) == pages[0]


def test_htmx_gets_only_the_table(owner, acme):
    mirror_customer(acme, "cus_1")
    body = owner.get(url("list", name="Jenny"), HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith('<section id="customers-table">')


def test_the_list_stays_under_a_query_ceiling(owner, acme, django_assert_max_num_queries):
    for index in range(30):
        mirror_customer(acme, f"cus_{index}", created=index)
        store(acme, "payment_method", so.payment_method(id=f"pm_{index}", customer=f"cus_{index}"))
    page = url("list", has_payment_method="yes")
    owner.get(page)  # the first visit records the recent page

    # The shell costs 12; the customers and their card counts two, whatever the page size.
    with django_assert_max_num_queries(14):
        response = owner.get(page)

    assert len(customer_ids(response)) == 25


def test_another_tenants_customer_is_a_404(owner, acme, globex):
    mirror_customer(globex, "cus_globex")

    assert owner.get(url("detail", "cus_globex")).status_code == 404
    assert owner.get(url("edit", "cus_globex")).status_code == 404
    assert owner.post(url("charge", "cus_globex"), {}).status_code == 404
    assert owner.post(url("card_add", "cus_globex"), {"test_card": "pm_card_visa"}).status_code == (
        404
    )
    assert owner.get(url("detail", "cus_missing")).status_code == 404


# --- Create and edit --------------------------------------------------------------------

DETAILS = {
    "name": "Jenny Rosen",
    "email": "jenny@example.com",
    "phone": "+15555550100",
    "description": "Wholesale",
    "line1": "1 Market St",
    "line2": "",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94105",
    "country": "us",
    "metadata_key_0": "crm_id",
    "metadata_value_0": "C-77",
    "metadata_key_1": "",
    "metadata_value_1": "",
}


def only_customer(acme) -> Customer:
    with scope(account=acme):
        return Customer.objects.get()


def test_create_a_customer(owner, acme, connected, stripe):
    response = owner.post(url("create"), DETAILS)

    customer = only_customer(acme)
    assert response.status_code == 302
    assert response.url == url("detail", customer.stripe_id)
    assert (customer.name, customer.email, customer.phone) == (
        "Jenny Rosen",
        "jenny@example.com",
        "+15555550100",
    )
    at_stripe = stripe.v1.customers.retrieve(customer.stripe_id)
    assert at_stripe.address.city == "San Francisco"
    assert at_stripe.address.country == "US"
    assert at_stripe.metadata.to_dict() == {"crm_id": "C-77"}
    assert customer.data["metadata"] == {"crm_id": "C-77"}
    with scope(account=acme):
        assert AuditLog.objects.filter(action="customer.created").count() == 1
    page = owner.get(response.url).content.decode()
    assert "1 Market St, San Francisco, CA 94105, US" in page
    assert "<dt>crm_id</dt><dd>C-77</dd>" in page


def test_edit_a_customer_and_its_metadata(owner, acme, connected, stripe):
    owner.post(url("create"), DETAILS)
    customer = only_customer(acme)

    response = owner.post(
        url("edit", customer.stripe_id),
        {
            **DETAILS,
            "name": "Jenny R.",
            "city": "Oakland",
            "metadata_key_0": "",
            "metadata_value_0": "",
            "metadata_key_1": "tier",
            "metadata_value_1": "gold",
        },
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "Jenny R."
    assert customer.data["address"]["city"] == "Oakland"
    assert customer.data["metadata"] == {"tier": "gold"}
    assert stripe.v1.customers.retrieve(customer.stripe_id).metadata.to_dict() == {"tier": "gold"}
    with scope(account=acme):
        # Creating set the address and metadata (one entry); the edit changed the name (one)
        # and the address and metadata (one): each Stripe call is audited.
        assert AuditLog.objects.filter(action="customer.updated").count() == 3


def test_the_edit_form_shows_current_values(owner, acme, connected):
    owner.post(url("create"), DETAILS)
    body = owner.get(url("edit", only_customer(acme).stripe_id)).content.decode()
    assert 'value="Jenny Rosen"' in body
    assert 'value="crm_id"' in body and 'value="C-77"' in body


def test_a_value_without_a_key_is_refused(owner, acme, connected):
    response = owner.post(url("create"), {**DETAILS, "metadata_key_0": ""})

    assert response.status_code == 200
    assert "Give this value a key." in response.content.decode()
    with scope(account=acme):
        assert not Customer.objects.exists()


def test_view_only_cannot_create_or_edit(viewer, acme, connected):
    mirror_customer(acme, "cus_1")
    assert viewer.post(url("create"), DETAILS).status_code == 403
    assert viewer.post(url("edit", "cus_1"), DETAILS).status_code == 403
    assert only_customer(acme).name == "Jenny Rosen"
    assert "Add customer" not in viewer.get(url("list")).content.decode()


def test_support_can_create_a_customer(acme, connected):
    support = role_in_test_mode(acme, Role.SUPPORT)
    assert support.post(url("create"), DETAILS).status_code == 302
    assert only_customer(acme).email == "jenny@example.com"


# --- Cards and charges ------------------------------------------------------------------


@pytest.fixture
def customer(acme, owner_user, connected) -> Customer:
    return services.customer_create(
        account=acme, livemode=False, email="jenny@example.com", name="Jenny", actor=owner_user
    )


def cards_of(acme, customer) -> list[PaymentMethod]:
    with scope(account=acme):
        return list(PaymentMethod.objects.filter(customer_stripe_id=customer.stripe_id))


def add_card(client, customer, test_card="pm_card_visa", default="on"):
    return client.post(
        url("card_add", customer.stripe_id), {"test_card": test_card, "make_default": default}
    )


def test_add_a_test_card(owner, acme, customer):
    response = add_card(owner, customer, "pm_card_amex")

    assert response.status_code == 302
    [card] = cards_of(acme, customer)
    assert (card.card_brand, card.card_last4, card.card_exp_month is not None) == (
        "amex",
        "0005",
        True,
    )
    page = owner.get(response.url).content.decode()
    assert "Saved Amex •••• 0005." in page
    assert card.stripe_id in page
    with scope(account=acme):
        logged = ApiRequestLog.objects.filter(path__endswith="/attach").get()
        assert "378282246310005" not in str(logged.params)
        assert AuditLog.objects.get(action="payment_method.attached").object_id == card.stripe_id


def test_the_sandbox_offers_test_cards_and_real_stripe_explains_stripe_js(owner, acme, customer):
    body = owner.get(url("detail", customer.stripe_id)).content.decode()
    assert 'value="pm_card_chargeDeclinedInsufficientFunds"' in body
    assert 'data-testid="stripe-js-note"' not in body

    with scope(account=acme):
        StripeConnection.objects.filter(account=acme).update(mode=StripeConnection.Mode.STRIPE)
    body = owner.get(url("detail", customer.stripe_id)).content.decode()
    assert 'data-testid="add-card-form"' not in body
    assert "https://js.stripe.com/v3/" in body


def test_an_unknown_test_card_is_refused(owner, acme, customer):
    response = add_card(owner, customer, "4242424242424242")
    assert response.status_code == 400
    assert cards_of(acme, customer) == []


def test_charge_a_saved_card(owner, acme, customer):
    add_card(owner, customer)
    [card] = cards_of(acme, customer)

    response = owner.post(
        url("charge", customer.stripe_id),
        {
            "amount": "12.50",
            "currency": "usd",
            "description": "Invoice 7",
            "payment_method": card.stripe_id,
        },
    )

    assert response.status_code == 302
    with scope(account=acme):
        intent = PaymentIntent.objects.get()
    assert (intent.amount, intent.status, intent.description) == (1250, "succeeded", "Invoice 7")
    page = owner.get(response.url).content.decode()
    assert "Charged $12.50: succeeded." in page
    assert 'data-status="succeeded"' in page.split('data-testid="customer-payments"')[1]


def test_a_declined_charge_shows_the_message_and_code(owner, acme, customer):
    add_card(owner, customer, "pm_card_chargeDeclinedInsufficientFunds")
    [card] = cards_of(acme, customer)

    response = owner.post(
        url("charge", customer.stripe_id),
        {"amount": "20", "currency": "usd", "payment_method": card.stripe_id},
        follow=True,
    )

    assert (
        "Your card has insufficient funds. (card_declined · insufficient_funds)"
        in response.content.decode()
    )
    with scope(account=acme):
        assert PaymentIntent.objects.get().amount_received == 0


def test_an_htmx_charge_answers_with_the_wallet_partial(owner, acme, customer):
    add_card(owner, customer)
    [card] = cards_of(acme, customer)

    response = owner.post(
        url("charge", customer.stripe_id),
        {"amount": "3", "currency": "usd", "payment_method": card.stripe_id},
        HTTP_HX_REQUEST="true",
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="wallet"')
    assert "Charged $3.00: succeeded." in body


def test_a_bad_amount_is_refused_before_stripe(owner, acme, customer):
    add_card(owner, customer)
    [card] = cards_of(acme, customer)

    response = owner.post(
        url("charge", customer.stripe_id),
        {"amount": "0.001", "currency": "usd", "payment_method": card.stripe_id},
    )

    assert response.status_code == 400
    assert "Enter an amount in USD" in response.content.decode()
    with scope(account=acme):
        assert not PaymentIntent.objects.exists()


def test_detach_a_card(owner, acme, customer):
    add_card(owner, customer)
    [card] = cards_of(acme, customer)

    response = owner.post(url("card_detach", customer.stripe_id, card.stripe_id))

    assert response.status_code == 302
    assert cards_of(acme, customer) == []
    assert 'data-testid="no-cards"' in owner.get(response.url).content.decode()


@pytest.mark.parametrize("role", [Role.ANALYST, Role.VIEW_ONLY])
def test_roles_without_payments_create_cannot_charge(acme, owner, customer, role):
    add_card(owner, customer)
    [card] = cards_of(acme, customer)
    client = role_in_test_mode(acme, role)

    response = client.post(
        url("charge", customer.stripe_id),
        {"amount": "5", "currency": "usd", "payment_method": card.stripe_id},
    )

    assert response.status_code == 403
    with scope(account=acme):
        assert not PaymentIntent.objects.exists()
    assert (
        'data-testid="charge-form"'
        not in client.get(url("detail", customer.stripe_id)).content.decode()
    )


def test_view_only_cannot_add_or_detach_cards(viewer, owner, acme, customer):
    assert add_card(viewer, customer).status_code == 403
    add_card(owner, customer)
    [card] = cards_of(acme, customer)
    assert viewer.post(url("card_detach", customer.stripe_id, card.stripe_id)).status_code == 403
    assert len(cards_of(acme, customer)) == 1


def test_support_can_add_a_card_and_charge_it(acme, customer):
    support = role_in_test_mode(acme, Role.SUPPORT)
    add_card(support, customer)
    [card] = cards_of(acme, customer)

    response = support.post(
        url("charge", customer.stripe_id),
        {"amount": "5", "currency": "usd", "payment_method": card.stripe_id},
    )

    assert response.status_code == 302
    with scope(account=acme):
        assert PaymentIntent.objects.get().status == "succeeded"


def test_the_detail_lists_the_customers_payments(owner, acme):
    mirror_customer(acme, "cus_1")
    mirror_charge(acme, "ch_mine", customer="cus_1")
    mirror_charge(acme, "ch_other", created=1)

    body = owner.get(url("detail", "cus_1")).content.decode()

    assert row_ids_in(body) == ["ch_mine"]


def row_ids_in(body: str) -> list[str]:
    import re

    return re.findall(r'data-payment="([^"]+)"', body)
