"""Cross-cutting checks over every /api/v1/ endpoint, found by walking the URL resolver
(new endpoints are covered the moment they are added)."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_scopes import scope

from dashboard.permissions import SELF_AUTHENTICATED, declared_permission
from tests.api.conftest import error_of
from tests.test_isolation import concrete_path, walk
from workbench import api_keys
from workbench.api_auth import ApiView
from workbench.models import ApiIdempotencyRecord

ENDPOINTS = [
    (route, pattern)
    for route, pattern in walk()
    if route.startswith("api/v1/") and getattr(pattern.callback, "cls", None)
]


def test_there_are_endpoints_to_check():
    assert len(ENDPOINTS) >= 25


@pytest.mark.parametrize("route, pattern", ENDPOINTS, ids=[route for route, _ in ENDPOINTS])
def test_every_endpoint_authenticates_itself_and_names_its_resource(route, pattern):
    view = pattern.callback.cls
    assert issubclass(view, ApiView), route
    assert declared_permission(pattern.callback) == SELF_AUTHENTICATED
    assert view.api_resource in api_keys.API_RESOURCES, route


@pytest.mark.django_db
@pytest.mark.parametrize("route, pattern", ENDPOINTS, ids=[route for route, _ in ENDPOINTS])
def test_every_endpoint_refuses_requests_without_a_key(client, route, pattern):
    path = concrete_path(route, "unused")
    for response in (client.get(path), client.post(path, {}, content_type="application/json")):
        assert response.status_code == 401, path
        assert error_of(response)["code"] == "api_key_missing"


def test_scopes_are_disabled_in_one_place_only():
    """The key lookup is the one query that may run outside a tenant scope."""
    root = Path(__file__).resolve().parents[2]
    found = subprocess.run(
        ["grep", "-rn", "--include=*.py", "with_scopes_disabled", *APP_DIRS],
        cwd=root,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert [line.split(":")[0] for line in found] == ["workbench/api_auth.py"]


APP_DIRS = ["dashboard", "workbench", "payments", "billing", "connect", "reporting", "paydesk"]


@pytest.mark.django_db
def test_old_idempotency_records_are_pruned(api, acme):
    api.post("/api/v1/customers", {}, headers={"Idempotency-Key": "old"})
    api.post("/api/v1/customers", {}, headers={"Idempotency-Key": "new"})
    with scope(account=acme):
        ApiIdempotencyRecord.objects.filter(key="old").update(
            created=timezone.now() - timedelta(hours=25)
        )
    assert api_keys.idempotency_prune() == 1
    with scope(account=acme):
        assert list(ApiIdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
