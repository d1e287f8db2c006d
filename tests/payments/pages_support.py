"""Shared by the payment and customer page tests: members in test mode (the sandbox is a
test-mode Stripe), mirror rows written the way webhooks write them, and page scraping."""

from __future__ import annotations

import html
import re

from django.utils import timezone
from django_scopes import scope, scopes_disabled

from dashboard.models import Membership
from payments import mirroring
from payments.mirroring import Source
from tests.conftest import logged_in, member
from tests.payments import stripe_objects as so


def member_in_test_mode(user):
    """A logged-in client whose membership looks at test data."""
    with scopes_disabled():
        Membership.objects.filter(user=user).update(test_mode=True)
    return logged_in(user)


def role_in_test_mode(account, role: str):
    return member_in_test_mode(member(account, role, f"{role}@{account.slug}.test"))


def store(account, kind: str, obj: dict):
    """Mirror one Stripe object as a webhook would (`kind`: customer, charge, …)."""
    with scope(account=account):
        source = Source(account=account, livemode=False, time=timezone.now())
        return getattr(mirroring, f"store_{kind}")(source, obj)


def mirror_charge(account, id: str, *, created: int = 0, brand: str = "visa", **extra):
    card = {"brand": brand, "last4": extra.pop("last4", "4242")}
    obj = so.charge(id=id, created=created, **extra)
    obj["payment_method_details"] = {"type": "card", "card": card}
    return store(account, "charge", obj)


def row_ids(response, attribute: str = "data-payment") -> list[str]:
    return re.findall(rf'{attribute}="([^"]+)"', response.content.decode())


def link(response, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    return html.unescape(found.group(1)) if found else None
