"""Turning catalog objects into mirror rows (see payments.mirroring for the approach)."""

from __future__ import annotations

from typing import Any

from billing.models import Price, Product
from payments.mirroring import (
    Source,
    as_dict,
    fill_references,
    lower,
    merge_deleted,
    pk_of,
    store_row,
    stripe_id_of,
    text,
)


def store_product(source: Source, obj: Any) -> Product:
    obj = as_dict(obj)
    deleted = bool(obj.get("deleted"))
    if deleted:
        obj = merge_deleted(Product, source, obj)
    row, _ = store_row(
        Product,
        source,
        obj,
        {
            "name": text(obj.get("name"))[:512],
            "active": bool(obj.get("active")) and not deleted,
            "description": text(obj.get("description")),
            "default_price_stripe_id": stripe_id_of(obj.get("default_price")),
            "deleted": deleted,
        },
    )
    fill_references([(Price, "product")], row, source.account)
    return row


def store_price(source: Source, obj: Any) -> Price:
    obj = as_dict(obj)
    deleted = bool(obj.get("deleted"))
    if deleted:
        obj = merge_deleted(Price, source, obj)
    recurring = obj.get("recurring") or {}
    product_id = stripe_id_of(obj.get("product"))
    row, _ = store_row(
        Price,
        source,
        obj,
        {
            "product_stripe_id": product_id,
            "product_id": pk_of(Product, source.account, product_id),
            "unit_amount": obj.get("unit_amount"),
            "currency": lower(obj.get("currency")),
            "type": text(obj.get("type")) or ("recurring" if recurring else "one_time"),
            "recurring_interval": text(recurring.get("interval")),
            "recurring_interval_count": recurring.get("interval_count"),
            "nickname": text(obj.get("nickname"))[:255],
            "active": bool(obj.get("active")) and not deleted,
            "deleted": deleted,
        },
    )
    return row
