"""Reads of the catalog mirror for the product pages (never Stripe)."""

from __future__ import annotations

from django.db.models import Prefetch

from billing.models import Price, Product
from dashboard.models import Account
from payments.selectors import Page, keyset_page


class ProductTab:
    ACTIVE = "active"
    ARCHIVED = "archived"
    CHOICES = [(ACTIVE, "Active"), (ARCHIVED, "Archived")]


def _prices() -> Prefetch:
    # Active prices first, then newest: the order the product page lists them.
    return Prefetch(
        "prices",
        queryset=Price.objects.filter(deleted=False).order_by("-active", "-created", "-id"),
    )


def product_list(
    *,
    account: Account,
    livemode: bool,
    tab: str = ProductTab.ACTIVE,
    after: str | None = None,
    limit: int = 25,
) -> Page[Product]:
    queryset = Product.objects.filter(
        account=account,
        livemode=livemode,
        deleted=False,
        active=tab != ProductTab.ARCHIVED,
    ).prefetch_related(_prices())
    return keyset_page(queryset, after=after, limit=limit)


def product_get(*, account: Account, livemode: bool, product_id: str) -> Product | None:
    return (
        Product.objects.filter(
            account=account, livemode=livemode, stripe_id=product_id, deleted=False
        )
        .prefetch_related(_prices())
        .first()
    )


def price_get(*, account: Account, product: Product, price_id: str) -> Price | None:
    return Price.objects.filter(
        account=account,
        livemode=product.livemode,
        stripe_id=price_id,
        product_stripe_id=product.stripe_id,
        deleted=False,
    ).first()
