"""Connect: connected accounts, account links, login links, capabilities and rejection.

Connected accounts are platform objects (`stripe_account` ""); what happens *on* a
connected account (its balance, charges, payouts) lives in that account's scope, reached
with the `Stripe-Account` header or `acting_as` below. Money movement between the platform
and its accounts (transfers, application fees) is in `connect_money.py`.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from typing import Any

from sandbox import events, ids, store
from sandbox.errors import StripeError, invalid
from sandbox.models import StateObject
from sandbox.params import boolean, integer, metadata, string
from sandbox.routes import route
from sandbox.store import Context

DAY = 86400
ACCOUNT_TYPES = {"express", "custom", "standard"}
REJECT_REASONS = {"fraud", "terms_of_service", "other"}
INTERVALS = {"manual", "daily", "weekly", "monthly"}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
# What Stripe asks of a new individual Express account before it can take payments.
ONBOARDING_DUE = [
    "business_profile.mcc",
    "business_profile.url",
    "external_account",
    "individual.dob.day",
    "individual.first_name",
    "individual.last_name",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]
# The platform's Connect application, as seen in application fees and deauthorizations.
APPLICATION_PREFIX = "ca_"


@contextlib.contextmanager
def acting_as(ctx: Context, stripe_account: str) -> Iterator[Context]:
    """Run writes and events in another account's scope (the platform is "")."""
    saved = ctx.stripe_account
    ctx.stripe_account = stripe_account
    try:
        yield ctx
    finally:
        ctx.stripe_account = saved


def application_id(ctx: Context) -> str:
    return APPLICATION_PREFIX + ctx.account.stripe_id.removeprefix("acct_")


def requirements(
    *,
    currently_due: list[str] | None = None,
    past_due: list[str] | None = None,
    eventually_due: list[str] | None = None,
    pending_verification: list[str] | None = None,
    current_deadline: int | None = None,
    disabled_reason: str | None = None,
) -> dict[str, Any]:
    currently_due = list(currently_due or [])
    return {
        "alternatives": [],
        "current_deadline": current_deadline,
        "currently_due": currently_due,
        "disabled_reason": disabled_reason,
        "errors": [],
        "eventually_due": sorted(set(eventually_due or []) | set(currently_due)),
        "past_due": list(past_due or []),
        "pending_verification": list(pending_verification or []),
    }


