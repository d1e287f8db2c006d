"""Customers: create, retrieve, update, delete, list and search."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q

from sandbox import events, ids, store
from sandbox.errors import invalid
from sandbox.params import metadata, string
from sandbox.routes import route
from sandbox.store import Context

ADDRESS_KEYS = ["city", "country", "line1", "line2", "postal_code", "state"]
SIMPLE_FIELDS = ["email", "name", "description", "phone"]


def _address(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    return {key: raw.get(key) or None for key in ADDRESS_KEYS}


def _apply(data: dict[str, Any], params: dict[str, Any]) -> None:
    for name in SIMPLE_FIELDS:
        if name in params:
            data[name] = params[name] or None
    if "address" in params:
        data["address"] = _address(params["address"])
    if "shipping" in params:
        shipping = params["shipping"]
        data["shipping"] = (
            {
                "address": _address(shipping.get("address")),
                "name": shipping.get("name"),
                "phone": shipping.get("phone"),
            }
            if isinstance(shipping, dict)
            else None
        )
    if "preferred_locales" in params:
        data["preferred_locales"] = params["preferred_locales"] or []
    if "tax_exempt" in params:
        data["tax_exempt"] = params["tax_exempt"] or "none"
    settings = params.get("invoice_settings")
    if isinstance(settings, dict) and "default_payment_method" in settings:
        data["invoice_settings"]["default_payment_method"] = (
            settings["default_payment_method"] or None
        )
    data["metadata"] = metadata(data.get("metadata"), params)


@route("POST", r"/v1/customers")
def create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    data = {
        "id": ids.new_id("cus"),
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": ctx.now,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "invoice_prefix": ids.random_token(8).upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": ctx.livemode,
        "metadata": {},
        "name": None,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }
    _apply(data, params)
    payment_method = string(params, "payment_method")
    store.create(ctx, "customer", data)
    if payment_method:
        from sandbox.resources import payment_methods

        payment_methods.attach_to(ctx, payment_method, data["id"], param="payment_method")
    events.emit(ctx, "customer.created", data)
    return data


@route("GET", r"/v1/customers/{id}")
def retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    if id == "search":
        return search(ctx, params)
    row = store.get(ctx, "customer", id)
    if row.hidden.get("deleted"):
        return {"id": id, "object": "customer", "deleted": True}
    return row.data


def live_customer(ctx: Context, stripe_id: Any, *, param: str = "customer", for_update=False):
    row = store.get(ctx, "customer", stripe_id, param=param, for_update=for_update)
    if row.hidden.get("deleted"):
        from sandbox.errors import no_such

        raise no_such("customer", stripe_id, param=param)
    return row


@route("POST", r"/v1/customers/{id}")
def update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = live_customer(ctx, id, param="id", for_update=True)
    before = dict(row.data)
    row.data = dict(row.data, invoice_settings=dict(row.data["invoice_settings"]))
    _apply(row.data, params)
    store.save(row)
    events.emit(
        ctx, "customer.updated", row.data, previous_attributes=events.changed(before, row.data)
    )
    return row.data


@route("DELETE", r"/v1/customers/{id}")
def delete(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = live_customer(ctx, id, param="id", for_update=True)
    row.hidden = {**row.hidden, "deleted": True}
    row.status = "deleted"
    row.save(update_fields=["hidden", "status"])
    events.emit(ctx, "customer.deleted", row.data)
    return {"id": id, "object": "customer", "deleted": True}


@route("GET", r"/v1/customers")
def list_customers(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows = store.scoped(ctx, "customer").exclude(status="deleted")
    rows = rows.filter(store.created_filter(params))
    email = string(params, "email")
    if email:
        # Stripe's email filter is case-sensitive.
        rows = rows.filter(data__email=email)
    return store.page(ctx, rows, params, "/v1/customers")


# --- Search: Stripe's query language, for the fields customers can be searched by -----
CLAUSE = re.compile(
    r"""\s*(?P<negate>-)?(?P<field>[a-z_]+(?:\[['"][^'"]+['"]\])?)\s*"""
    r"""(?P<operator>:|~|>=|<=|>|<)\s*(?P<value>'[^']*'|"[^"]*"|[^\s]+)\s*""",
    re.IGNORECASE,
)
SEARCHABLE = {"email", "name", "phone", "created", "metadata"}


def _clause(found: re.Match[str]) -> Q:
    field, operator, value = found["field"], found["operator"], found["value"]
    if value[:1] in "'\"":
        value = value[1:-1]
    name = field.split("[", 1)[0].lower()
    if name not in SEARCHABLE:
        raise invalid(
            f"Field `{field}` is an unsupported search field for resource `customers`. "
            "See http://stripe.com/docs/search#query-fields-for-customers for a list of "
            "supported fields.",
            param="query",
        )
    if name == "metadata":
        key = field[field.index("[") + 2 : -2]
        condition = Q(**{f"data__metadata__{key}": value})
    elif name == "created":
        if not value.isdigit():
            raise invalid(f"Invalid value for created: {value}", param="query")
        lookup = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte", ":": "exact"}[operator]
        condition = Q(**{f"created__{lookup}": int(value)})
    elif operator == ":":
        condition = Q(**{f"data__{name}__iexact": value})
    elif operator == "~":
        if len(value) < 3:
            raise invalid(
                "The substring search operator requires a value of at least 3 characters.",
                param="query",
            )
        condition = Q(**{f"data__{name}__icontains": value})
    else:
        raise invalid(f"Operator {operator} is not supported for field {name}.", param="query")
    return ~condition if found["negate"] else condition


def parse_query(query: str) -> Q:
    """`email:'a@b.com' AND name~'jen'`: clauses joined by one kind of connective."""
    parts = re.split(r"\s+(AND|OR)\s+", query.strip())
    clauses, connectives = parts[0::2], set(parts[1::2])
    if len(connectives) > 1:
        raise invalid("Query may not mix AND and OR.", param="query")
    combined: Q | None = None
    for text in clauses:
        found = CLAUSE.fullmatch(text)
        if found is None:
            raise invalid(f"Invalid query: could not parse `{text}`.", param="query")
        condition = _clause(found)
        if combined is None:
            combined = condition
        elif connectives == {"OR"}:
            combined |= condition
        else:
            combined &= condition
    return combined or Q()


def search(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    query = string(params, "query", required=True)
    rows = store.scoped(ctx, "customer").exclude(status="deleted").filter(parse_query(query))
    # The `page` token is the last id of the previous page, so pages never overlap.
    page_params = {"limit": params.get("limit")}
    if params.get("page"):
        page_params["starting_after"] = params["page"]
    result = store.page(ctx, rows, page_params, "/v1/customers/search")
    last = result["data"][-1]["id"] if result["data"] else None
    return {
        "object": "search_result",
        "data": result["data"],
        "has_more": result["has_more"],
        "next_page": last if result["has_more"] else None,
        "url": "/v1/customers/search",
    }
