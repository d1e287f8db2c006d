"""Money between a platform and its connected accounts: transfers (and their reversals),
destination charges, application fees (and their refunds).

Each movement writes a balance transaction on both sides, as Stripe does: a transfer is a
`transfer` debit on the platform and a `payment` credit (a `py_` charge object) on the
connected account; an application fee is an `application_fee` debit on the connected
account and a credit on the platform.
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox import events, ids, money, store
from sandbox.errors import invalid
from sandbox.models import SandboxAccount, StateObject
from sandbox.params import currency, integer, metadata, string
from sandbox.resources import balance
from sandbox.resources.connect import acting_as, application_id, get_account
from sandbox.routes import route
from sandbox.store import Context


def _empty_list(url: str) -> dict[str, Any]:
    return {"object": "list", "data": [], "has_more": False, "total_count": 0, "url": url}


def _destination_payment(
    ctx: Context,
    *,
    transfer: dict[str, Any],
    available_on: int,
    source_charge: dict[str, Any] | None,
) -> str:
    """The `py_` payment on the connected account that a transfer lands as."""
    payment_id = ids.new_id("py", random_length=15)
    shows_buyer = bool(source_charge and source_charge.get("on_behalf_of"))
    with acting_as(ctx, transfer["destination"]):
        txn = balance.add_transaction(
            ctx,
            amount=transfer["amount"],
            currency=transfer["currency"],
            type="payment",
            reporting_category="charge",
            source=payment_id,
            description=transfer.get("description"),
            available_on=available_on,
        )
        payment = {
            "id": payment_id,
            "object": "charge",
            "amount": transfer["amount"],
            "amount_captured": transfer["amount"],
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": txn.stripe_id,
            # The buyer's details reach the connected account only when it is the merchant
            # of record (`on_behalf_of`), as in Stripe's Express dashboard.
            "billing_details": source_charge["billing_details"] if shows_buyer else None,
            "captured": True,
            "created": ctx.now,
            "currency": transfer["currency"],
            "customer": None,
            "description": transfer.get("description"),
            "disputed": False,
            "livemode": ctx.livemode,
            "metadata": {},
            "on_behalf_of": source_charge.get("on_behalf_of") if source_charge else None,
            "paid": True,
            "payment_intent": None,
            "payment_method": None,
            "payment_method_details": (
                source_charge["payment_method_details"] if shows_buyer else None
            ),
            "refunded": False,
            "refunds": _empty_list(f"/v1/charges/{payment_id}/refunds"),
            "source_transfer": transfer["id"],
            "status": "succeeded",
            "transfer_group": transfer.get("transfer_group"),
        }
        store.create(ctx, "charge", payment)
        events.emit(ctx, "charge.succeeded", payment)
    return payment_id


def check_destination(ctx: Context, destination: str) -> None:
    account = get_account(ctx, destination).data
    if account.get("capabilities", {}).get("transfers") not in {"active", None}:
        raise invalid(
            "Your destination account needs to have at least one of the following "
            "capabilities enabled: transfers, crypto_transfers, legacy_payments",
            param="destination",
            code="insufficient_capabilities_for_transfer",
        )


def make_transfer(
    ctx: Context,
    *,
    amount: int,
    currency_code: str,
    destination: str,
    description: str | None = None,
    transfer_group: str | None = None,
    source_charge: dict[str, Any] | None = None,
    available_on: int | None = None,
    meta: dict[str, str] | None = None,
) -> StateObject:
    check_destination(ctx, destination)
    transfer_id = ids.new_id("tr", random_length=15)
    with acting_as(ctx, ""):
        txn = balance.add_transaction(
            ctx,
            amount=-amount,
            currency=currency_code,
            type="transfer",
            reporting_category="transfer",
            source=transfer_id,
            description=description,
            # Funds from a charge move when the charge's funds become available.
            available_on=available_on if available_on is not None else ctx.now,
        )
    transfer = {
        "id": transfer_id,
        "object": "transfer",
        "amount": amount,
        "amount_reversed": 0,
        "balance_transaction": txn.stripe_id,
        "created": ctx.now,
        "currency": currency_code,
        "description": description,
        "destination": destination,
        "destination_payment": None,
        "livemode": ctx.livemode,
        "metadata": meta or {},
        "reversals": _empty_list(f"/v1/transfers/{transfer_id}/reversals"),
        "reversed": False,
        "source_transaction": source_charge["id"] if source_charge else None,
        "source_type": "card",
        "transfer_group": transfer_group,
    }
    transfer["destination_payment"] = _destination_payment(
        ctx,
        transfer=transfer,
        available_on=available_on if available_on is not None else ctx.now,
        source_charge=source_charge,
    )
    with acting_as(ctx, ""):
        row = store.create(ctx, "transfer", transfer)
        events.emit(ctx, "transfer.created", transfer)
    return row


def make_application_fee(
    ctx: Context,
    *,
    amount: int,
    currency_code: str,
    connected_account: str,
    charge_id: str,
    available_on: int,
    originating_transaction: str | None = None,
) -> StateObject:
    fee_id = ids.new_id("fee", random_length=15)
    with acting_as(ctx, connected_account):
        balance.add_transaction(
            ctx,
            amount=-amount,
            currency=currency_code,
            type="application_fee",
            reporting_category="fee",
            source=fee_id,
            description="Application fee",
            available_on=available_on,
        )
    with acting_as(ctx, ""):
        txn = balance.add_transaction(
            ctx,
            amount=amount,
            currency=currency_code,
            type="application_fee",
            reporting_category="platform_earning",
            source=fee_id,
            description="Application fee",
            available_on=available_on,
        )
        data = {
            "id": fee_id,
            "object": "application_fee",
            "account": connected_account,
            "amount": amount,
            "amount_refunded": 0,
            "application": application_id(ctx),
            "balance_transaction": txn.stripe_id,
            "charge": charge_id,
            "created": ctx.now,
            "currency": currency_code,
            "fee_source": {"charge": charge_id, "type": "charge"},
            "livemode": ctx.livemode,
            "originating_transaction": originating_transaction,
            "refunded": False,
            "refunds": _empty_list(f"/v1/application_fees/{fee_id}/refunds"),
        }
        row = store.create(ctx, "application_fee", data)
        events.emit(ctx, "application_fee.created", data)
    return row


def after_capture(
    ctx: Context, charge: dict[str, Any], intent: dict[str, Any], amount: int, txn: StateObject
) -> None:
    """Destination charges and direct charges with an application fee, once captured.

    Updates `charge` in place (`transfer`, `application_fee`).
    """
    transfer_data = intent.get("transfer_data") or {}
    fee_amount = intent.get("application_fee_amount")
    available_on = txn.data["available_on"]
    if transfer_data.get("destination") and not ctx.stripe_account:
        destination = transfer_data["destination"]
        # With `transfer_data[amount]` only that amount moves and no fee is taken;
        # otherwise the whole amount moves and the application fee comes back from it.
        transfer_amount = transfer_data.get("amount") or amount
        transfer = make_transfer(
            ctx,
            amount=transfer_amount,
            currency_code=charge["currency"],
            destination=destination,
            transfer_group=charge.get("transfer_group") or f"group_{intent['id']}",
            source_charge=charge,
            available_on=available_on,
        ).data
        charge["transfer"] = transfer["id"]
        if fee_amount and not transfer_data.get("amount"):
            fee = make_application_fee(
                ctx,
                amount=fee_amount,
                currency_code=charge["currency"],
                connected_account=destination,
                charge_id=charge["id"],
                available_on=available_on,
                originating_transaction=transfer["destination_payment"],
            )
            charge["application_fee"] = fee.stripe_id
    elif fee_amount and ctx.stripe_account:
        # A direct charge on the connected account: the fee goes to the platform.
        fee = make_application_fee(
            ctx,
            amount=fee_amount,
            currency_code=charge["currency"],
            connected_account=ctx.stripe_account,
            charge_id=charge["id"],
            available_on=available_on,
        )
        charge["application_fee"] = fee.stripe_id
        charge["application"] = application_id(ctx)


def intent_connect_fields(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """`transfer_data`, `on_behalf_of` and `application_fee_amount` of a new intent."""
    raw = params.get("transfer_data") or {}
    fields: dict[str, Any] = {"transfer_data": None, "on_behalf_of": None}
    if raw:
        if not isinstance(raw, dict) or not string(raw, "destination"):
            raise invalid(
                "Missing required param: transfer_data[destination].",
                param="transfer_data[destination]",
            )
        check_destination(ctx, raw["destination"])
        fields["transfer_data"] = {
            "destination": raw["destination"],
            "amount": integer(raw, "amount", minimum=1),
        }
        if fields["transfer_data"]["amount"] is None:
            del fields["transfer_data"]["amount"]
    on_behalf_of = string(params, "on_behalf_of")
    if on_behalf_of:
        get_account(ctx, on_behalf_of)
        fields["on_behalf_of"] = on_behalf_of
    fee = integer(params, "application_fee_amount", minimum=0)
    if fee and not raw and not ctx.stripe_account:
        raise invalid(
            "Can only apply an application_fee_amount when the PaymentIntent is attempting a "
            "direct payment (using an OAuth key or Stripe-Account header) or destination "
            "payment (using `transfer_data[destination]`).",
            param="application_fee_amount",
        )
    return fields


# --- Transfers --------------------------------------------------------------------------


def _lock(ctx: Context) -> None:
    SandboxAccount.objects.select_for_update().filter(pk=ctx.account.pk).first()


@route("POST", r"/v1/transfers")
def create_transfer(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    amount = integer(params, "amount", required=True, minimum=1)
    currency_code = currency(params)
    destination = string(params, "destination", required=True)
    source_transaction = string(params, "source_transaction")
    source_charge = None
    available_on = None
    check_destination(ctx, destination)
    _lock(ctx)
    if source_transaction:
        source_charge = store.get(ctx, "charge", source_transaction, param="source_transaction")
        source_charge = source_charge.data
        txn = store.get(ctx, "balance_transaction", source_charge["balance_transaction"])
        available_on = txn.data["available_on"]
    else:
        available = balance.available_amounts(ctx).get(currency_code, 0)
        if amount > available:
            raise invalid(
                "You have insufficient available funds in your Stripe account. Try adding "
                "funds directly to your available balance by creating Charges using the "
                f"4000000000000077 test card. ({money.display(available, currency_code)} "
                "available)",
                param="amount",
                code="balance_insufficient",
            )
    row = make_transfer(
        ctx,
        amount=amount,
        currency_code=currency_code,
        destination=destination,
        description=string(params, "description"),
        transfer_group=string(params, "transfer_group"),
        source_charge=source_charge,
        available_on=available_on,
        meta=metadata({}, params),
    )
    return row.data


@route("GET", r"/v1/transfers/{id}")
def retrieve_transfer(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    return store.get(ctx, "transfer", id).data


@route("POST", r"/v1/transfers/{id}")
def update_transfer(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "transfer", id, for_update=True)
    before = row.data
    data = dict(before, metadata=metadata(before.get("metadata"), params))
    if "description" in params:
        data["description"] = params["description"] or None
    row.data = data
    store.save(row)
    events.emit(ctx, "transfer.updated", data, previous_attributes=events.changed(before, data))
    return data


@route("GET", r"/v1/transfers")
def list_transfers(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows = store.scoped(ctx, "transfer").filter(store.created_filter(params))
    destination = string(params, "destination")
    if destination:
        rows = rows.filter(data__destination=destination)
    group = string(params, "transfer_group")
    if group:
        rows = rows.filter(data__transfer_group=group)
    return store.page(ctx, rows, params, "/v1/transfers")


@route("POST", r"/v1/transfers/{id}/reversals")
def create_reversal(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "transfer", id, for_update=True)
    transfer = copy.deepcopy(row.data)
    remaining = transfer["amount"] - transfer["amount_reversed"]
    amount = integer(params, "amount", minimum=1)
    if amount is None:
        amount = remaining
    if remaining <= 0:
        raise invalid(f"Transfer {id} has already been fully reversed.", param="amount")
    if amount > remaining:
        raise invalid(
            f"Reversal amount ({money.display(amount, transfer['currency'])}) is greater than "
            f"the amount left on the transfer ({money.display(remaining, transfer['currency'])})",
            param="amount",
            code="amount_too_large",
        )
    reversal_id = ids.new_id("trr", random_length=15)
    txn = balance.add_transaction(
        ctx,
        amount=amount,
        currency=transfer["currency"],
        type="transfer_refund",
        reporting_category="transfer_reversal",
        source=reversal_id,
        description="Transfer reversal",
        available_on=ctx.now,
    )
    refund_id = ids.new_id("pyr", random_length=15)
    with acting_as(ctx, transfer["destination"]):
        balance.add_transaction(
            ctx,
            amount=-amount,
            currency=transfer["currency"],
            type="payment_refund",
            reporting_category="transfer_reversal",
            source=refund_id,
            description="Transfer reversal",
            available_on=ctx.now,
        )
    reversal = {
        "id": reversal_id,
        "object": "transfer_reversal",
        "amount": amount,
        "balance_transaction": txn.stripe_id,
        "created": ctx.now,
        "currency": transfer["currency"],
        "destination_payment_refund": refund_id,
        "metadata": metadata({}, params),
        "source_refund": None,
        "transfer": id,
    }
    store.create(ctx, "transfer_reversal", reversal)
    before = row.data
    transfer["amount_reversed"] += amount
    transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
    transfer["reversals"]["data"] = [reversal, *transfer["reversals"]["data"]]
    transfer["reversals"]["total_count"] = len(transfer["reversals"]["data"])
    row.data = transfer
    store.save(row)
    changed = events.changed(before, transfer)
    events.emit(ctx, "transfer.reversed", transfer, previous_attributes=changed)
    return reversal


@route("GET", r"/v1/transfers/{id}/reversals")
def list_reversals(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    store.get(ctx, "transfer", id)
    rows = store.scoped(ctx, "transfer_reversal").filter(data__transfer=id)
    return store.page(ctx, rows, params, f"/v1/transfers/{id}/reversals")


# --- Application fees -------------------------------------------------------------------


@route("GET", r"/v1/application_fees/{id}")
def retrieve_fee(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    return store.get(ctx, "application_fee", id).data


@route("GET", r"/v1/application_fees")
def list_fees(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows = store.scoped(ctx, "application_fee").filter(store.created_filter(params))
    charge = string(params, "charge")
    if charge:
        rows = rows.filter(charge=charge)
    return store.page(ctx, rows, params, "/v1/application_fees")


@route("POST", r"/v1/application_fees/{id}/refunds")
def create_fee_refund(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    row = store.get(ctx, "application_fee", id, for_update=True)
    fee = copy.deepcopy(row.data)
    remaining = fee["amount"] - fee["amount_refunded"]
    amount = integer(params, "amount", minimum=1)
    if amount is None:
        amount = remaining
    if amount > remaining or remaining <= 0:
        raise invalid(
            f"Refund amount ({money.display(amount, fee['currency'])}) is greater than the "
            f"amount left on the application fee ({money.display(remaining, fee['currency'])})",
            param="amount",
            code="amount_too_large",
        )
    refund_id = ids.new_id("fr", random_length=15)
    txn = balance.add_transaction(
        ctx,
        amount=-amount,
        currency=fee["currency"],
        type="application_fee_refund",
        reporting_category="platform_earning_refund",
        source=refund_id,
        description="Application fee refund",
        available_on=ctx.now,
    )
    with acting_as(ctx, fee["account"]):
        balance.add_transaction(
            ctx,
            amount=amount,
            currency=fee["currency"],
            type="application_fee_refund",
            reporting_category="fee",
            source=refund_id,
            description="Application fee refund",
            available_on=ctx.now,
        )
    refund = {
        "id": refund_id,
        "object": "fee_refund",
        "amount": amount,
        "balance_transaction": txn.stripe_id,
        "created": ctx.now,
        "currency": fee["currency"],
        "fee": id,
        "metadata": metadata({}, params),
    }
    store.create(ctx, "fee_refund", refund)
    before = row.data
    fee["amount_refunded"] += amount
    fee["refunded"] = fee["amount_refunded"] >= fee["amount"]
    fee["refunds"]["data"] = [refund, *fee["refunds"]["data"]]
    fee["refunds"]["total_count"] = len(fee["refunds"]["data"])
    row.data = fee
    store.save(row)
    events.emit(
        ctx, "application_fee.refunded", fee, previous_attributes=events.changed(before, fee)
    )
    return refund


@route("GET", r"/v1/application_fees/{id}/refunds")
def list_fee_refunds(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    store.get(ctx, "application_fee", id)
    rows = store.scoped(ctx, "fee_refund").filter(data__fee=id)
    return store.page(ctx, rows, params, f"/v1/application_fees/{id}/refunds")
