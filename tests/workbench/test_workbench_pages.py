"""The Workbench pages: request logs, events (detail, replay), webhooks (deliveries,
secret rotation with overlap), API version, and who may see them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import stripe
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from dashboard.models import AuditLog, Membership
from dashboard.roles import Role
from payments.models import Charge
from reporting.models import DailyRollup
from tests.conftest import logged_in, member
from tests.payments import stripe_objects as so
from tests.workbench.conftest import SECRET
from tests.workbench.support import event_payload, post_delivery, signed_delivery
from workbench import services
from workbench.models import ApiRequestLog, Event, WebhookEndpoint

pytestmark = pytest.mark.django_db

NEW_SECRET = "whsec_test_the_new_secret"


def in_test_mode(user):
    with scopes_disabled():
        Membership.objects.filter(user=user).update(test_mode=True)
    return logged_in(user)


@pytest.fixture
def developer(acme):
    return in_test_mode(member(acme, Role.DEVELOPER, "dev@acme.test"))


@pytest.fixture
def owner(owner_user):
    return in_test_mode(owner_user)


def ingest(endpoint, payload, secret=SECRET):
    body, header = signed_delivery(payload, secret)
    result = services.delivery_receive(
        endpoint_uuid=endpoint.uuid, body=body, headers={"Stripe-Signature": header}
    )
    assert result.status == 200, result.reason
    return payload


def log(account, **fields):
    values = {"livemode": False, "method": "GET", "path": "/v1/charges", "status": 200}
    with scope(account=account):
        return ApiRequestLog.objects.create(account=account, **{**values, **fields})


def get_event(account, stripe_id) -> Event:
    with scope(account=account):
        return Event.objects.get(stripe_id=stripe_id)


@pytest.mark.parametrize(
    "page", ["workbench/", "workbench/logs/", "workbench/events/", "workbench/webhooks/"]
)
@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.DEVELOPER, 200),
        (Role.ADMINISTRATOR, 200),
        (Role.SUPPORT, 403),
        (Role.VIEW_ONLY, 403),
        (Role.ANALYST, 403),
    ],
)
def test_only_developers_and_administrators_see_the_workbench(
    member_client, acme, page, role, status
):
    assert member_client(role).get(f"/a/{acme.slug}/{page}").status_code == status


def test_the_nav_links_to_the_workbench_for_developers_only(developer, viewer, acme):
    assert f'href="/a/{acme.slug}/workbench/"' in developer.get(f"/a/{acme.slug}/").content.decode()
    assert "/workbench/" not in viewer.get(f"/a/{acme.slug}/").content.decode()


def test_request_logs_filter_by_method_status_and_error_type(developer, acme):
    log(acme, path="/v1/customers", request_id="req_ok")
    log(
        acme,
        method="POST",
        path="/v1/charges/ch_1/refunds",
        status=402,
        error_type="card_error",
        request_id="req_declined",
    )
    log(
        acme,
        method="POST",
        path="/v1/payouts",
        status=None,
        error_type="api_connection_error",
        request_id="req_network",
    )
    log(acme, livemode=True, request_id="req_live")
    url = f"/a/{acme.slug}/workbench/logs/"

    def shown(query):
        content = developer.get(url + query).content.decode()
        return sorted(part.split('"', 1)[0] for part in content.split('data-request="')[1:])

    assert shown("") == ["req_declined", "req_network", "req_ok"]
    assert shown("?method=POST") == ["req_declined", "req_network"]
    assert shown("?status=4xx") == ["req_declined"]
    assert shown("?status=error") == ["req_network"]
    assert shown("?error_type=card_error") == ["req_declined"]
    assert shown("?path=customers") == ["req_ok"]


def test_request_logs_page_by_keyset(developer, acme):
    now = timezone.now()
    for number in range(55):
        log(acme, request_id=f"req_{number:02}", created=now - timedelta(seconds=number))
    url = f"/a/{acme.slug}/workbench/logs/"
    first = developer.get(url).content.decode()
    assert "req_00" in first and "req_49" in first and "req_50" not in first
    older = first.split('rel="next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    second = developer.get(url + older).content.decode()
    assert "req_50" in second and "req_54" in second and "req_49" not in second


def test_a_request_shows_its_ids_duration_and_error(developer, acme):
    log(
        acme,
        method="POST",
        path="/v1/refunds",
        status=400,
        request_id="req_abc",
        idempotency_key="paydesk-key-1",
        duration_ms=321,
        error_type="invalid_request_error",
        error_message="No such charge: 'ch_x'",
    )
    listing = developer.get(f"/a/{acme.slug}/workbench/logs/").content.decode()
    # The list links to the detail with an opaque id, not the row's integer key.
    detail_url = re.search(r'href="(/a/acme/workbench/logs/[^"?]+/)"', listing).group(1)
    detail = developer.get(detail_url).content.decode()
    for text in ("req_abc", "paydesk-key-1", "321 ms", "invalid_request_error", "No such charge"):
        assert text in detail
    assert developer.get(f"/a/{acme.slug}/workbench/logs/1/").status_code == 404


def test_errors_of_the_last_week_are_grouped_by_type_and_endpoint(developer, acme):
    for charge_id in ("ch_1", "ch_2", "ch_3"):
        log(
            acme,
            method="POST",
            path=f"/v1/charges/{charge_id}/refunds",
            status=402,
            error_type="card_error",
        )
    log(
        acme,
        method="POST",
        path="/v1/charges/ch_9/refunds",
        status=402,
        error_type="card_error",
        created=timezone.now() - timedelta(days=8),
    )
    log(acme, path="/v1/customers", status=200)
    content = developer.get(f"/a/{acme.slug}/workbench/").content.decode()
    group = content.split('data-testid="error-groups"', 1)[1]
    assert "POST /v1/charges/{id}/refunds" in group
    assert '<td class="amount">3</td>' in group
    assert "/v1/customers" not in group


def test_events_filter_by_type_and_status(developer, acme, endpoint):
    ingest(endpoint, event_payload("charge.succeeded", event_id="evt_charge"))
    ingest(endpoint, event_payload("customer.created", event_id="evt_customer"))
    with scope(account=acme):
        Event.objects.filter(stripe_id="evt_customer").update(status=Event.Status.FAILED)
    url = f"/a/{acme.slug}/workbench/events/"

    def shown(query):
        content = developer.get(url + query).content.decode()
        return sorted(part.split('"', 1)[0] for part in content.split('data-event="')[1:])

    assert shown("") == ["evt_charge", "evt_customer"]
    assert shown("?status=failed") == ["evt_customer"]
    assert shown("?type=charge.*") == ["evt_charge"]
    assert shown("?type=customer.created&status=pending") == []


def test_an_event_shows_payload_deliveries_attempts_and_the_rows_it_touched(
    developer, acme, endpoint
):
    obj = so.charge(id="ch_seen", amount=2500)
    ingest(endpoint, event_payload("charge.succeeded", obj=obj, event_id="evt_seen"))
    services.events_drain()
    content = developer.get(f"/a/{acme.slug}/workbench/events/evt_seen/").content.decode()
    assert "Processed" in content
    assert '<dd data-testid="attempts">1</dd>' in content
    mirror = content.split('data-testid="mirror-rows"', 1)[1].split("</table>", 1)[0]
    assert "Charge" in mirror and "ch_seen" in mirror
    deliveries = content.split('data-testid="deliveries"', 1)[1].split("</table>", 1)[0]
    assert "Verified" in deliveries and "200" in deliveries
    assert "&quot;amount&quot;: 2500" in content


def test_another_accounts_event_is_a_404(developer, acme, globex):
    with scope(account=globex):
        Event.objects.create(
            account=globex,
            livemode=False,
            stripe_id="evt_globex",
            type="charge.succeeded",
            created=timezone.now(),
            payload={},
        )
    assert developer.get(f"/a/{acme.slug}/workbench/events/evt_globex/").status_code == 404
    response = developer.post(f"/a/{acme.slug}/workbench/events/evt_globex/replay/")
    assert response.status_code == 404
    assert get_event(globex, "evt_globex").status == Event.Status.PENDING


def test_replaying_an_event_leaves_the_mirror_unchanged_and_counts_an_attempt(
    developer, acme, endpoint
):
    obj = so.charge(id="ch_replay", amount=4200)
    ingest(endpoint, event_payload("charge.succeeded", obj=obj, event_id="evt_replay"))
    services.events_drain()
    with scope(account=acme):
        before = Charge.objects.values().get(stripe_id="ch_replay")
        rollups = list(DailyRollup.objects.values().order_by("id"))

    response = developer.post(f"/a/{acme.slug}/workbench/events/evt_replay/replay/")
    assert response.status_code == 302
    assert get_event(acme, "evt_replay").status == Event.Status.PENDING
    services.events_drain()

    event = get_event(acme, "evt_replay")
    assert (event.status, event.attempts) == (Event.Status.PROCESSED, 2)
    with scope(account=acme):
        assert Charge.objects.values().get(stripe_id="ch_replay") == before
        assert list(DailyRollup.objects.values().order_by("id")) == rollups
        entry = AuditLog.objects.get(action="developers.event_replayed")
    assert entry.object_id == "evt_replay"


def test_replay_all_failed_events_puts_only_failed_ones_back(developer, acme, endpoint):
    for name in ("evt_a", "evt_b", "evt_ok"):
        ingest(endpoint, event_payload("issuing_card.created", event_id=name))
    with scope(account=acme):
        Event.objects.filter(stripe_id__in=["evt_a", "evt_b"]).update(status=Event.Status.FAILED)
        Event.objects.filter(stripe_id="evt_ok").update(status=Event.Status.PROCESSED)
    response = developer.post(f"/a/{acme.slug}/workbench/events/replay-failed/", follow=True)
    assert "2 failed events queued again" in response.content.decode()
    assert [get_event(acme, n).status for n in ("evt_a", "evt_b", "evt_ok")] == [
        "pending",
        "pending",
        "processed",
    ]
    with scope(account=acme):
        assert AuditLog.objects.get(action="developers.failed_events_replayed").metadata == {
            "count": 2
        }


def test_view_only_and_support_cannot_replay(member_client, acme, endpoint):
    ingest(endpoint, event_payload("issuing_card.created", event_id="evt_x"))
    with scope(account=acme):
        Event.objects.filter(stripe_id="evt_x").update(status=Event.Status.FAILED)
    for role in (Role.VIEW_ONLY, Role.SUPPORT, Role.ANALYST):
        client = member_client(role)
        assert client.post(f"/a/{acme.slug}/workbench/events/evt_x/replay/").status_code == 403
    assert get_event(acme, "evt_x").status == Event.Status.FAILED


def test_webhooks_page_shows_the_url_version_and_deliveries(developer, acme, endpoint):
    ingest(endpoint, event_payload("charge.succeeded", event_id="evt_delivered"))
    post_delivery(developer, endpoint, b"{}", "t=1,v1=bad")
    content = developer.get(f"/a/{acme.slug}/workbench/webhooks/").content.decode()
    assert f"/webhooks/stripe/{endpoint.uuid}/" in content
    assert stripe.api_version in content
    assert "evt_delivered" in content and "Verified" in content and "Refused" in content
    assert stripe.VERSION in developer.get(f"/a/{acme.slug}/workbench/").content.decode()


def deliver(client, endpoint, secret):
    body, header = signed_delivery(event_payload("issuing_card.created"), secret)
    return post_delivery(client, endpoint, body, header).status_code


def test_rotation_keeps_both_secrets_valid_in_the_overlap_and_only_the_new_one_after(
    developer, client, acme, endpoint, settings
):
    settings.PAYDESK_WEBHOOK_SECRET_OVERLAP = timedelta(hours=1)
    response = developer.post(
        f"/a/{acme.slug}/workbench/webhooks/{endpoint.uuid}/roll/", {"secret": NEW_SECRET}
    )
    assert response.status_code == 302
    assert deliver(client, endpoint, SECRET) == 200
    assert deliver(client, endpoint, NEW_SECRET) == 200
    page = developer.get(f"/a/{acme.slug}/workbench/webhooks/").content.decode()
    assert "still verifies until" in page

    with scope(account=acme):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
        )
        assert AuditLog.objects.filter(action="stripe.webhook_secret_saved").count() == 1
    assert deliver(client, endpoint, SECRET) == 400
    assert deliver(client, endpoint, NEW_SECRET) == 200


def test_a_bad_secret_is_refused_and_support_cannot_rotate(
    developer, member_client, acme, endpoint
):
    url = f"/a/{acme.slug}/workbench/webhooks/{endpoint.uuid}/roll/"
    refused = developer.post(url, {"secret": "not-a-secret"})
    assert refused.status_code == 400
    assert "starts with whsec_" in refused.content.decode()
    assert member_client(Role.SUPPORT).post(url, {"secret": NEW_SECRET}).status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.secret == SECRET and not endpoint.previous_secret
