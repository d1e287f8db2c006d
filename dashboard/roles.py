"""The one permission matrix: which role may do which action.

Modelled on Stripe's published team roles (docs.stripe.com/account/teams/roles):
Administrators can do almost everything the Owner can; Developers manage API keys and
webhooks and handle payments but move no money out and manage no team; Analysts and
Support specialists work payments, refunds and disputes; View only reads.

Every view and API endpoint declares one of these actions (see dashboard.permissions);
a test fails when one does not, and when this table changes without the tests noticing.
"""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMINISTRATOR = "administrator", "Administrator"
    DEVELOPER = "developer", "Developer"
    ANALYST = "analyst", "Analyst"
    SUPPORT = "support", "Support specialist"
    VIEW_ONLY = "view_only", "View only"


OWNER, ADMIN, DEV, ANALYST, SUPPORT, VIEW = (
    Role.OWNER,
    Role.ADMINISTRATOR,
    Role.DEVELOPER,
    Role.ANALYST,
    Role.SUPPORT,
    Role.VIEW_ONLY,
)
EVERYONE = frozenset(Role)
STAFF = frozenset({OWNER, ADMIN})

PERMISSIONS: dict[str, frozenset[Role]] = {
    # The shell and read-only pages every member sees.
    "dashboard.view": EVERYONE,
    "payments.view": EVERYONE,
    "customers.view": EVERYONE,
    "catalog.view": EVERYONE,
    "disputes.view": EVERYONE,
    "billing.view": EVERYONE,
    "connect.view": EVERYONE,
    "balances.view": frozenset({OWNER, ADMIN, DEV, ANALYST, VIEW}),
    "reports.view": frozenset({OWNER, ADMIN, DEV, ANALYST, VIEW}),
    # Payments and customers.
    "payments.create": frozenset({OWNER, ADMIN, DEV, SUPPORT}),
    "payments.refund": frozenset({OWNER, ADMIN, DEV, ANALYST, SUPPORT}),
    "payments.capture": frozenset({OWNER, ADMIN, DEV, SUPPORT}),
    "customers.manage": frozenset({OWNER, ADMIN, DEV, SUPPORT}),
    "catalog.manage": frozenset({OWNER, ADMIN, DEV}),
    "disputes.manage": frozenset({OWNER, ADMIN, ANALYST, SUPPORT}),
    "billing.manage": frozenset({OWNER, ADMIN, DEV}),
    # Money out.
    "payouts.create": STAFF,
    "topups.create": STAFF,
    "transfers.create": STAFF,
    # Connect.
    "connect.manage": STAFF,
    "connect.login_links": frozenset({OWNER, ADMIN, SUPPORT}),
    # Reporting.
    "reports.export": frozenset({OWNER, ADMIN, DEV, ANALYST}),
    # Developers: API keys, webhooks, request logs, events.
    "developers.view": frozenset({OWNER, ADMIN, DEV}),
    "developers.keys": frozenset({OWNER, ADMIN, DEV}),
    "developers.webhooks": frozenset({OWNER, ADMIN, DEV}),
    "developers.events.replay": frozenset({OWNER, ADMIN, DEV}),
    # Settings and team.
    "settings.view": EVERYONE,
    "settings.manage": STAFF,
    "settings.stripe": frozenset({OWNER, ADMIN, DEV}),
    "team.view": EVERYONE,
    "team.manage": STAFF,
    "security.view": STAFF,
}


def role_can(role: str | None, action: str) -> bool:
    """True when `role` may perform `action`. Unknown actions are refused (fail closed)."""
    if role is None:
        return False
    return role in PERMISSIONS.get(action, frozenset())


def roles_for(action: str) -> frozenset[Role]:
    return PERMISSIONS.get(action, frozenset())
