"""Card payment methods: created from a test card number or a `pm_card_*` test id."""

from __future__ import annotations

from typing import Any

from sandbox import cards, events, ids, store
from sandbox.clock import to_datetime
from sandbox.errors import invalid, missing_param
from sandbox.models import StateObject
from sandbox.params import integer, metadata, string
from sandbox.routes import route
from sandbox.store import Context

ADDRESS_KEYS = ["city", "country", "line1", "line2", "postal_code", "state"]


def _billing_details(current: dict[str, Any] | None, raw: Any) -> dict[str, Any]:
    details = dict(
        current
        or {"address": dict.fromkeys(ADDRESS_KEYS), "email": None, "name": None, "phone": None}
    )
    details.setdefault("tax_id", None)
    if isinstance(raw, dict):
        for key in ("email", "name", "phone"):
            if key in raw:
                details[key] = raw[key] or None
        if isinstance(raw.get("address"), dict):
            details["address"] = {key: raw["address"].get(key) or None for key in ADDRESS_KEYS}
    return details


def _expiry(ctx: Context, raw: dict[str, Any]) -> tuple[int, int]:
    exp_month = integer(raw, "exp_month")
    exp_year = integer(raw, "exp_year")
    if exp_month is None:
        raise missing_param("card[exp_month]")
    if exp_year is None:
        raise missing_param("card[exp_year]")
    if exp_year < 100:
        exp_year += 2000
    if not 1 <= exp_month <= 12:
        raise cards.card_error(
            "Your card's expiration month is invalid.",
            code="invalid_expiry_month",
            param="card[exp_month]",
        )
    today = to_datetime(ctx.now)
    if (exp_year, exp_month) < (today.year, today.month):
        raise cards.card_error(
            "Your card's expiration year is invalid.",
            code="invalid_expiry_year",
            param="card[exp_year]",
        )
    return exp_month, exp_year


