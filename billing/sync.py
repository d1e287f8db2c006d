"""The catalog's part of `stripe_sync` (registered from BillingConfig.ready)."""

from __future__ import annotations

from billing import mirroring
from payments.sync import SyncResource, register_sync_resource

register_sync_resource(
    SyncResource(
        "products",
        lambda client, params: client.v1.products.list(params=params),
        mirroring.store_product,
    )
)
register_sync_resource(
    SyncResource(
        "prices",
        lambda client, params: client.v1.prices.list(params=params),
        mirroring.store_price,
    )
)
