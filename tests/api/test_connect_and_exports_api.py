"""Connected accounts, login links, transfers and exports through the API, with the same
services as the Connect and Reports pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django_scopes import scope

from connect.models import LoginLink, Transfer
from dashboard.models import AuditLog
from reporting import exports
from reporting.models import ReportRun
from sandbox import clock
from sandbox import services as sandbox_services
from tests.api.conftest import ApiClient, error_of
from tests.connect.conftest import make_account, sandbox_key  # noqa: F401
from tests.payments.sandbox_support import webhooks_arrive

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(make_account):  # noqa: F811
    return make_account("enabled", email="seller@example.com", business_name="Rocket Rides")


def funds_available(stripe, sandbox_key):  # noqa: F811
    sandbox_services.automatic_payouts_set(token_or_account=sandbox_key, enabled=False)
    stripe.v1.payment_intents.create(
        params={"amount": 20000, "currency": "usd", "payment_method": "pm_card_visa",
                "payment_method_types": ["card"], "confirm": True}
    )  # fmt: skip
    account = sandbox_services.resolve_account(sandbox_key)
    sandbox_services.clock_advance(
        token_or_account=account, to=clock.now(account) + timedelta(days=3)
    )
    webhooks_arrive()


# --- Connected accounts and login links -------------------------------------------------


def test_it_lists_and_retrieves_connected_accounts(api, seller):
    listed = api.get("/api/v1/accounts").json()
    assert [a["id"] for a in listed["data"]] == [seller.stripe_id]
    account = api.get(f"/api/v1/accounts/{seller.stripe_id}").json()
    assert account["object"] == "account"
    assert (account["type"], account["status"], account["email"]) == (
        "express",
        "enabled",
        "seller@example.com",
    )
    assert api.get("/api/v1/accounts", {"status": "rejected"}).json()["data"] == []
    assert error_of(api.get("/api/v1/accounts", {"status": "happy"}))["param"] == "status"


def test_it_creates_a_single_use_login_link(api, acme, seller):
    response = api.post(f"/api/v1/accounts/{seller.stripe_id}/login_links")
    assert response.status_code == 200
    link = response.json()
    assert link["object"] == "login_link"
    assert link["url"].startswith("http://testserver/express/login/acme/")
    assert link["expires_at"] - link["created"] == 300
    with scope(account=acme):
        stored = LoginLink.objects.get()
        assert stored.connected_account == seller
        token = link["url"].rstrip("/").rsplit("/", 1)[-1]
        assert token not in stored.token_hash
        assert AuditLog.objects.filter(action="connect.login_link.created").exists()

    path = link["url"].removeprefix("http://testserver")
    assert Client().get(path).status_code == 302
    assert Client().get(path).status_code == 410


def test_connected_accounts_of_another_account_are_404(outsider_api, seller):
    assert outsider_api.get(f"/api/v1/accounts/{seller.stripe_id}").status_code == 404
    link = outsider_api.post(f"/api/v1/accounts/{seller.stripe_id}/login_links")
    assert link.status_code == 404
    assert error_of(link)["code"] == "resource_missing"
    assert outsider_api.get("/api/v1/accounts").json()["data"] == []


def test_login_links_need_write_access_to_connected_accounts(acme, key_for, seller):
    _, secret = key_for(acme, permissions={"connected_accounts": "read"})
    reader = ApiClient(secret)
    assert reader.get(f"/api/v1/accounts/{seller.stripe_id}").status_code == 200
    assert reader.post(f"/api/v1/accounts/{seller.stripe_id}/login_links").status_code == 403


# --- Transfers --------------------------------------------------------------------------


def test_it_sends_and_lists_transfers(api, acme, seller, stripe, sandbox_key):  # noqa: F811
    funds_available(stripe, sandbox_key)
    response = api.post(
        "/api/v1/transfers",
        {
            "amount": 2500,
            "currency": "usd",
            "destination": seller.stripe_id,
            "description": "Bonus",
        },
    )
    assert response.status_code == 200
    transfer = response.json()
    assert (transfer["object"], transfer["amount"], transfer["destination"]) == (
        "transfer",
        2500,
        seller.stripe_id,
    )
    assert api.get(f"/api/v1/transfers/{transfer['id']}").json()["description"] == "Bonus"
    listed = api.get("/api/v1/transfers", {"destination": seller.stripe_id}).json()
    assert [t["id"] for t in listed["data"]] == [transfer["id"]]
    with scope(account=acme):
        assert Transfer.objects.get().amount == 2500
        assert AuditLog.objects.filter(action="connect.transfer.created").exists()


def test_a_transfer_beyond_the_balance_is_refused_with_stripes_message(api, acme, seller):
    response = api.post(
        "/api/v1/transfers", {"amount": 2500, "currency": "usd", "destination": seller.stripe_id}
    )
    assert response.status_code == 400
    assert "insufficient available funds" in error_of(response)["message"]
    with scope(account=acme):
        assert not Transfer.objects.exists()


@pytest.mark.parametrize(
    "changes, param",
    [
        ({"amount": -5}, "amount"),
        ({"currency": "usdollar"}, "currency"),
        ({"destination": ""}, "destination"),
    ],
)
def test_transfer_bodies_are_validated(api, seller, changes, param):
    body = {"amount": 100, "currency": "usd", "destination": seller.stripe_id, **changes}
    assert error_of(api.post("/api/v1/transfers", body))["param"] == param


def test_transfers_to_another_accounts_seller_are_404(outsider_api, seller):
    response = outsider_api.post(
        "/api/v1/transfers", {"amount": 100, "currency": "usd", "destination": seller.stripe_id}
    )
    assert response.status_code == 404
    assert error_of(response)["param"] == "destination"


# --- Exports ----------------------------------------------------------------------------


def test_it_exports_a_list_and_serves_the_file_to_the_key(api, acme, customer):
    created = api.post(
        "/api/v1/exports", {"source": "customers", "format": "csv", "columns": ["id", "email"]}
    )
    assert created.status_code == 200
    export = created.json()
    assert (export["object"], export["status"], export["url"]) == ("export", "queued", None)
    not_ready = api.get(f"/api/v1/exports/{export['id']}/file")
    assert error_of(not_ready)["code"] == "export_not_ready"

    with scope(account=acme):
        exports.export_execute(run_id=ReportRun.objects.get(public_id=export["id"]).pk)
    status = api.get(f"/api/v1/exports/{export['id']}").json()
    assert (status["status"], status["row_count"]) == ("succeeded", 1)
    assert status["url"] == f"http://testserver/api/v1/exports/{export['id']}/file"

    download = api.get(f"/api/v1/exports/{export['id']}/file")
    assert download.status_code == 200
    content = b"".join(download.streaming_content).decode()
    assert customer.stripe_id in content and "jenny@example.com" in content
    with scope(account=acme):
        assert AuditLog.objects.filter(action="reports.export_requested").exists()


def test_export_requests_are_validated(api):
    assert error_of(api.post("/api/v1/exports", {"source": "secrets"}))["param"] == "source"
    unknown_column = api.post("/api/v1/exports", {"source": "customers", "columns": ["password"]})
    assert unknown_column.status_code == 400
    assert "Unknown column" in error_of(unknown_column)["message"]


def test_exports_of_another_account_are_404(api, outsider_api, customer):
    export = api.post("/api/v1/exports", {"source": "customers"}).json()
    assert outsider_api.get(f"/api/v1/exports/{export['id']}").status_code == 404
    assert outsider_api.get(f"/api/v1/exports/{export['id']}/file").status_code == 404


def test_a_restricted_key_exports_only_what_it_may_read(acme, key_for, connected):
    _, secret = key_for(acme, permissions={"exports": "write", "customers": "read"})
    restricted = ApiClient(secret)
    assert restricted.post("/api/v1/exports", {"source": "customers"}).status_code == 200
    refused = restricted.post("/api/v1/exports", {"source": "payments"})
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "permission_denied"
