"""Products and prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox import events, ids, store
from sandbox.errors import invalid
from sandbox.params import boolean, currency, integer, metadata, string, string_list
from sandbox.routes import route
from sandbox.store import Context

INTERVALS = {"day", "week", "month", "year"}


def _product_fields(data: dict[str, Any], params: dict[str, Any]) -> None:
    for name in ("description", "statement_descriptor", "tax_code", "unit_label", "url"):
        if name in params:
            data[name] = params[name] or None
    if "name" in params:
        if not params["name"]:
            raise invalid("You must provide a name for the product.", param="name")
        data["name"] = params["name"]
    active = boolean(params, "active")
    if active is not None:
        data["active"] = active
    shippable = boolean(params, "shippable")
    if shippable is not None:
        data["shippable"] = shippable
    if "images" in params:
        data["images"] = string_list(params, "images")
    data["metadata"] = metadata(data.get("metadata"), params)


@route("POST", r"/v1/products")
def create_product(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    string(params, "name", required=True)
    data = {
        "id": string(params, "id") or ids.new_id("prod"),
        "object": "product",
        "active": True,
        "created": ctx.now,
        "default_price": None,
        "description": None,
        "images": [],
        "livemode": ctx.livemode,
        "marketing_features": [],
        "metadata": {},
        "name": "",
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": ctx.now,
        "url": None,
    }
    if store.find(ctx, data["id"]) is not None:
        raise invalid("Product already exists.", param="id", code="resource_already_exists")
    _product_fields(data, params)
    store.create(ctx, "product", data)
    events.emit(ctx, "product.created", data)
    default_price = params.get("default_price_data")
    if isinstance(default_price, dict):
        price = _make_price(ctx, {**default_price, "product": data["id"]})
        data["default_price"] = price["id"]
        row = store.get(ctx, "product", data["id"], for_update=True)
        row.data = data
        store.save(row)
    return data


@route("GET", r"/v1/products/{id}")
def retrieve_product(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    if id == "search":
        raise invalid("Product search is not emulated by the sandbox.")
    row = store.get(ctx, "product", id)
    return row.data


@route("POST", r"/v1/products/{id}")
def update_product(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "product", id, for_update=True)
    before = row.data
    data = dict(before)
    _product_fields(data, params)
    if "default_price" in params:
        price_id = params["default_price"] or None
        if price_id:
            price = store.get(ctx, "price", price_id, param="default_price").data
            if price["product"] != id:
                raise invalid(
                    f"The price {price_id} does not belong to product {id}.",
                    param="default_price",
                )
        data["default_price"] = price_id
    data["updated"] = ctx.now
    row.data = data
    store.save(row)
    events.emit(ctx, "product.updated", data, previous_attributes=events.changed(before, data))
    return data


@route("DELETE", r"/v1/products/{id}")
def delete_product(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "product", id, for_update=True)
    if store.scoped(ctx, "price").filter(product=id).exists():
        raise invalid(
            "This product cannot be deleted because it has one or more user-created prices.",
            param="id",
        )
    data = row.data
    row.delete()
    events.emit(ctx, "product.deleted", data)
    return {"id": id, "object": "product", "deleted": True}


@route("GET", r"/v1/products")
def list_products(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows = store.scoped(ctx, "product").filter(store.created_filter(params))
    active = boolean(params, "active")
    if active is not None:
        rows = rows.filter(data__active=active)
    wanted = string_list(params, "ids")
    if wanted:
        rows = rows.filter(stripe_id__in=wanted)
    return store.page(ctx, rows, params, "/v1/products")


# --- Prices --------------------------------------------------------------------------


def _recurring(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    interval = raw.get("interval")
    if interval not in INTERVALS:
        raise invalid(
            f"Invalid recurring[interval]: must be one of {', '.join(sorted(INTERVALS))}",
            param="recurring[interval]",
        )
    return {
        "interval": interval,
        "interval_count": integer(raw, "interval_count", minimum=1) or 1,
        "meter": None,
        "trial_period_days": integer(raw, "trial_period_days"),
        "usage_type": raw.get("usage_type") or "licensed",
    }


def _make_price(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    product_id = string(params, "product")
    product_data = params.get("product_data")
    if not product_id and isinstance(product_data, dict):
        product_id = create_product(ctx, product_data)["id"]
    if not product_id:
        raise invalid(
            "You must specify either `product` or `product_data` when creating a price.",
            param="product",
        )
    store.get(ctx, "product", product_id, param="product")
    unit_amount = integer(params, "unit_amount", minimum=0)
    decimal_amount = string(params, "unit_amount_decimal")
    if unit_amount is None and decimal_amount is None:
        raise invalid(
            "You must provide one of: unit_amount, unit_amount_decimal, custom_unit_amount.",
            param="unit_amount",
        )
    recurring = _recurring(params.get("recurring"))
    data = {
        "id": ids.new_id("price"),
        "object": "price",
        "active": boolean(params, "active", default=True),
        "billing_scheme": "per_unit",
        "created": ctx.now,
        "currency": currency(params),
        "custom_unit_amount": None,
        "livemode": ctx.livemode,
        "lookup_key": string(params, "lookup_key"),
        "metadata": metadata({}, params),
        "nickname": string(params, "nickname"),
        "product": product_id,
        "recurring": recurring,
        "tax_behavior": string(params, "tax_behavior") or "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount if unit_amount is not None else int(Decimal(decimal_amount)),
        "unit_amount_decimal": decimal_amount or str(unit_amount),
    }
    store.create(ctx, "price", data)
    events.emit(ctx, "price.created", data)
    return data


@route("POST", r"/v1/prices")
def create_price(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _make_price(ctx, params)


@route("GET", r"/v1/prices/{id}")
def retrieve_price(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    return store.get(ctx, "price", id).data


@route("POST", r"/v1/prices/{id}")
def update_price(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "price", id, for_update=True)
    before = row.data
    data = dict(before)
    active = boolean(params, "active")
    if active is not None:
        data["active"] = active
    for name in ("nickname", "lookup_key", "tax_behavior"):
        if name in params:
            data[name] = params[name] or None
    data["metadata"] = metadata(before.get("metadata"), params)
    row.data = data
    store.save(row)
    events.emit(ctx, "price.updated", data, previous_attributes=events.changed(before, data))
    return data


@route("GET", r"/v1/prices")
def list_prices(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows = store.scoped(ctx, "price").filter(store.created_filter(params))
    active = boolean(params, "active")
    if active is not None:
        rows = rows.filter(data__active=active)
    for name in ("product", "type", "currency"):
        value = string(params, name)
        if value:
            rows = rows.filter(**{name: value})
    recurring = params.get("recurring")
    if isinstance(recurring, dict) and recurring.get("interval"):
        rows = rows.filter(data__recurring__interval=recurring["interval"])
    lookup_keys = string_list(params, "lookup_keys")
    if lookup_keys:
        rows = rows.filter(data__lookup_key__in=lookup_keys)
    return store.page(ctx, rows, params, "/v1/prices")
