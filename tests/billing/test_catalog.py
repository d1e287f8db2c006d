from __future__ import annotations

import pytest
from django_scopes import scope

from billing import services
from billing.models import Price, Product
from billing.services import CatalogError
from dashboard.models import AuditLog
from tests.payments.sandbox_support import webhooks_arrive
from tests.payments.stripe_objects import T0, FakeEvent, at
from workbench.dispatch import handlers_for

pytestmark = pytest.mark.django_db


def deliver(event) -> None:
    with scope(account=event.account):
        for handler in handlers_for(event.type):
            handler(event)


def product_object(id="prod_1", name="T-shirt", active=True, **extra):
    return {"id": id, "object": "product", "created": T0, "name": name, "active": active, **extra}


def price_object(id="price_1", product="prod_1", **extra):
    return {
        "id": id,
        "object": "price",
        "created": T0,
        "product": product,
        "unit_amount": 2000,
        "currency": "usd",
        "type": "recurring",
        "recurring": {"interval": "month", "interval_count": 1},
        "active": True,
        **extra,
    }


def test_a_price_seen_before_its_product_is_linked_when_the_product_arrives(acme, in_acme):
    deliver(FakeEvent(acme, "price.created", price_object(), at(1)))
    assert Price.objects.get().product is None

    deliver(FakeEvent(acme, "product.created", product_object(), at(0)))

    price = Price.objects.get()
    assert price.product == Product.objects.get()
    assert (price.unit_amount, price.type, price.recurring_interval) == (2000, "recurring", "month")


def test_an_older_product_event_does_not_undo_an_archive(acme, in_acme):
    deliver(FakeEvent(acme, "product.updated", product_object(active=False), at(10)))
    deliver(FakeEvent(acme, "product.created", product_object(active=True), at(0)))

    assert Product.objects.get().active is False


def test_a_deleted_product_is_kept_and_marked(acme, in_acme):
    deliver(FakeEvent(acme, "product.created", product_object(), at(0)))
    deliver(FakeEvent(acme, "product.deleted", product_object(deleted=True), at(5)))

    product = Product.objects.get()
    assert (product.deleted, product.active, product.name) == (True, False, "T-shirt")


def test_a_product_and_its_prices_are_created_through_the_sandbox(connected, acme, owner_user):
    product = services.product_create(
        account=acme, livemode=False, name="Pro plan", description="Monthly", actor=owner_user
    )
    monthly = services.price_create(
        account=acme,
        livemode=False,
        product=product,
        unit_amount=1500,
        currency="USD",
        recurring_interval="month",
        actor=owner_user,
    )
    once = services.price_create(
        account=acme,
        livemode=False,
        product=product,
        unit_amount=500,
        currency="eur",
        actor=owner_user,
    )

    with scope(account=acme):
        assert Product.objects.get().name == "Pro plan"
        assert (monthly.product, monthly.type, monthly.recurring_interval) == (
            product,
            "recurring",
            "month",
        )
        assert (once.type, once.currency, once.unit_amount) == ("one_time", "eur", 500)
        assert AuditLog.objects.filter(action="price.created").count() == 2
        before = sorted(Price.objects.values_list("stripe_id", "source_time"))

    webhooks_arrive()

    with scope(account=acme):
        assert sorted(Price.objects.values_list("stripe_id", "source_time")) == before


def test_a_product_is_archived_and_unarchived(connected, acme, owner_user):
    product = services.product_create(account=acme, livemode=False, name="Mug", actor=owner_user)

    services.product_archive(account=acme, livemode=False, product=product, actor=owner_user)
    with scope(account=acme):
        assert Product.objects.get().active is False
    services.product_unarchive(account=acme, livemode=False, product=product, actor=owner_user)
    webhooks_arrive()

    with scope(account=acme):
        assert Product.objects.get().active is True
        actions = list(
            AuditLog.objects.filter(action__startswith="product.")
            .order_by("id")
            .values_list("action", flat=True)
        )
    assert actions == ["product.created", "product.archived", "product.unarchived"]


def test_a_price_is_archived(connected, acme, owner_user):
    product = services.product_create(account=acme, livemode=False, name="Mug", actor=owner_user)
    price = services.price_create(
        account=acme,
        livemode=False,
        product=product,
        unit_amount=900,
        currency="usd",
        actor=owner_user,
    )

    services.price_set_active(
        account=acme, livemode=False, price=price, active=False, actor=owner_user
    )

    with scope(account=acme):
        assert Price.objects.get().active is False


def test_a_price_needs_whole_minor_units(connected, acme, owner_user):
    product = services.product_create(account=acme, livemode=False, name="Mug", actor=owner_user)

    with pytest.raises(CatalogError):
        services.price_create(
            account=acme,
            livemode=False,
            product=product,
            unit_amount=9.99,
            currency="usd",
            actor=owner_user,
        )
    with scope(account=acme):
        assert not Price.objects.exists()
