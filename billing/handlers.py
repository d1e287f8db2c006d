"""Webhook event handlers of the product catalog, registered from BillingConfig.ready()."""

from __future__ import annotations

from billing import mirroring
from payments.mirroring import Source
from workbench.dispatch import handles


@handles("product.*")
def product_changed(event) -> None:
    mirroring.store_product(Source.from_event(event), event.object)


@handles("price.*")
def price_changed(event) -> None:
    mirroring.store_price(Source.from_event(event), event.object)
