"""PaymentIntents: create, confirm (3DS, declines), capture (partial), cancel, list."""

from __future__ import annotations

from typing import Any

from sandbox import cards, events, ids, store
from sandbox.errors import StripeError, invalid, unexpected_state
from sandbox.params import boolean, currency, integer, metadata, string, string_list
from sandbox.resources import charges, connect_money, payment_methods
from sandbox.routes import route
from sandbox.store import Context

MINIMUM_AMOUNTS = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "jpy": 50, "chf": 50}
CANCELABLE = ["requires_payment_method", "requires_capture", "requires_confirmation",
              "requires_action", "processing"]  # fmt: skip
CONFIRMABLE = {"requires_payment_method", "requires_confirmation", "requires_action"}
CANCELLATION_REASONS = {"duplicate", "fraudulent", "requested_by_customer", "abandoned"}


def _amount(params: dict[str, Any], currency_code: str, *, required: bool) -> int | None:
    amount = integer(params, "amount", required=required)
    if amount is None:
        return None
    minimum = MINIMUM_AMOUNTS.get(currency_code, 50)
    if amount < minimum:
        raise invalid(
            f"Amount must be at least {minimum} {currency_code}",
            param="amount",
            code="amount_too_small",
        )
    if amount > 99999999:
        raise invalid(
            "Amount must be no more than $999,999.99", param="amount", code="amount_too_large"
        )
    return amount


def _customer(ctx: Context, params: dict[str, Any]) -> str | None:
    customer = string(params, "customer")
    if customer:
        from sandbox.resources.customers import live_customer

        live_customer(ctx, customer)
    return customer


@route("POST", r"/v1/payment_intents")
def create(ctx: Context, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    currency_code = currency(params)
    amount = _amount(params, currency_code, required=True)
    capture_method = string(params, "capture_method") or "automatic_async"
    if capture_method not in {"automatic", "automatic_async", "manual"}:
        raise invalid(f"Invalid capture_method: {capture_method}", param="capture_method")
    types = string_list(params, "payment_method_types")
    automatic = None if types else {"allow_redirects": "always", "enabled": True}
    intent_id = ids.new_id("pi", random_length=15)
    data = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": integer(params, "application_fee_amount"),
        "automatic_payment_methods": automatic,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": capture_method,
        "client_secret": f"{intent_id}_secret_{ids.random_token(25)}",
        "confirmation_method": string(params, "confirmation_method") or "automatic",
        "created": ctx.now,
        "currency": currency_code,
        "customer": _customer(ctx, params),
        "customer_account": None,
        "description": string(params, "description"),
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": ctx.livemode,
        "managed_payments": None,
        "metadata": metadata({}, params),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": types or ["card"],
        "processing": None,
        "receipt_email": string(params, "receipt_email"),
        "review": None,
        "setup_future_usage": string(params, "setup_future_usage"),
        "shipping": None,
        "source": None,
        "statement_descriptor": string(params, "statement_descriptor"),
        "statement_descriptor_suffix": string(params, "statement_descriptor_suffix"),
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": string(params, "transfer_group"),
    }
    data.update(connect_money.intent_connect_fields(ctx, params))
    if "card" not in data["payment_method_types"]:
        raise invalid(
            "The sandbox supports the `card` payment method type only.",
            param="payment_method_types",
        )
    payment_method = string(params, "payment_method")
    pm_row = None
    if payment_method:
        pm_row = payment_methods.resolve(ctx, payment_method)
        data["payment_method"] = pm_row.stripe_id
        data["status"] = "requires_confirmation"
    row = store.create(ctx, "payment_intent", data)
    events.emit(ctx, "payment_intent.created", data)
    if boolean(params, "confirm", default=False):
        # The payment method was resolved above (a test id must not make a second one).
        confirm_params = {key: value for key, value in params.items() if key != "payment_method"}
        return _confirm(ctx, row, confirm_params, resolved=pm_row if payment_method else None)
    return 200, data


@route("GET", r"/v1/payment_intents/{id}")
def retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    return store.get(ctx, "payment_intent", id).data


