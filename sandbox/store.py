"""Reading and writing emulated objects: one row per object in `StateObject`.

Handlers get and return the object's API shape (`row.data`); typed columns are derived
from it on every save so lists can filter and balances can sum without reading JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from sandbox import ids
from sandbox.errors import StripeError, invalid, no_such
from sandbox.models import SandboxAccount, StateObject
from sandbox.params import integer, string

DEFAULT_LIMIT = 10
MAX_LIMIT = 100


@dataclass
class Context:
    """Who is asking and when: resolved once per API request (or per clock step)."""

    account: SandboxAccount
    livemode: bool
    now: int
    stripe_account: str = ""
    api_version: str = ""
    request_id: str | None = None
    idempotency_key: str | None = None
    events_created: int = 0
    deliveries_queued: int = 0
    endpoint_cache: list[StateObject] | None = field(default=None, repr=False)
    # API requests collect new rows and insert them in one statement at the end
    # (`flush`); clock steps and services write at once, since they sum what they wrote.
    defer_writes: bool = False
    new_rows: dict[str, StateObject] = field(default_factory=dict, repr=False)
    new_deliveries: list[Any] = field(default_factory=list, repr=False)


def _reference(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return value.get("id") or ""
    return ""


def derive_columns(row: StateObject) -> None:
    data = row.data
    row.customer = _reference(data.get("customer"))
    row.charge = _reference(data.get("charge"))
    row.payment_intent = _reference(data.get("payment_intent"))
    row.product = _reference(data.get("product"))
    row.source = _reference(data.get("source"))
    row.status = str(data.get("status") or "")[:40]
    row.type = str(data.get("type") or "")[:80]
    row.currency = str(data.get("currency") or "")[:3]
    if row.object_type == "balance_transaction":
        row.amount = data.get("net")
        row.available_on = data.get("available_on")
    else:
        amount = data.get("amount")
        row.amount = amount if isinstance(amount, int) else None


def scoped(ctx: Context, object_type: str | None = None) -> QuerySet[StateObject]:
    rows = StateObject.objects.filter(
        account=ctx.account, livemode=ctx.livemode, stripe_account=ctx.stripe_account
    )
    if object_type:
        rows = rows.filter(object_type=object_type)
    return rows


def create(
    ctx: Context,
    object_type: str,
    data: dict[str, Any],
    *,
    hidden: dict[str, Any] | None = None,
    payout: str = "",
) -> StateObject:
    row = StateObject(
        account=ctx.account,
        livemode=ctx.livemode,
        stripe_account=ctx.stripe_account,
        object_type=object_type,
        stripe_id=data["id"],
        created=data.get("created") or ctx.now,
        data=data,
        hidden=hidden or {},
        payout=payout,
    )
    derive_columns(row)
    if ctx.defer_writes:
        ctx.new_rows[row.stripe_id] = row
    else:
        row.save(force_insert=True)
    return row


def save(row: StateObject) -> StateObject:
    derive_columns(row)
    if row.pk is not None:
        row.save()
    # A row still waiting in `ctx.new_rows` is inserted as it is by `flush`.
    return row


def flush(ctx: Context) -> None:
    from sandbox.models import Delivery

    if ctx.new_rows:
        StateObject.objects.bulk_create(list(ctx.new_rows.values()))
        ctx.new_rows = {}
    if ctx.new_deliveries:
        Delivery.objects.bulk_create(ctx.new_deliveries)
        ctx.new_deliveries = []


def get(
    ctx: Context,
    object_type: str,
    stripe_id: Any,
    *,
    for_update: bool = False,
    param: str = "id",
) -> StateObject:
    if not isinstance(stripe_id, str) or not stripe_id:
        raise no_such(object_type, str(stripe_id), param=param)
    pending = ctx.new_rows.get(stripe_id)
    if pending is not None and pending.object_type == object_type:
        return pending
    rows = scoped(ctx, object_type)
    if for_update:
        rows = rows.select_for_update()
    row = rows.filter(stripe_id=stripe_id).first()
    if row is None:
        raise no_such(object_type, stripe_id, param=param)
    return row


def find(ctx: Context, stripe_id: str) -> StateObject | None:
    if stripe_id in ctx.new_rows:
        return ctx.new_rows[stripe_id]
    return scoped(ctx).filter(stripe_id=stripe_id).first()


def created_filter(params: dict[str, Any], name: str = "created") -> Q:
    """`created=123` or `created[gte]=…&created[lt]=…`, as Stripe's list filters."""
    raw = params.get(name)
    if raw is None or raw == "":
        return Q()
    column = "available_on" if name == "available_on" else "created"
    if isinstance(raw, dict):
        condition = Q()
        for operator in ("gt", "gte", "lt", "lte"):
            if operator in raw:
                value = integer(raw, operator)
                condition &= Q(**{f"{column}__{operator}": value})
        unknown = set(raw) - {"gt", "gte", "lt", "lte"}
        if unknown:
            raise invalid(f"Received unknown parameter: {name}[{sorted(unknown)[0]}]", param=name)
        return condition
    return Q(**{column: integer(params, name)})


