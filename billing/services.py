"""Actions on the product catalog: call Stripe, mirror the answer at once, audit.

Same shape as payments.services: idempotency key on every write, write-through with the
time of the call, the later webhook leaves the row as it is.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_scopes import scope

from billing import mirroring
from billing.models import Price, Product
from dashboard.models import Account, User
from dashboard.services import RequestContext, audit_record
from payments.mirroring import Source
from payments.services import (
    PaymentError,
    client_for,
    new_idempotency_key,
    request_options,
    stripe_errors,
    without_blanks,
)

RECURRING_INTERVALS = frozenset({"day", "week", "month", "year"})


class CatalogError(PaymentError):
    pass


def _audit(*, account, actor, action, target, metadata, context) -> None:
    audit_record(
        account=account,
        actor=actor,
        action=action,
        target=target,
        metadata=metadata,
        context=context,
    )


def product_create(
    *,
    account: Account,
    livemode: bool,
    name: str,
    actor: User | None,
    description: str = "",
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> Product:
    name = name.strip()
    if not name:
        raise CatalogError("A product needs a name.")
    client = client_for(account, livemode)
    with stripe_errors():
        created = client.v1.products.create(
            params=without_blanks({"name": name, "description": description}),
            options=request_options(idempotency_key),
        )
    with scope(account=account), transaction.atomic():
        product = mirroring.store_product(
            Source.api_read(account=account, livemode=livemode), created
        )
        _audit(
            account=account,
            actor=actor,
            action="product.created",
            target=product,
            metadata={"name": name},
            context=context,
        )
    return product


def product_set_active(
    *,
    account: Account,
    livemode: bool,
    product: Product,
    active: bool,
    actor: User | None,
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> Product:
    """Archives (active=False) or unarchives a product, as the Dashboard does."""
    client = client_for(account, livemode)
    with stripe_errors():
        updated = client.v1.products.update(
            product.stripe_id,
            params={"active": active},
            options=request_options(idempotency_key, product.stripe_account),
        )
    with scope(account=account), transaction.atomic():
        product = mirroring.store_product(
            Source.api_read(
                account=account, livemode=livemode, stripe_account=product.stripe_account
            ),
            updated,
        )
        _audit(
            account=account,
            actor=actor,
            action="product.unarchived" if active else "product.archived",
            target=product,
            metadata={},
            context=context,
        )
    return product


def product_archive(
    *,
    account: Account,
    livemode: bool,
    product: Product,
    actor: User | None,
    context: RequestContext | None = None,
) -> Product:
    return product_set_active(
        account=account,
        livemode=livemode,
        product=product,
        active=False,
        actor=actor,
        context=context,
    )


def product_unarchive(
    *,
    account: Account,
    livemode: bool,
    product: Product,
    actor: User | None,
    context: RequestContext | None = None,
) -> Product:
    return product_set_active(
        account=account,
        livemode=livemode,
        product=product,
        active=True,
        actor=actor,
        context=context,
    )


def price_create(
    *,
    account: Account,
    livemode: bool,
    product: Product,
    unit_amount: int,
    currency: str,
    actor: User | None,
    recurring_interval: str = "",
    recurring_interval_count: int = 1,
    nickname: str = "",
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> Price:
    if not isinstance(unit_amount, int) or isinstance(unit_amount, bool) or unit_amount < 0:
        raise CatalogError("The unit amount must be a whole number of minor units, 0 or more.")
    currency = currency.lower()
    if len(currency) != 3:
        raise CatalogError("Give a three-letter currency code.")
    if recurring_interval and recurring_interval not in RECURRING_INTERVALS:
        raise CatalogError("Bill every day, week, month or year.")
    params: dict[str, Any] = without_blanks(
        {
            "product": product.stripe_id,
            "unit_amount": unit_amount,
            "currency": currency,
            "nickname": nickname,
        }
    )
    if recurring_interval:
        params["recurring"] = {
            "interval": recurring_interval,
            "interval_count": recurring_interval_count,
        }
    client = client_for(account, livemode)
    with stripe_errors():
        created = client.v1.prices.create(
            params=params, options=request_options(idempotency_key, product.stripe_account)
        )
    with scope(account=account), transaction.atomic():
        price = mirroring.store_price(
            Source.api_read(
                account=account, livemode=livemode, stripe_account=product.stripe_account
            ),
            created,
        )
        _audit(
            account=account,
            actor=actor,
            action="price.created",
            target=price,
            metadata={
                "product": product.stripe_id,
                "unit_amount": unit_amount,
                "currency": currency,
                "interval": recurring_interval,
            },
            context=context,
        )
    return price


def price_set_active(
    *,
    account: Account,
    livemode: bool,
    price: Price,
    active: bool,
    actor: User | None,
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> Price:
    client = client_for(account, livemode)
    with stripe_errors():
        updated = client.v1.prices.update(
            price.stripe_id,
            params={"active": active},
            options=request_options(idempotency_key, price.stripe_account),
        )
    with scope(account=account), transaction.atomic():
        price = mirroring.store_price(
            Source.api_read(
                account=account, livemode=livemode, stripe_account=price.stripe_account
            ),
            updated,
        )
        _audit(
            account=account,
            actor=actor,
            action="price.unarchived" if active else "price.archived",
            target=price,
            metadata={},
            context=context,
        )
    return price


PRODUCT_FIELDS = ("name", "description")


def product_update(
    *,
    account: Account,
    livemode: bool,
    product: Product,
    changes: dict[str, str],
    actor: User | None,
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> Product:
    """Renames a product or changes its description; only what changed is sent."""
    unknown = set(changes) - set(PRODUCT_FIELDS)
    if unknown:
        raise CatalogError(f"Products have no field {', '.join(sorted(unknown))}.")
    if "name" in changes and not changes["name"].strip():
        raise CatalogError("A product needs a name.")
    changed = {
        name: {"from": getattr(product, name), "to": value.strip()}
        for name, value in changes.items()
        if getattr(product, name) != value.strip()
    }
    if not changed:
        return product
    client = client_for(account, livemode)
    with stripe_errors():
        # An empty description clears it at Stripe, as in its API.
        updated = client.v1.products.update(
            product.stripe_id,
            params={name: change["to"] for name, change in changed.items()},
            options=request_options(idempotency_key, product.stripe_account),
        )
    with scope(account=account), transaction.atomic():
        product = mirroring.store_product(
            Source.api_read(
                account=account, livemode=livemode, stripe_account=product.stripe_account
            ),
            updated,
        )
        _audit(
            account=account,
            actor=actor,
            action="product.updated",
            target=product,
            metadata={"changes": changed},
            context=context,
        )
    return product


def product_set_default_price(
    *,
    account: Account,
    livemode: bool,
    product: Product,
    price: Price,
    actor: User | None,
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> Product:
    """Makes one of the product's prices the default, as the Dashboard's "Set as default"."""
    if price.product_stripe_id != product.stripe_id:
        raise CatalogError(f"{price.stripe_id} is not a price of {product.stripe_id}.")
    if not price.active:
        raise CatalogError("An archived price cannot be the default.")
    client = client_for(account, livemode)
    with stripe_errors():
        updated = client.v1.products.update(
            product.stripe_id,
            params={"default_price": price.stripe_id},
            options=request_options(idempotency_key, product.stripe_account),
        )
    with scope(account=account), transaction.atomic():
        product = mirroring.store_product(
            Source.api_read(
                account=account, livemode=livemode, stripe_account=product.stripe_account
            ),
            updated,
        )
        _audit(
            account=account,
            actor=actor,
            action="product.default_price_set",
            target=product,
            metadata={"price": price.stripe_id},
            context=context,
        )
    return product


def product_create_with_price(
    *,
    account: Account,
    livemode: bool,
    name: str,
    actor: User | None,
    description: str = "",
    unit_amount: int | None = None,
    currency: str = "",
    recurring_interval: str = "",
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> Product:
    """A new product and, when `unit_amount` is given, its first price, which becomes the
    default price (as in the Dashboard's "Add product" form)."""
    key = idempotency_key or new_idempotency_key()
    product = product_create(
        account=account,
        livemode=livemode,
        name=name,
        description=description,
        actor=actor,
        context=context,
        idempotency_key=f"{key}-product",
    )
    if unit_amount is None:
        return product
    price = price_create(
        account=account,
        livemode=livemode,
        product=product,
        unit_amount=unit_amount,
        currency=currency,
        recurring_interval=recurring_interval,
        actor=actor,
        context=context,
        idempotency_key=f"{key}-price",
    )
    return product_set_default_price(
        account=account,
        livemode=livemode,
        product=product,
        price=price,
        actor=actor,
        context=context,
        idempotency_key=f"{key}-default",
    )