@route("POST", r"/v1/payment_intents/{id}")
def update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "payment_intent", id, for_update=True)
    data = dict(row.data)
    money_fields = {"amount", "currency", "payment_method", "customer", "capture_method"}
    if money_fields & set(params) and data["status"] in {"succeeded", "canceled", "processing"}:
        raise unexpected_state(
            "This PaymentIntent's "
            + sorted(money_fields & set(params))[0]
            + f" could not be updated because it has a status of {data['status']}. You may "
            "only update the amount of a PaymentIntent with one of the following statuses: "
            "requires_payment_method, requires_confirmation, requires_action."
        )
    if "currency" in params:
        data["currency"] = currency(params)
    if "amount" in params:
        data["amount"] = _amount(params, data["currency"], required=True)
    if "customer" in params:
        data["customer"] = _customer(ctx, params)
    if "payment_method" in params:
        data["payment_method"] = payment_methods.resolve(ctx, params["payment_method"]).stripe_id
        data["status"] = "requires_confirmation"
    for name in ("description", "receipt_email", "statement_descriptor", "setup_future_usage"):
        if name in params:
            data[name] = params[name] or None
    data["metadata"] = metadata(data.get("metadata"), params)
    row.data = data
    store.save(row)
    return data


@route("POST", r"/v1/payment_intents/{id}/confirm")
def confirm(ctx: Context, params: dict[str, Any], id: str) -> tuple[int, dict[str, Any]]:
    row = store.get(ctx, "payment_intent", id, for_update=True)
    return _confirm(ctx, row, params)


def _confirm(
    ctx: Context, row, params: dict[str, Any], resolved=None
) -> tuple[int, dict[str, Any]]:
    data = dict(row.data)
    if data["status"] not in CONFIRMABLE:
        raise unexpected_state(
            "You cannot confirm this PaymentIntent because it has a status of "
            f"{data['status']}. Only a PaymentIntent with one of the following statuses may "
            "be confirmed: requires_payment_method, requires_confirmation, requires_action."
        )
    if params.get("payment_method"):
        data["payment_method"] = payment_methods.resolve(ctx, params["payment_method"]).stripe_id
    if not data.get("payment_method"):
        raise unexpected_state(
            "You cannot confirm this PaymentIntent because it's missing a payment method. "
            "Update the PaymentIntent with a payment method and then confirm it again."
        )
    pm_row = resolved or store.get(
        ctx, "payment_method", data["payment_method"], param="payment_method"
    )
    pm = pm_row.data
    if pm.get("customer") and pm["customer"] != data.get("customer"):
        raise invalid(
            "The provided PaymentMethod was previously used with a PaymentIntent without "
            "Customer attachment, shared with a connected account without Customer attachment, "
            "or was detached from a Customer. It may not be used again.",
            param="payment_method",
        )
    off_session = boolean(params, "off_session", default=False)
    for name in ("receipt_email", "setup_future_usage"):
        if name in params:
            data[name] = params[name] or None
    behaviour = payment_methods.behaviour_of(pm_row)

    if behaviour.requires_action:
        if off_session:
            failure = cards.Behaviour(
                "authentication_required",
                error_code="authentication_required",
                message="Your card was declined. This transaction requires authentication.",
            )
            return _decline(ctx, row, data, pm, failure)
        data["status"] = "requires_action"
        data["next_action"] = {
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {
                "type": "three_d_secure_redirect",
                "stripe_js": f"https://hooks.stripe.com/3d_secure_2/hosted?payment_intent={data['id']}",
                "source": "src_" + ids.random_token(24),
            },
        }
        row.data = data
        store.save(row)
        events.emit(ctx, "payment_intent.requires_action", data)
        return 200, data
    if behaviour.decline_code:
        return _decline(ctx, row, data, pm, behaviour)
    return 200, succeed(ctx, row, data, pm, behaviour)


def succeed(
    ctx: Context, row, data: dict[str, Any], pm: dict[str, Any], behaviour: cards.Behaviour
) -> dict[str, Any]:
    """Authorise the charge; capture it unless the intent captures manually."""
    manual = data["capture_method"] == "manual"
    charge = charges.build(
        ctx,
        intent=data,
        payment_method=pm,
        status="succeeded",
        captured=not manual,
        outcome=dict(charges.APPROVED),
    )
    if not manual:
        transaction = charges.settle(ctx, charge, charge["amount"])
        charge["balance_transaction"] = transaction.stripe_id
        connect_money.after_capture(ctx, charge, data, charge["amount"], transaction)
    charge_row = store.create(ctx, "charge", charge)
    data.update(
        latest_charge=charge["id"],
        next_action=None,
        last_payment_error=None,
        status="requires_capture" if manual else "succeeded",
        amount_capturable=data["amount"] if manual else 0,
        amount_received=0 if manual else data["amount"],
    )
    if data.get("setup_future_usage") and data.get("customer") and not pm.get("customer"):
        payment_methods.attach_to(ctx, pm["id"], data["customer"], param="payment_method")
    row.data = data
    store.save(row)
    events.emit(ctx, "charge.succeeded", charge)
    if manual:
        events.emit(ctx, "payment_intent.amount_capturable_updated", data)
    else:
        events.emit(ctx, "payment_intent.succeeded", data)
    if behaviour.disputes and not manual:
        from sandbox.resources import disputes

        disputes.open_for_charge(ctx, charge_row, reason="fraudulent")
    return data


