"""Personas (STYLE.md): `owner` of acme, `viewer` (View only in acme), `outsider` (owner of
globex). Each persona fixture is a logged-in test client; the `*_user` fixtures are users."""

from __future__ import annotations

import pytest
from django.test import Client
from django_scopes import scope

from dashboard.roles import Role
from tests.factories import AccountFactory, MembershipFactory, UserFactory


@pytest.fixture
def acme(db):
    return AccountFactory(slug="acme", name="Acme Platform", default_currency="usd")


@pytest.fixture
def globex(db):
    return AccountFactory(slug="globex", name="Globex Store", default_currency="eur", country="DE")


def member(account, role, email):
    return MembershipFactory(account=account, role=role, user=UserFactory(email=email)).user


@pytest.fixture
def owner_user(acme):
    return member(acme, Role.OWNER, "owner@acme.test")


@pytest.fixture
def viewer_user(acme):
    return member(acme, Role.VIEW_ONLY, "viewer@acme.test")


@pytest.fixture
def outsider_user(globex):
    return member(globex, Role.OWNER, "owner@globex.test")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner(owner_user):
    return logged_in(owner_user)


@pytest.fixture
def viewer(viewer_user):
    return logged_in(viewer_user)


@pytest.fixture
def outsider(outsider_user):
    return logged_in(outsider_user)


@pytest.fixture
def member_client(acme):
    """`member_client(Role.ANALYST)`: a logged-in client with that role in acme."""

    def make(role: str) -> Client:
        return logged_in(member(acme, role, f"{role}@acme.test"))

    return make


@pytest.fixture
def in_acme(acme):
    with scope(account=acme):
        yield acme
