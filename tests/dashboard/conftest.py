"""Helpers for the settings, team and invitation suites (personas live in tests/conftest.py)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django_scopes import scope, scopes_disabled

from dashboard.models import AuditLog, Invitation, Membership
from dashboard.roles import Role
from tests.conftest import member

HTMX = {"HX-Request": "true"}
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

ALL_ROLES = list(Role)
MANAGERS = {Role.OWNER, Role.ADMINISTRATOR}


@pytest.fixture
def acme_member(acme):
    """`acme_member(Role.DEVELOPER, "dev@acme.test")`: a user with that role in acme."""

    def make(role: str, email: str):
        return member(acme, role, email)

    return make


def memberships(account) -> dict[str, str]:
    with scope(account=account):
        return dict(Membership.objects.values_list("user__email", "role"))


def audit_entries(account, action: str | None = None) -> list[AuditLog]:
    with scope(account=account):
        entries = AuditLog.objects.select_related("actor").order_by("created", "id")
        if action:
            entries = entries.filter(action=action)
        return list(entries)


def invitations(account) -> list[Invitation]:
    with scopes_disabled():
        return list(Invitation.objects.filter(account=account).order_by("created"))


def link_in_last_email() -> str:
    match = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(0)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Every persona hashes a password; the production hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