def _decline(ctx: Context, row, data: dict[str, Any], pm: dict[str, Any], behaviour):
    charge = charges.build(
        ctx,
        intent=data,
        payment_method=pm,
        status="failed",
        captured=False,
        outcome=charges.declined_outcome(behaviour),
        failure=behaviour,
    )
    store.create(ctx, "charge", charge)
    error = cards.card_error(
        behaviour.message, code=behaviour.error_code, decline_code=behaviour.decline_code
    )
    error_body = error.body()["error"]
    data.update(
        status="requires_payment_method",
        latest_charge=charge["id"],
        next_action=None,
        payment_method=None,
        last_payment_error={**error_body, "charge": charge["id"], "payment_method": pm},
    )
    row.data = data
    store.save(row)
    events.emit(ctx, "charge.failed", charge)
    events.emit(ctx, "payment_intent.payment_failed", data)
    # Stripe answers 402 with the updated intent in the error, and keeps what happened.
    raise StripeError(
        behaviour.message,
        type="card_error",
        status=402,
        code=behaviour.error_code,
        decline_code=behaviour.decline_code,
        extra={"charge": charge["id"], "payment_intent": data, "payment_method": pm},
        keeps_state=True,
    )


@route("POST", r"/v1/payment_intents/{id}/capture")
def capture(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "payment_intent", id, for_update=True)
    data = dict(row.data)
    if data["status"] != "requires_capture":
        raise unexpected_state(
            "This PaymentIntent could not be captured because it has a status of "
            f"{data['status']}. Only a PaymentIntent with one of the following statuses may be "
            "captured: requires_capture."
        )
    amount = integer(params, "amount_to_capture", minimum=1)
    if amount is None:
        amount = data["amount_capturable"]
    if amount > data["amount_capturable"]:
        raise invalid(
            "The amount to capture must be less than or equal to the amount_capturable "
            f"({data['amount_capturable']}).",
            param="amount_to_capture",
            code="amount_too_large",
        )
    charge_row = store.get(ctx, "charge", data["latest_charge"], for_update=True)
    charge = dict(charge_row.data)
    transaction = charges.settle(ctx, charge, amount)
    charge.update(
        captured=True,
        amount_captured=amount,
        # The uncaptured remainder is released and counts as refunded, as at Stripe.
        amount_refunded=charge["amount"] - amount,
        balance_transaction=transaction.stripe_id,
    )
    connect_money.after_capture(ctx, charge, data, amount, transaction)
    charge_row.data = charge
    store.save(charge_row)
    data.update(status="succeeded", amount_received=amount, amount_capturable=0)
    row.data = data
    store.save(row)
    events.emit(ctx, "charge.captured", charge)
    events.emit(ctx, "payment_intent.succeeded", data)
    pm_row = store.find(ctx, charge["payment_method"])
    if pm_row is not None and payment_methods.behaviour_of(pm_row).disputes:
        from sandbox.resources import disputes

        disputes.open_for_charge(ctx, charge_row, reason="fraudulent")
    return data


@route("POST", r"/v1/payment_intents/{id}/cancel")
def cancel(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "payment_intent", id, for_update=True)
    data = dict(row.data)
    if data["status"] not in CANCELABLE:
        raise unexpected_state(
            "You cannot cancel this PaymentIntent because it has a status of "
            f"{data['status']}. Only a PaymentIntent with one of the following statuses may be "
            f"canceled: {', '.join(CANCELABLE)}."
        )
    reason = string(params, "cancellation_reason")
    if reason and reason not in CANCELLATION_REASONS:
        raise invalid(f"Invalid cancellation_reason: {reason}", param="cancellation_reason")
    if data["status"] == "requires_capture":
        charge_row = store.get(ctx, "charge", data["latest_charge"], for_update=True)
        charge_row.data = dict(
            charge_row.data, amount_refunded=charge_row.data["amount"], refunded=True
        )
        store.save(charge_row)
        events.emit(ctx, "charge.refunded", charge_row.data)
    data.update(
        status="canceled",
        canceled_at=ctx.now,
        cancellation_reason=reason,
        amount_capturable=0,
        next_action=None,
    )
    row.data = data
    store.save(row)
    events.emit(ctx, "payment_intent.canceled", data)
    return data


@route("GET", r"/v1/payment_intents")
def list_intents(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows = store.scoped(ctx, "payment_intent").filter(store.created_filter(params))
    customer = string(params, "customer")
    if customer:
        rows = rows.filter(customer=customer)
    return store.page(ctx, rows, params, "/v1/payment_intents")
