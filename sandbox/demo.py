"""The demo tenants and team. Stripe-side history is generated through the sandbox."""

from __future__ import annotations

import secrets

from django.db import transaction
from django_scopes import scope

from dashboard import services as dashboard_services
from dashboard.models import Account, Membership, User
from dashboard.roles import Role

DEMO_DOMAIN = "demo.paydesk.test"

ACCOUNTS = [
    {
        "slug": "acme",
        "name": "Acme Platform",
        "country": "US",
        "default_currency": "usd",
        "timezone_name": "America/New_York",
        "color": "#635bff",
        "icon": "A",
    },
    {
        "slug": "globex",
        "name": "Globex Store",
        "country": "DE",
        "default_currency": "eur",
        "timezone_name": "Europe/Berlin",
        "color": "#0a8f6a",
        "icon": "G",
    },
]

# (email local part, name, {account slug: role})
TEAM = [
    ("owner", "Olivia Owner", {"acme": Role.OWNER, "globex": Role.OWNER}),
    ("analyst", "Andre Analyst", {"acme": Role.ANALYST}),
    ("support", "Sam Support", {"acme": Role.SUPPORT}),
    ("viewer", "Vera Viewer", {"globex": Role.VIEW_ONLY}),
]


def demo_email(local: str) -> str:
    return f"{local}@{DEMO_DOMAIN}"


@transaction.atomic
def seed_tenants_and_team() -> dict[str, Account]:
    owner_local, owner_name, _ = TEAM[0]
    owner = User.objects.create_user(demo_email(owner_local), None, name=owner_name)
    accounts = {}
    for spec in ACCOUNTS:
        account = dashboard_services.account_create(
            owner=owner,
            name=spec["name"],
            slug=spec["slug"],
            country=spec["country"],
            default_currency=spec["default_currency"],
            timezone_name=spec["timezone_name"],
        )
        account.primary_color = spec["color"]
        account.icon = spec["icon"]
        account.save(update_fields=["primary_color", "icon"])
        accounts[spec["slug"]] = account
    for local, name, roles in TEAM[1:]:
        user = User.objects.create_user(demo_email(local), None, name=name)
        for slug, role in roles.items():
            with scope(account=accounts[slug]):
                Membership.objects.create(account=accounts[slug], user=user, role=role)
    return accounts


def reset_demo_passwords() -> list[tuple[str, str, str]]:
    """Gives every demo login a new random password and returns (email, password, roles).

    Passwords are never stored in clear: each `make demo` start prints a fresh set.
    """
    rows = []
    for local, _name, roles in TEAM:
        user = User.objects.filter(email=demo_email(local)).first()
        if user is None:
            continue
        password = secrets.token_urlsafe(9)
        user.set_password(password)
        user.save(update_fields=["password"])
        described = ", ".join(f"{role.label} of {slug}" for slug, role in roles.items())
        rows.append((user.email, password, described))
    return rows


@transaction.atomic
def delete_demo() -> None:
    Account.objects.filter(slug__in=[spec["slug"] for spec in ACCOUNTS]).delete()
    User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").delete()
