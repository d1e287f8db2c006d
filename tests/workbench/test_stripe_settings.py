from __future__ import annotations

import pytest
from django_scopes import scope

from dashboard.models import AuditLog
from dashboard.roles import Role
from workbench.models import ApiRequestLog, StripeConnection, WebhookEndpoint
from workbench.services import connect_sandbox

pytestmark = pytest.mark.django_db

PAGE = "/a/acme/settings/stripe/"
GOOD_KEY = "sk_test_51GoodKey0000wxyz"


def connection_of(account):
    with scope(account=account):
        return StripeConnection.objects.filter(account=account).first()


def endpoints_of(account):
    with scope(account=account):
        return list(WebhookEndpoint.objects.order_by("livemode"))


def audit_actions(account):
    with scope(account=account):
        return list(AuditLog.objects.order_by("id").values_list("action", flat=True))


def test_the_owner_sees_the_page_unconnected(owner):
    response = owner.get(PAGE)

    assert response.status_code == 200
    assert b"Not connected" in response.content


def test_a_viewer_gets_403(viewer):
    assert viewer.get(PAGE).status_code == 403
    assert viewer.post(PAGE + "sandbox/").status_code == 403


def test_a_developer_may_connect(member_client, acme):
    developer = member_client(Role.DEVELOPER)

    assert developer.post(PAGE + "sandbox/").status_code == 302
    assert connection_of(acme).is_sandbox


def test_an_outsider_gets_404(outsider):
    assert outsider.get(PAGE).status_code == 404


def test_the_owner_connects_with_a_secret_key(owner, acme, fake_stripe):
    fake_stripe.valid_keys = {GOOD_KEY}

    response = owner.post(PAGE + "connect/", {"secret_key": f"  {GOOD_KEY} "}, follow=True)

    assert response.status_code == 200
    connection = connection_of(acme)
    assert connection.mode == "stripe" and connection.test_secret_key == GOOD_KEY
    assert connection.stripe_account_id == "acct_51GoodKey0000wxy"
    assert not connection.live_secret_key
    page = response.content.decode()
    assert GOOD_KEY not in page
    assert "sk_test_…wxyz" in page
    assert [e.livemode for e in endpoints_of(acme)] == [False]
    assert f"/webhooks/stripe/{endpoints_of(acme)[0].uuid}/" in page
    assert audit_actions(acme) == ["stripe.connected"]
    with scope(account=acme):
        assert GOOD_KEY not in str(list(AuditLog.objects.values("metadata")))


def test_a_wrong_key_shows_an_error_and_saves_nothing(owner, acme, fake_stripe):
    fake_stripe.valid_keys = {GOOD_KEY}

    response = owner.post(PAGE + "connect/", {"secret_key": "sk_test_51RevokedKey1111"})

    assert response.status_code == 200
    assert "Stripe rejected this key" in response.content.decode()
    assert b"sk_test_51RevokedKey1111" not in response.content
    assert connection_of(acme) is None
    assert endpoints_of(acme) == [] and audit_actions(acme) == []
    # The failed check is in the request log, without the key.
    with scope(account=acme):
        [log] = ApiRequestLog.objects.all()
    assert log.status == 401
    assert "sk_test_51RevokedKey1111" not in f"{log.params} {log.error_message}"
    assert log.error_message == "Invalid API Key provided: sk_test_…1111"


def test_something_that_is_not_a_key_is_refused_without_calling_stripe(owner, acme, fake_stripe):
    response = owner.post(PAGE + "connect/", {"secret_key": "pk_test_publishable"})

    assert "That is not a secret key" in response.content.decode()
    assert fake_stripe.requests == [] and connection_of(acme) is None


def test_a_key_of_another_stripe_account_is_refused(owner, acme, fake_stripe):
    owner.post(PAGE + "connect/", {"secret_key": GOOD_KEY})

    response = owner.post(PAGE + "connect/", {"secret_key": "sk_live_51Other0000abcd"})

    assert "Disconnect first" in response.content.decode()
    assert not connection_of(acme).live_secret_key