def page(
    ctx: Context,
    rows: QuerySet[StateObject],
    params: dict[str, Any],
    url: str,
) -> dict[str, Any]:
    """A newest-first page with Stripe's cursors (`starting_after`, `ending_before`)."""
    limit = integer(params, "limit") or DEFAULT_LIMIT
    if limit < 1 or limit > MAX_LIMIT:
        raise invalid(
            "Invalid limit: must be between 1 and 100",
            param="limit",
            code="parameter_invalid_integer",
        )
    starting_after = string(params, "starting_after")
    ending_before = string(params, "ending_before")
    if starting_after and ending_before:
        raise invalid(
            "You may only specify one of these parameters: ending_before, starting_after.",
            param="ending_before",
        )
    cursor_id = starting_after or ending_before
    if cursor_id:
        cursor = rows.filter(stripe_id=cursor_id).values("created", "id").first()
        if cursor is None:
            param = "starting_after" if starting_after else "ending_before"
            raise StripeError(
                f"No such object: '{cursor_id}'", status=400, code="resource_missing", param=param
            )
        created, pk = cursor["created"], cursor["id"]
        if starting_after:
            rows = rows.filter(Q(created__lt=created) | Q(created=created, id__lt=pk))
        else:
            rows = rows.filter(Q(created__gt=created) | Q(created=created, id__gt=pk))
    if ending_before:
        # Walk upwards from the cursor, then present the page newest-first again.
        chunk = list(rows.order_by("created", "id").values_list("data", flat=True)[: limit + 1])
        has_more = len(chunk) > limit
        data = list(reversed(chunk[:limit]))
    else:
        chunk = list(rows.order_by("-created", "-id").values_list("data", flat=True)[: limit + 1])
        has_more = len(chunk) > limit
        data = chunk[:limit]
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def list_of(data: list[dict[str, Any]], url: str, has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def _load_for_expand(ctx: Context, stripe_id: str, cache: dict[str, Any]) -> Any:
    if stripe_id not in cache:
        row = find(ctx, stripe_id) if ids.type_of(stripe_id) else None
        cache[stripe_id] = row.data if row is not None else None
    return cache[stripe_id]


def _expand_path(ctx: Context, node: Any, parts: list[str], cache: dict[str, Any]) -> Any:
    if not parts:
        return node
    if isinstance(node, list):
        return [_expand_path(ctx, item, parts, cache) for item in node]
    if not isinstance(node, dict):
        return node
    key, rest = parts[0], parts[1:]
    if key not in node:
        raise invalid(
            f"This property cannot be expanded ({key}).", param="expand", code="parameter_invalid"
        )
    value = node[key]
    if isinstance(value, str):
        loaded = _load_for_expand(ctx, value, cache)
        if loaded is None:
            return node
        value = dict(loaded)
    node = dict(node)
    node[key] = _expand_path(ctx, value, rest, cache)
    return node


def expand(ctx: Context, body: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    cache: dict[str, Any] = {}
    for path in paths:
        parts = path.split(".")
        if len(parts) > 4:
            raise invalid(
                f"You cannot expand more than 4 levels of a property. Property: {path}",
                param="expand",
            )
        body = _expand_path(ctx, body, parts, cache)
    return body
