"""API keys: the Developers page (who may use it, the key shown once, roll, revoke, audit)
and what the API makes of a key (stored hashed, revoked or rolled out → 401, overlap)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from dashboard.models import AuditLog
from dashboard.roles import Role
from tests.api.conftest import ApiClient, error_of
from workbench import api_keys
from workbench.models import ApiKey

pytestmark = pytest.mark.django_db

PAGE = "/a/acme/workbench/api-keys/"


def keys_of(account):
    with scope(account=account):
        return list(ApiKey.objects.order_by("created"))


def audit_actions(account):
    with scope(account=account):
        return list(AuditLog.objects.order_by("created").values_list("action", flat=True))


@pytest.fixture
def test_mode(acme, owner_user):
    """The owner looks at test data (members start in live mode)."""
    with scope(account=acme):
        acme.membership_set.filter(user=owner_user).update(test_mode=True)


def create_on_page(client, **fields):
    return client.post(PAGE, {"name": "Billing backend", **fields})


# --- The page ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VIEW_ONLY, Role.ANALYST, Role.SUPPORT])
def test_members_without_the_developer_permission_get_403(member_client, role):
    client = member_client(role)
    assert client.get(PAGE).status_code == 403
    assert create_on_page(client).status_code == 403


@pytest.mark.parametrize("role", [Role.DEVELOPER, Role.ADMINISTRATOR, Role.OWNER])
def test_developers_and_administrators_manage_keys(member_client, acme, role):
    client = member_client(role)
    assert client.get(PAGE).status_code == 200
    assert create_on_page(client).status_code == 200
    assert len(keys_of(acme)) == 1


def test_outsiders_get_404(outsider, acme):
    assert outsider.get(PAGE).status_code == 404


def test_a_new_key_is_shown_once_and_stored_only_as_its_hash(owner, acme, test_mode):
    response = create_on_page(owner)
    secret = response.context["new_secret"]
    assert secret.startswith("pd_sk_test_") and len(secret) > 40
    assert secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"

    (key,) = keys_of(acme)
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert key.hint == f"pd_sk_test_…{secret[-4:]}"
    stored = {field.attname: getattr(key, field.attname) for field in ApiKey._meta.fields}
    assert not any(secret in str(value) for value in stored.values())

    listing = owner.get(PAGE).content.decode()
    assert key.hint in listing
    assert secret not in listing


def test_creating_a_key_is_audited(owner, acme):
    create_on_page(owner)
    (key,) = keys_of(acme)
    with scope(account=acme):
        entry = AuditLog.objects.get(action="api_key.created")
    assert entry.object_id == key.public_id
    assert entry.actor.email == "owner@acme.test"


def test_a_key_needs_a_name(owner, acme):
    response = owner.post(PAGE, {"name": " "})
    assert response.status_code == 400
    assert keys_of(acme) == []


def test_a_restricted_key_keeps_only_the_chosen_resources(owner, acme, test_mode):
    response = create_on_page(
        owner, restricted="on", perm_customers="write", perm_payments="read", perm_refunds=""
    )
    assert response.context["new_secret"].startswith("pd_rk_test_")
    (key,) = keys_of(acme)
    assert key.restricted
    assert key.permissions == {"customers": "write", "payments": "read"}


def test_a_restricted_key_without_any_resource_is_refused(owner, acme):
    response = create_on_page(owner, restricted="on")
    assert response.status_code == 400
    assert "at least one resource" in response.content.decode()
    assert keys_of(acme) == []


def test_live_mode_members_create_live_keys(owner, acme):
    secret = create_on_page(owner).context["new_secret"]
    assert secret.startswith("pd_sk_live_")
    assert keys_of(acme)[0].livemode


def test_rolling_shows_the_new_key_once_and_keeps_the_old_for_the_overlap(owner, acme):
    create_on_page(owner)
    (old,) = keys_of(acme)
    response = owner.post(f"{PAGE}{old.public_id}/roll/", {"overlap": "1h"})
    assert response.status_code == 200
    new_secret = response.context["new_secret"]
    old.refresh_from_db()
    assert old.expires_at is not None
    assert timedelta(minutes=59) < old.expires_at - timezone.now() <= timedelta(hours=1)
    new = keys_of(acme)[1]
    assert new.key_hash == api_keys.key_hash(new_secret)
    assert new.rolled_from_id == old.pk and new.name == old.name
    assert "api_key.rolled" in audit_actions(acme)


def test_revoking_is_audited_and_shown(owner, acme):
    create_on_page(owner)
    (key,) = keys_of(acme)
    response = owner.post(f"{PAGE}{key.public_id}/revoke/", follow=True)
    assert "Revoked" in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert "api_key.revoked" in audit_actions(acme)


def test_another_accounts_key_cannot_be_revoked(owner, acme, globex, key_for):
    other, _ = key_for(globex)
    assert owner.post(f"{PAGE}{other.public_id}/revoke/").status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None


# --- Authentication ---------------------------------------------------------------------


def test_no_key_is_a_401_with_an_error_object(client, connected):
    response = client.get("/api/v1/customers")
    assert response.status_code == 401
    assert error_of(response)["code"] == "api_key_missing"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header", ["Bearer pd_sk_test_nope", "Bearer sk_test_123", "Basic abc", "Bearer "]
)
def test_a_wrong_key_is_a_401(client, connected, header):
    response = client.get("/api/v1/customers", headers={"Authorization": header})
    assert response.status_code == 401
    assert error_of(response)["type"] == "invalid_request_error"


def test_a_revoked_key_is_a_401(api, acme, acme_key, owner_user):
    assert api.get("/api/v1/customers").status_code == 200
    api_keys.api_key_revoke(account=acme, api_key=acme_key[0], actor=owner_user)
    response = api.get("/api/v1/customers")
    assert response.status_code == 401
    assert error_of(response)["code"] == "api_key_revoked"


def test_a_rolled_key_works_inside_its_overlap_and_not_after(api, acme, acme_key, owner_user):
    new_key, new_secret = api_keys.api_key_roll(
        account=acme, api_key=acme_key[0], overlap=timedelta(hours=24), actor=owner_user
    )
    assert api.get("/api/v1/customers").status_code == 200
    assert ApiClient(new_secret).get("/api/v1/customers").status_code == 200

    with scope(account=acme):
        ApiKey.objects.filter(pk=acme_key[0].pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    response = api.get("/api/v1/customers")
    assert response.status_code == 401
    assert error_of(response)["code"] == "api_key_expired"
    assert ApiClient(new_secret).get("/api/v1/customers").status_code == 200


def test_rolling_with_no_overlap_stops_the_old_key_at_once(api, acme, acme_key, owner_user):
    api_keys.api_key_roll(account=acme, api_key=acme_key[0], overlap=timedelta(0), actor=owner_user)
    assert api.get("/api/v1/customers").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(api, acme, acme_key):
    key = acme_key[0]
    api.get("/api/v1/customers")
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    api.get("/api/v1/customers")
    key.refresh_from_db()
    assert key.last_used_at == first

    with scope(account=acme):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    api.get("/api/v1/customers")
    key.refresh_from_db()
    assert key.last_used_at > first


def test_a_test_key_sees_only_test_data(acme, key_for, connected, customer):
    _, live_secret = key_for(acme, livemode=True)
    body = ApiClient(live_secret).get("/api/v1/customers").json()
    assert body["data"] == []


# --- Restricted keys --------------------------------------------------------------------


def test_a_restricted_key_reaches_only_its_resources(acme, key_for, connected, customer):
    _, secret = key_for(acme, permissions={"customers": "read", "payments": "write"})
    restricted = ApiClient(secret)
    assert restricted.get("/api/v1/customers").status_code == 200
    assert restricted.get(f"/api/v1/customers/{customer.stripe_id}").status_code == 200
    assert restricted.get("/api/v1/payment_intents").status_code == 200

    refused = restricted.post("/api/v1/customers", {"email": "x@example.com"})
    assert refused.status_code == 403
    assert error_of(refused) == {
        "type": "invalid_request_error",
        "code": "permission_denied",
        "message": "This restricted key has no write access to customers.",
        "param": None,
    }
    assert restricted.get("/api/v1/refunds").status_code == 403
    assert restricted.get("/api/v1/balance").status_code == 403
    assert restricted.post("/api/v1/payouts", {"amount": 1, "currency": "usd"}).status_code == 403
