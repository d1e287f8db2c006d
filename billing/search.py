"""What the header search finds in the catalog: products, by id (`prod_…`, or a price's
`price_…`), name, or a price's amount. Registered from `BillingConfig.ready`."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from billing.models import Price, Product
from dashboard.search import ParsedQuery, SearchResult, register_search_provider


def _condition(account, livemode: bool, query: ParsedQuery) -> Q:
    prices = Price.objects.filter(account=account, livemode=livemode, deleted=False)
    if query.stripe_id:
        if query.id_kind == "product":
            return Q(stripe_id=query.stripe_id)
        if query.id_kind == "price":
            return Q(
                stripe_id__in=prices.filter(stripe_id=query.stripe_id).values("product_stripe_id")
            )
        return Q(pk__in=[])
    condition = query.created_filter()
    if query.amount is not None:
        with_amount = prices.filter(
            query.amount_filter("unit_amount"), product_stripe_id=OuterRef("stripe_id")
        )
        condition |= Q(Exists(with_amount))
    if len(query.words) >= 2:
        condition |= Q(name__icontains=query.words) | Q(description__icontains=query.words)
    return condition


def search_products(account, livemode, query, limit) -> list[SearchResult]:
    products = (
        Product.objects.filter(account=account, livemode=livemode, deleted=False)
        .filter(_condition(account, livemode, query))
        .order_by("-active", "-created", "-id")[:limit]
    )
    return [
        SearchResult(
            title=product.name,
            subtitle=" · ".join(
                part for part in (product.stripe_id, "" if product.active else "archived") if part
            ),
            url=reverse("billing:product_detail", args=[account.slug, product.stripe_id]),
        )
        for product in products
    ]


def register() -> None:
    register_search_provider(
        "products", title="Products", permission="catalog.view", search=search_products
    )