def test_the_owner_connects_to_the_sandbox(owner, acme, fake_stripe, settings):
    settings.PAYDESK_BASE_URL = "https://paydesk.example/"
    response = owner.post(PAGE + "sandbox/", follow=True)

    assert response.status_code == 200
    connection = connection_of(acme)
    assert connection.is_sandbox
    token = connection.test_secret_key.removeprefix("sk_test_sbx_")
    assert connection.live_secret_key == f"sk_live_sbx_{token}"
    endpoints = endpoints_of(acme)
    assert [e.livemode for e in endpoints] == [False, True]
    assert all(e.secret.startswith("whsec_") and e.stripe_endpoint_id for e in endpoints)
    created = [r for r in fake_stripe.requests if r["url"].endswith("/v1/webhook_endpoints")]
    assert [r["params"]["url"] for r in created] == [
        f"https://paydesk.example/webhooks/stripe/{e.uuid}/" for e in endpoints
    ]
    assert created[0]["params"]["enabled_events[0]"] == "*"
    page = response.content.decode()
    assert connection.test_secret_key not in page and endpoints[0].secret not in page
    assert "Built-in sandbox" in page
    assert audit_actions(acme) == ["stripe.connected"]


def test_connect_sandbox_is_idempotent(acme, owner_user):
    with scope(account=acme):
        first = connect_sandbox(account=acme, actor=owner_user)
        second = connect_sandbox(account=acme, actor=None)

    assert first.pk == second.pk
    assert len(endpoints_of(acme)) == 2


def test_saving_a_signing_secret_rolls_the_previous_one(owner, acme):
    owner.post(PAGE + "connect/", {"secret_key": GOOD_KEY})
    [endpoint] = endpoints_of(acme)
    url = f"{PAGE}webhooks/{endpoint.uuid}/secret/"

    owner.post(url, {"secret": "whsec_first_secret"})
    response = owner.post(url, {"secret": "whsec_second_secret"}, follow=True)

    [endpoint] = endpoints_of(acme)
    assert endpoint.secret == "whsec_second_secret"
    assert endpoint.previous_secret == "whsec_first_secret"
    assert endpoint.active_secrets() == ["whsec_second_secret", "whsec_first_secret"]
    assert b"whsec_second_secret" not in response.content
    assert audit_actions(acme)[-2:] == ["stripe.webhook_secret_saved"] * 2


def test_a_bad_signing_secret_is_refused(owner, acme):
    owner.post(PAGE + "connect/", {"secret_key": GOOD_KEY})
    [endpoint] = endpoints_of(acme)

    response = owner.post(f"{PAGE}webhooks/{endpoint.uuid}/secret/", {"secret": "nope"})

    assert "starts with whsec_" in response.content.decode()
    assert endpoints_of(acme)[0].secret == ""


def test_an_endpoint_can_be_created_at_stripe(owner, acme, fake_stripe):
    owner.post(PAGE + "connect/", {"secret_key": GOOD_KEY})
    [endpoint] = endpoints_of(acme)

    owner.post(f"{PAGE}webhooks/{endpoint.uuid}/register/")

    [endpoint] = endpoints_of(acme)
    assert endpoint.stripe_endpoint_id.startswith("we_") and endpoint.secret.startswith("whsec_")
    assert "stripe.webhook_endpoint_created" in audit_actions(acme)


def test_another_accounts_endpoint_is_404(owner, outsider, globex):
    outsider.post("/a/globex/settings/stripe/connect/", {"secret_key": GOOD_KEY})
    [endpoint] = endpoints_of(globex)

    response = owner.post(f"{PAGE}webhooks/{endpoint.uuid}/secret/", {"secret": "whsec_x123456"})

    assert response.status_code == 404
    assert endpoints_of(globex)[0].secret == ""


def test_disconnecting_disables_the_endpoints(owner, acme):
    owner.post(PAGE + "sandbox/")

    owner.post(PAGE + "disconnect/")

    assert connection_of(acme) is None
    assert [e.enabled for e in endpoints_of(acme)] == [False, False]
    assert audit_actions(acme)[-1] == "stripe.disconnected"
