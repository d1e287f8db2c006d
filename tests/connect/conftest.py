"""Connect fixtures: acme connected to the sandbox, connected accounts in each onboarding
state, and the `express_user` persona (a browser that opened a login link)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django_scopes import scope

from connect import services
from connect.models import ConnectedAccount
from dashboard.models import Membership
from sandbox import clock
from sandbox import services as sandbox_services
from tests.conftest import logged_in
from tests.payments.sandbox_support import connected, sandbox_settings, stripe, webhooks_arrive  # noqa: F401


def members_in_test_mode(acme) -> None:
    """Sandbox data is test data: acme's members look at test mode on these pages."""
    with scope(account=acme):
        Membership.objects.filter(account=acme).update(test_mode=True)


@pytest.fixture
def owner(owner_user, acme):
    members_in_test_mode(acme)
    return logged_in(owner_user)


@pytest.fixture
def viewer(viewer_user, acme):
    members_in_test_mode(acme)
    return logged_in(viewer_user)


@pytest.fixture
def sandbox_key(connected) -> str:  # noqa: F811
    return connected.secret_key(livemode=False)


@pytest.fixture
def make_account(acme, stripe, sandbox_key):  # noqa: F811
    """`make_account("enabled", email=…)`: an Express account onboarded at "Stripe" and
    moved to that onboarding state there; the mirror learns both through the webhook path
    (a console write-through of the same second would rightly win over the events)."""

    def make(state: str | None = "enabled", email: str = "", business_name: str = ""):
        params = {"type": "express", "country": "US", "capabilities": services.CAPABILITIES}
        if email:
            params["email"] = email
        if business_name:
            params["business_profile"] = {"name": business_name}
        created = stripe.v1.accounts.create(params=params)
        if state is not None:
            sandbox_services.connect_account_state(
                token_or_account=sandbox_key, account=created.id, state=state
            )
        webhooks_arrive()
        # The operator acts a moment later: a console write-through dated in the same
        # second as these events would rightly lose to them (see workbench.mirror.upsert).
        platform = sandbox_services.resolve_account(sandbox_key)
        sandbox_services.clock_advance(
            token_or_account=platform, to=clock.now(platform) + timedelta(seconds=1)
        )
        with scope(account=acme):
            return ConnectedAccount.objects.get(stripe_id=created.id)

    return make


@pytest.fixture
def seller(make_account) -> ConnectedAccount:
    return make_account("enabled", email="seller@example.com", business_name="Rocket Rides Co")


def open_login_link(client: Client, acme, connected_account, actor=None):
    _, url = services.login_link_create(
        account=acme, connected_account=connected_account, actor=actor
    )
    return client.get(url)


@pytest.fixture
def express_user(acme, seller) -> Client:
    client = Client()
    response = open_login_link(client, acme, seller)
    assert response.status_code == 302
    return client


def express_url(connected_account, page: str = "") -> str:
    return f"/express/{connected_account.stripe_id}/{page}"