def create_card(
    ctx: Context,
    *,
    number: str,
    exp_month: int,
    exp_year: int,
    cvc_given: bool,
    billing_details: Any = None,
    meta: dict[str, str] | None = None,
) -> StateObject:
    described = cards.describe(number, ctx.account.stripe_id)
    brand = described["brand"]
    data = {
        "id": ids.new_id("pm", random_length=15),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": _billing_details(None, billing_details),
        "card": {
            "brand": brand,
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "pass" if cvc_given else None,
            },
            "country": described["country"],
            "display_brand": brand,
            "exp_month": exp_month,
            "exp_year": exp_year,
            "fingerprint": described["fingerprint"],
            "funding": described["funding"],
            "generated_from": None,
            "last4": described["last4"],
            "networks": {"available": [brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": ctx.now,
        "customer": None,
        "customer_account": None,
        "livemode": ctx.livemode,
        "metadata": meta or {},
        "type": "card",
    }
    return store.create(ctx, "payment_method", data, hidden={"behaviour": described["behaviour"]})


def resolve(ctx: Context, stripe_id: Any, *, param: str = "payment_method") -> StateObject:
    """A stored payment method, or a fresh one made from a `pm_card_*` test id (as Stripe
    does: each use of a test id gives a new payment method)."""
    if isinstance(stripe_id, str) and stripe_id in cards.TEST_PAYMENT_METHODS:
        year = to_datetime(ctx.now).year + 3
        row = create_card(
            ctx,
            number=cards.TEST_PAYMENT_METHODS[stripe_id],
            exp_month=12,
            exp_year=year,
            cvc_given=True,
        )
        return row
    return store.get(ctx, "payment_method", stripe_id, param=param)


def behaviour_of(row: StateObject) -> cards.Behaviour:
    return cards.BEHAVIOURS[row.hidden.get("behaviour", "success")]


def attach_to(ctx: Context, stripe_id: Any, customer_id: str, *, param: str) -> StateObject:
    row = resolve(ctx, stripe_id, param=param)
    if row.data.get("customer") and row.data["customer"] != customer_id:
        raise invalid(
            "The payment method you provided has already been attached to a customer.",
            param=param,
        )
    behaviour = behaviour_of(row)
    if behaviour.declines_on_attach:
        raise cards.card_error(
            behaviour.message, code=behaviour.error_code, decline_code=behaviour.decline_code
        )
    before = row.data.get("customer")
    row.data = dict(row.data, customer=customer_id)
    store.save(row)
    if before != customer_id:
        events.emit(ctx, "payment_method.attached", row.data)
    return row


@route("POST", r"/v1/payment_methods")
def create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    kind = string(params, "type", required=True)
    if kind != "card":
        raise invalid(
            f"The payment method type provided: {kind} is invalid. The sandbox supports: card.",
            param="type",
        )
    raw = params.get("card")
    if not isinstance(raw, dict):
        raise missing_param("card")
    if "token" in raw or "number" not in raw:
        raise missing_param("card[number]")
    exp_month, exp_year = _expiry(ctx, raw)
    row = create_card(
        ctx,
        number=str(raw.pop("number")),
        exp_month=exp_month,
        exp_year=exp_year,
        cvc_given=bool(raw.get("cvc")),
        billing_details=params.get("billing_details"),
        meta=metadata({}, params),
    )
    # Stripe has no `payment_method.created` event: a new payment method is silent.
    return row.data


@route("GET", r"/v1/payment_methods/{id}")
def retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    return store.get(ctx, "payment_method", id).data


@route("POST", r"/v1/payment_methods/{id}")
def update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "payment_method", id, for_update=True)
    before = row.data
    data = dict(before, card=dict(before["card"]))
    if "billing_details" in params:
        data["billing_details"] = _billing_details(
            before["billing_details"], params["billing_details"]
        )
    raw = params.get("card")
    if isinstance(raw, dict):
        if "exp_month" in raw:
            data["card"]["exp_month"] = integer(raw, "exp_month")
        if "exp_year" in raw:
            data["card"]["exp_year"] = integer(raw, "exp_year")
    if "allow_redisplay" in params:
        data["allow_redisplay"] = params["allow_redisplay"]
    data["metadata"] = metadata(before.get("metadata"), params)
    row.data = data
    store.save(row)
    events.emit(
        ctx, "payment_method.updated", data, previous_attributes=events.changed(before, data)
    )
    return data


@route("POST", r"/v1/payment_methods/{id}/attach")
def attach(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    from sandbox.resources.customers import live_customer

    customer = live_customer(ctx, string(params, "customer", required=True))
    return attach_to(ctx, id, customer.stripe_id, param="id").data


@route("POST", r"/v1/payment_methods/{id}/detach")
def detach(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "payment_method", id, for_update=True)
    previous = row.data.get("customer")
    if not previous:
        raise invalid(
            "The payment method you provided is not attached to a customer so detachment "
            "is impossible.",
            param="payment_method",
        )
    row.data = dict(row.data, customer=None)
    store.save(row)
    events.emit(
        ctx, "payment_method.detached", row.data, previous_attributes={"customer": previous}
    )
    return row.data


def _list(ctx: Context, params: dict[str, Any], customer: str | None, url: str):
    rows = store.scoped(ctx, "payment_method")
    if customer:
        rows = rows.filter(customer=customer)
    kind = string(params, "type")
    if kind:
        rows = rows.filter(type=kind)
    return store.page(ctx, rows, params, url)


@route("GET", r"/v1/payment_methods")
def list_payment_methods(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _list(ctx, params, string(params, "customer"), "/v1/payment_methods")


@route("GET", r"/v1/customers/(?P<customer>[^/]+)/payment_methods")
def list_customer_payment_methods(
    ctx: Context, params: dict[str, Any], customer: str
) -> dict[str, Any]:
    from sandbox.resources.customers import live_customer

    live_customer(ctx, customer, param="customer")
    return _list(ctx, params, customer, f"/v1/customers/{customer}/payment_methods")


@route("GET", r"/v1/customers/(?P<customer>[^/]+)/payment_methods/{id}")
def retrieve_customer_payment_method(
    ctx: Context, params: dict[str, Any], customer: str, id: str
) -> dict[str, Any]:
    row = store.get(ctx, "payment_method", id)
    if row.data.get("customer") != customer:
        raise invalid(f"No such PaymentMethod: '{id}'", param="payment_method")
    return row.data
