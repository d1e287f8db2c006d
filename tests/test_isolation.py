"""Tenant isolation and declared permissions, checked over every URL and model.

New pages and models are covered the moment they are added: these tests walk the URL
resolver and the app registry instead of listing pages by hand.
"""

from __future__ import annotations

import uuid

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from django_scopes import ScopeError

from dashboard.models import Account
from dashboard.permissions import MARKERS, declared_permission
from dashboard.roles import PERMISSIONS, Role

# Models that carry `account` but are deliberately reachable without a scope. Each needs a
# reason; an empty list is the goal.
UNSCOPED_TENANT_MODELS: dict[str, str] = {}

SAMPLE_VALUES = {
    "int": "1",
    "uuid": str(uuid.UUID(int=1)),
    "slug": "x-1",
    "str": "x_1",
    "path": "x/1",
}


def walk(patterns=None, prefix: str = ""):
    """Yield (route, pattern) for every leaf URL pattern."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


def concrete_path(route: str, account_slug: str) -> str:
    """Turn `a/<slug:account_slug>/payments/<str:payment_id>/` into a requestable path."""
    path = route.lstrip("^").rstrip("$")
    while "<" in path:
        start = path.index("<")
        end = path.index(">", start)
        converter, _, name = path[start + 1 : end].rpartition(":")
        value = account_slug if name == "account_slug" else SAMPLE_VALUES[converter or "str"]
        path = path[:start] + value + path[end + 1 :]
    return "/" + path


ACCOUNT_ROUTES = sorted(
    {route for route, _ in walk() if "<slug:account_slug>" in route or "account_slug>" in route}
)


def test_there_are_account_routes_to_check():
    assert len(ACCOUNT_ROUTES) >= 5


@pytest.mark.django_db
@pytest.mark.parametrize("route", ACCOUNT_ROUTES)
def test_outsiders_get_404_on_every_account_page(outsider, acme, route):
    path = concrete_path(route, acme.slug)
    assert outsider.get(path).status_code == 404, path
    assert outsider.post(path, {}).status_code == 404, path


@pytest.mark.django_db
@pytest.mark.parametrize("route", ACCOUNT_ROUTES)
def test_an_unknown_account_is_a_404_too(owner, route):
    path = concrete_path(route, "no-such-account")
    assert owner.get(path).status_code == 404, path


@pytest.mark.django_db
@pytest.mark.parametrize("route", ACCOUNT_ROUTES)
def test_anonymous_visitors_are_sent_to_sign_in(client, acme, route):
    response = client.get(concrete_path(route, acme.slug))
    assert response.status_code == 302, route
    assert response.url.startswith("/login/")


def test_every_view_declares_a_permission():
    undeclared = [
        route for route, pattern in walk() if declared_permission(pattern.callback) is None
    ]
    assert undeclared == []


def test_account_pages_declare_an_action_of_the_role_matrix():
    wrong = [
        (route, declared_permission(pattern.callback))
        for route, pattern in walk()
        if "account_slug>" in route
        and declared_permission(pattern.callback) not in PERMISSIONS
        and declared_permission(pattern.callback) not in MARKERS
    ]
    assert wrong == []


def tenant_models():
    for model in apps.get_models():
        field = next(
            (f for f in model._meta.concrete_fields if f.name == "account" and f.is_relation),
            None,
        )
        if field is not None and field.related_model is Account:
            yield model


def test_there_are_tenant_models_to_check():
    assert len(list(tenant_models())) >= 5


@pytest.mark.parametrize("model", list(tenant_models()), ids=lambda m: m._meta.label)
def test_every_tenant_model_refuses_queries_outside_a_scope(model):
    if model._meta.label in UNSCOPED_TENANT_MODELS:
        pytest.fail(f"{model._meta.label} is exempt; remove it from the list or the model")
    with pytest.raises(ScopeError):
        list(model.objects.all())
    with pytest.raises(ScopeError):
        model.objects.filter(pk=1).exists()


def test_the_owner_may_do_everything_and_view_only_changes_nothing():
    assert all(Role.OWNER in roles for roles in PERMISSIONS.values())
    view_only_actions = {a for a, roles in PERMISSIONS.items() if Role.VIEW_ONLY in roles}
    assert all(action.endswith(".view") for action in view_only_actions), view_only_actions


def test_unknown_actions_are_refused():
    from dashboard.roles import role_can

    assert not role_can(Role.OWNER, "payments.teleport")
    assert not role_can(None, "dashboard.view")