def _schedule(params: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    raw = ((params.get("settings") or {}).get("payouts") or {}).get("schedule")
    if not raw:
        return current
    if not isinstance(raw, dict):
        raise invalid("Invalid hash", param="settings[payouts][schedule]")
    schedule = dict(current)
    interval = string(raw, "interval")
    if interval is not None:
        if interval not in INTERVALS:
            raise invalid(
                f"Invalid interval: must be one of {', '.join(sorted(INTERVALS))}",
                param="settings[payouts][schedule][interval]",
            )
        schedule = {"delay_days": schedule.get("delay_days", 2), "interval": interval}
        if interval == "weekly":
            schedule["weekly_anchor"] = current.get("weekly_anchor") or "monday"
        if interval == "monthly":
            schedule["monthly_anchor"] = current.get("monthly_anchor") or 1
    delay = raw.get("delay_days")
    if delay not in (None, ""):
        schedule["delay_days"] = 2 if delay == "minimum" else integer(raw, "delay_days", minimum=0)
    anchor = string(raw, "weekly_anchor")
    if anchor:
        if anchor not in WEEKDAYS:
            raise invalid(
                f"Invalid weekly_anchor: {anchor}",
                param="settings[payouts][schedule][weekly_anchor]",
            )
        schedule["weekly_anchor"] = anchor
    monthly = integer(raw, "monthly_anchor")
    if monthly is not None:
        if not 1 <= monthly <= 31:
            raise invalid(
                "Invalid monthly_anchor: must be between 1 and 31",
                param="settings[payouts][schedule][monthly_anchor]",
            )
        schedule["monthly_anchor"] = monthly
    return schedule


def _capabilities(params: dict[str, Any], account_type: str) -> dict[str, str]:
    requested = params.get("capabilities") or {}
    if not isinstance(requested, dict):
        raise invalid("Invalid hash", param="capabilities")
    names = [
        name
        for name, value in requested.items()
        if isinstance(value, dict) and boolean(value, "requested", default=False)
    ]
    if account_type == "standard" and not names:
        names = ["card_payments", "transfers"]
    if account_type in {"express", "custom"} and not names:
        raise invalid(
            "When creating an Express or Custom account you must request at least one "
            "capability, e.g. `capabilities[transfers][requested]=true`.",
            param="capabilities",
        )
    return dict.fromkeys(sorted(names), "inactive")


def _business_profile(params: dict[str, Any]) -> dict[str, Any]:
    raw = params.get("business_profile") or {}
    if not isinstance(raw, dict):
        raise invalid("Invalid hash", param="business_profile")
    profile = dict.fromkeys(
        ["mcc", "name", "product_description", "support_email", "support_phone", "url"]
    )
    for name in profile:
        if raw.get(name):
            profile[name] = str(raw[name])
    profile["support_address"] = None
    return profile


def build_account(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    account_type = string(params, "type") or "standard"
    if account_type not in ACCOUNT_TYPES:
        raise invalid(
            f"Invalid type: must be one of {', '.join(sorted(ACCOUNT_TYPES))}", param="type"
        )
    country = (string(params, "country") or "US").upper()
    account_id = "acct_1" + ids.random_token(15)
    default_currency = (string(params, "default_currency") or "usd").lower()
    return {
        "id": account_id,
        "object": "account",
        "business_profile": _business_profile(params),
        "business_type": string(params, "business_type"),
        "capabilities": _capabilities(params, account_type),
        "charges_enabled": False,
        "controller": {
            "is_controller": True,
            "type": "application",
            "stripe_dashboard": {
                "type": {"express": "express", "custom": "none"}.get(account_type, "full")
            },
        },
        "country": country,
        "created": ctx.now,
        "default_currency": default_currency,
        "details_submitted": False,
        "email": string(params, "email"),
        "external_accounts": {
            "object": "list",
            "data": [],
            "has_more": False,
            "total_count": 0,
            "url": f"/v1/accounts/{account_id}/external_accounts",
        },
        "future_requirements": requirements(),
        "livemode": ctx.livemode,
        "metadata": metadata({}, params),
        "payouts_enabled": False,
        "requirements": requirements(
            currently_due=ONBOARDING_DUE, disabled_reason="requirements.past_due"
        ),
        "settings": {
            "branding": {"icon": None, "logo": None, "primary_color": None},
            "card_payments": {"statement_descriptor_prefix": None},
            "dashboard": {"display_name": None, "timezone": "Etc/UTC"},
            "payments": {"statement_descriptor": None},
            "payouts": {
                "debit_negative_balances": True,
                "schedule": _schedule(params, {"delay_days": 2, "interval": "daily"}),
                "statement_descriptor": None,
            },
        },
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": account_type,
    }


def get_account(ctx: Context, account_id: str, *, for_update: bool = False) -> StateObject:
    with acting_as(ctx, ""):
        row = store.get(ctx, "account", account_id, for_update=for_update, param="account")
    if row.data.get("deleted"):
        raise invalid(f"No such account: '{account_id}'", param="account", code="account_invalid")
    return row


def save_account(ctx: Context, row: StateObject, before: dict[str, Any]) -> dict[str, Any]:
    """Store a changed account and tell the platform (`account.updated`, on the account)."""
    store.save(row)
    changed = events.changed(before, row.data)
    if changed:
        with acting_as(ctx, row.stripe_id):
            events.emit(ctx, "account.updated", row.data, previous_attributes=changed)
    return row.data


def set_state(ctx: Context, row: StateObject, state: str, **options: Any) -> dict[str, Any]:
    """Move a connected account to an onboarding state as Stripe's dashboard names them."""
    before = copy.deepcopy(row.data)
    data = copy.deepcopy(row.data)
    due = list(options.get("currently_due") or ONBOARDING_DUE[:3])
    if state == "enabled":
        data["requirements"] = requirements()
        enabled = True
    elif state == "restricted":
        data["requirements"] = requirements(
            currently_due=due, past_due=due, disabled_reason="requirements.past_due"
        )
        enabled = False
    elif state == "restricted_soon":
        deadline = options.get("deadline") or ctx.now + 14 * DAY
        data["requirements"] = requirements(currently_due=due, current_deadline=deadline)
        enabled = True
    elif state == "in_review":
        pending = list(options.get("pending_verification") or ["individual.verification.document"])
        data["requirements"] = requirements(
            pending_verification=pending, disabled_reason="requirements.pending_verification"
        )
        enabled = False
    elif state == "rejected":
        reason = options.get("reason") or "other"
        if reason not in REJECT_REASONS:
            raise invalid(
                f"Invalid reason: must be one of {', '.join(sorted(REJECT_REASONS))}",
                param="reason",
            )
        data["requirements"] = requirements(disabled_reason=f"rejected.{reason}")
        enabled = False
    else:
        raise ValueError(f"Unknown onboarding state {state!r}")
    data.update(charges_enabled=enabled, payouts_enabled=enabled)
    if state != "restricted" or before.get("details_submitted"):
        data["details_submitted"] = True
    data["capabilities"] = dict.fromkeys(
        data.get("capabilities") or {}, "active" if enabled else "inactive"
    )
    if state == "in_review":
        data["capabilities"] = dict.fromkeys(data.get("capabilities") or {}, "pending")
    row.data = data
    return save_account(ctx, row, before)


def _platform_only(ctx: Context) -> None:
    if ctx.stripe_account:
        raise StripeError(
            "This application does not have the required permissions for this endpoint "
            "on account '" + ctx.stripe_account + "'.",
            status=403,
            type="invalid_request_error",
        )


# --- Accounts ---------------------------------------------------------------------------


@route("POST", r"/v1/accounts")
def create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    _platform_only(ctx)
    data = build_account(ctx, params)
    store.create(ctx, "account", data)
    with acting_as(ctx, data["id"]):
        events.emit(ctx, "account.updated", data)
        if data["type"] == "standard":
            # A Standard account joins a platform by authorising its application (OAuth).
            events.emit(ctx, "account.application.authorized", application_object(ctx))
    return data


@route("GET", r"/v1/accounts/{id}")
def retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    return get_account(ctx, id).data


@route("POST", r"/v1/accounts/{id}")
def update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    _platform_only(ctx)
    row = get_account(ctx, id, for_update=True)
    before = copy.deepcopy(row.data)
    data = copy.deepcopy(row.data)
    for name in ("email", "business_type"):
        if name in params:
            data[name] = params[name] or None
    if "business_profile" in params:
        profile = _business_profile(params)
        data["business_profile"] = {
            **data["business_profile"],
            **{key: value for key, value in profile.items() if value is not None},
        }
    data["metadata"] = metadata(data.get("metadata"), params)
    data["settings"]["payouts"]["schedule"] = _schedule(
        params, data["settings"]["payouts"]["schedule"]
    )
    for name, value in (params.get("capabilities") or {}).items():
        if isinstance(value, dict) and boolean(value, "requested", default=False):
            data["capabilities"].setdefault(name, "inactive")
    row.data = data
    return save_account(ctx, row, before)


@route("GET", r"/v1/accounts")
def list_accounts(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    _platform_only(ctx)
    rows = store.scoped(ctx, "account").filter(store.created_filter(params))
    rows = rows.exclude(data__has_key="deleted")
    return store.page(ctx, rows, params, "/v1/accounts")


@route("DELETE", r"/v1/accounts/{id}")
def delete(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    _platform_only(ctx)
    row = get_account(ctx, id, for_update=True)
    if row.data["type"] == "standard":
        raise invalid("Standard accounts cannot be deleted by a platform.", param="account")
    row.data = dict(row.data, deleted=True)
    store.save(row)
    with acting_as(ctx, id):
        events.emit(ctx, "account.application.deauthorized", application_object(ctx))
    return {"id": id, "object": "account", "deleted": True}


def application_object(ctx: Context) -> dict[str, Any]:
    name = (ctx.account.settings or {}).get("business_name", "Sandbox platform")
    return {"id": application_id(ctx), "object": "application", "name": name}


@route("POST", r"/v1/accounts/{id}/reject")
def reject(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    _platform_only(ctx)
    reason = string(params, "reason", required=True)
    row = get_account(ctx, id, for_update=True)
    if row.data["type"] == "standard":
        raise invalid("Standard accounts cannot be rejected by a platform.", param="account")
    return set_state(ctx, row, "rejected", reason=reason)


# --- Capabilities ------------------------------------------------------------------------


def capability_object(account: dict[str, Any], name: str) -> dict[str, Any]:
    return {
        "id": name,
        "object": "capability",
        "account": account["id"],
        "future_requirements": requirements(),
        "requested": True,
        "requested_at": account["created"],
        "requirements": account["requirements"],
        "status": account["capabilities"][name],
    }


@route("GET", r"/v1/accounts/{id}/capabilities")
def list_capabilities(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    account = get_account(ctx, id).data
    data = [capability_object(account, name) for name in sorted(account["capabilities"])]
    return store.list_of(data, f"/v1/accounts/{id}/capabilities")


def _capability(ctx: Context, id: str, capability: str) -> dict[str, Any]:
    account = get_account(ctx, id).data
    if capability not in account["capabilities"]:
        raise invalid(f"No such capability: '{capability}'", param="capability")
    return capability_object(account, capability)


@route("GET", r"/v1/accounts/{id}/capabilities/(?P<capability>[a-z_]+)")
def retrieve_capability(
    ctx: Context, params: dict[str, Any], id: str, capability: str
) -> dict[str, Any]:
    return _capability(ctx, id, capability)


@route("POST", r"/v1/accounts/{id}/capabilities/(?P<capability>[a-z_]+)")
def update_capability(
    ctx: Context, params: dict[str, Any], id: str, capability: str
) -> dict[str, Any]:
    row = get_account(ctx, id, for_update=True)
    requested = boolean(params, "requested")
    if requested:
        before = copy.deepcopy(row.data)
        row.data = copy.deepcopy(row.data)
        state = "active" if row.data["charges_enabled"] else "inactive"
        row.data["capabilities"].setdefault(capability, state)
        save_account(ctx, row, before)
    return _capability(ctx, id, capability)


# --- Account links and login links ------------------------------------------------------


@route("POST", r"/v1/account_links")
def create_account_link(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    account_id = string(params, "account", required=True)
    get_account(ctx, account_id)
    link_type = string(params, "type", required=True)
    if link_type not in {"account_onboarding", "account_update"}:
        raise invalid(f"Invalid type: {link_type}", param="type")
    return {
        "object": "account_link",
        "created": ctx.now,
        "expires_at": ctx.now + 300,
        "url": f"https://connect.sandbox.test/setup/{link_type[8:10]}/{account_id}/"
        + ids.random_token(12),
    }


@route("POST", r"/v1/accounts/{id}/login_links")
def create_login_link(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:
    _platform_only(ctx)
    account = get_account(ctx, id).data
    if account["type"] != "express":
        raise invalid(
            "Cannot create a login link for an account that is not an Express account.",
            param="account",
        )
    return {
        "object": "login_link",
        "created": ctx.now,
        "url": f"https://connect.sandbox.test/express/{id}/{ids.random_token(12)}",
    }


def payout_due_today(ctx: Context) -> bool | None:
    """For a connected account's scope: whether its payout schedule pays out at `ctx.now`
    (a midnight). None when `ctx` is the platform's own scope."""
    if not ctx.stripe_account:
        return None
    row = store.scoped(Context(account=ctx.account, livemode=ctx.livemode, now=ctx.now), "account")
    found = row.filter(stripe_id=ctx.stripe_account).values_list("data", flat=True).first()
    if found is None:
        return None
    schedule = found["settings"]["payouts"]["schedule"]
    if not found.get("payouts_enabled"):
        return False
    interval = schedule.get("interval")
    if interval == "daily":
        return True
    from sandbox.clock import to_datetime

    today = to_datetime(ctx.now)
    if interval == "weekly":
        return WEEKDAYS[today.weekday()] == schedule.get("weekly_anchor", "monday")
    if interval == "monthly":
        return today.day == int(schedule.get("monthly_anchor") or 1)
    return False
