"""`GET /v1/account`: the emulated platform account named by the API key."""

from __future__ import annotations

from typing import Any

from sandbox.routes import route
from sandbox.store import Context


def account_object(ctx: Context) -> dict[str, Any]:
    account = ctx.account
    stripe_id = account.stripe_id
    null_address = dict.fromkeys(["city", "country", "line1", "line2", "postal_code", "state"])
    no_requirements = {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": [],
        "disabled_reason": None,
        "errors": [],
        "eventually_due": [],
        "past_due": [],
        "pending_verification": [],
    }
    settings = account.settings or {}
    return {
        "id": stripe_id,
        "object": "account",
        "business_profile": {
            "annual_revenue": None,
            "estimated_worker_count": None,
            "mcc": None,
            "name": settings.get("business_name", "Sandbox account"),
            "product_description": None,
            "support_address": null_address,
            "support_email": None,
            "support_phone": None,
            "support_url": None,
            "url": None,
            "minority_owned_business_designation": None,
        },
        "business_type": None,
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": True,
        "controller": {"type": "account"},
        "country": settings.get("country", "US"),
        "created": int(account.created.timestamp()),
        "default_currency": settings.get("default_currency", "usd"),
        "details_submitted": True,
        "email": settings.get("email"),
        "external_accounts": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/accounts/{stripe_id}/external_accounts",
        },
        "future_requirements": no_requirements,
        "livemode": ctx.livemode,
        "metadata": {},
        "payouts_enabled": True,
        "requirements": no_requirements,
        "settings": {
            "dashboard": {"display_name": None, "timezone": "Etc/UTC"},
            "payments": {"statement_descriptor": None},
            "payouts": {
                "debit_negative_balances": True,
                "schedule": {
                    "delay_days": 2,
                    "interval": "daily" if automatic_payouts(ctx) else "manual",
                },
                "statement_descriptor": None,
            },
        },
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": "standard",
    }


def automatic_payouts(ctx: Context) -> bool:
    from sandbox.resources import connect

    # A connected account pays out on its own schedule (settings.payouts.schedule).
    connected = connect.payout_due_today(ctx)
    if connected is not None:
        return connected
    return (ctx.account.settings or {}).get("automatic_payouts", True)


@route("GET", r"/v1/account")
def retrieve(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    if ctx.stripe_account:
        from sandbox.resources import connect

        return connect.get_account(ctx, ctx.stripe_account).data
    return account_object(ctx)
