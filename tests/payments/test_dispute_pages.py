"""Dispute pages: the list by status with evidence deadlines, the detail page, saving and
submitting evidence and accepting the loss end to end through the sandbox; refusals and
isolation."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from email.utils import formatdate
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_scopes import scope

from dashboard.models import AuditLog
from dashboard.roles import Role
from payments import mirroring, services
from payments.mirroring import Source
from payments.models import Dispute
from sandbox import services as sandbox_services
from tests.payments import stripe_objects as so
from tests.payments.pages_support import member_in_test_mode, role_in_test_mode, store
from tests.payments.sandbox_support import webhooks_arrive
from workbench.models import StripeConnection

pytestmark = pytest.mark.django_db

DISPUTES = "/a/acme/disputes/"
DAY = 86400


@pytest.fixture
def operator(owner_user):
    return member_in_test_mode(owner_user)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return tmp_path


@pytest.fixture
def disputed(connected, acme, owner_user) -> Dispute:
    """A payment disputed at "Stripe" (the sandbox's test card), mirrored by its webhooks."""
    customer = services.customer_create(
        account=acme, livemode=False, email="jenny@example.com", actor=owner_user
    )
    services.payment_method_attach(
        account=acme,
        livemode=False,
        customer=customer,
        payment_method="pm_card_createDispute",
        make_default=True,
        actor=owner_user,
    )
    services.payment_charge_saved_card(
        account=acme,
        livemode=False,
        customer=customer,
        amount=3000,
        currency="usd",
        actor=owner_user,
    )
    webhooks_arrive()
    # The operator answers later than the second the dispute opened in: a write-through in
    # that same second would be dated no newer than the dispute's own events.
    token = connected.secret_key(livemode=False).removeprefix("sk_test_sbx_")
    sandbox_services.clock_advance(token_or_account=token, to=timezone.now() + timedelta(hours=1))
    return reload(acme)


def reload(acme) -> Dispute:
    with scope(account=acme):
        return Dispute.objects.get()


def evidence_post(**fields):
    return {
        "product_description": "",
        "customer_name": "",
        "customer_email_address": "",
        "service_date": "",
        "refund_policy_disclosure": "",
        "uncategorized_text": "",
        **fields,
    }


# --- The list ---------------------------------------------------------------------------


@pytest.fixture
def mirrored(acme):
    """Disputes in each status, written as webhooks write them."""
    now = int(time.time())
    for id, status, due in [
        ("dp_overdue", "needs_response", now - DAY),
        ("dp_soon", "needs_response", now + DAY),
        ("dp_later", "needs_response", now + 6 * DAY),
        ("dp_review", "under_review", now + 6 * DAY),
        ("dp_won", "won", now - 9 * DAY),
        ("dp_lost", "lost", now - 9 * DAY),
    ]:
        store(acme, "charge", so.charge(id=f"ch_{id}", amount=4200))
        store(
            acme,
            "dispute",
            so.dispute(
                id=id,
                charge=f"ch_{id}",
                amount=4200,
                status=status,
                evidence_details={"due_by": due},
            ),
        )


def ids_on(response) -> set[str]:
    return set(re.findall(r"/a/acme/disputes/(dp_\w+)/", response.text))


@pytest.mark.parametrize(
    ("tab", "expected"),
    [
        ("needs_response", {"dp_overdue", "dp_soon", "dp_later"}),
        ("under_review", {"dp_review"}),
        ("won", {"dp_won"}),
        ("lost", {"dp_lost"}),
        ("all", {"dp_overdue", "dp_soon", "dp_later", "dp_review", "dp_won", "dp_lost"}),
    ],
)
def test_the_list_shows_disputes_by_status(operator, mirrored, tab, expected):
    response = operator.get(DISPUTES, {"status": tab})
    assert response.status_code == 200
    assert ids_on(response) == expected


def test_needs_response_is_the_default_tab(operator, mirrored):
    assert ids_on(operator.get(DISPUTES)) == {"dp_overdue", "dp_soon", "dp_later"}


def test_deadlines_that_passed_or_are_close_stand_out(operator, mirrored):
    response = operator.get(DISPUTES)
    rows = {
        id: row
        for row in response.text.split("<tr")
        for id in ("dp_overdue", "dp_soon", "dp_later")
        if f"/disputes/{id}/" in row
    }
    assert "Overdue" in rows["dp_overdue"] and "deadline-overdue" in rows["dp_overdue"]
    assert "Due soon" in rows["dp_soon"] and "deadline-soon" in rows["dp_soon"]
    assert "Overdue" not in rows["dp_later"] and "Due soon" not in rows["dp_later"]
    assert "$42.00 USD" in rows["dp_later"]
    assert "Fraudulent" in rows["dp_later"]


def test_a_closed_dispute_shows_no_deadline_warning(operator, mirrored):
    response = operator.get(DISPUTES, {"status": "won"})
    assert "Overdue" not in response.text


def test_the_list_renders_in_a_fixed_number_of_queries(
    operator, mirrored, django_assert_max_num_queries
):
    # The shell (session, membership, shortcuts, recent pages) plus one query for the
    # disputes with their charges and customers joined.
    with django_assert_max_num_queries(15):
        response = operator.get(DISPUTES, {"status": "all"})
    assert len(ids_on(response)) == 6


def test_the_htmx_tab_swaps_only_the_table(operator, mirrored):
    response = operator.get(DISPUTES, {"status": "won"}, headers={"HX-Request": "true"})
    assert 'id="disputes"' in response.text
    assert "<html" not in response.text


# --- Detail and actions, through the sandbox --------------------------------------------


def test_the_detail_shows_reason_amount_payment_and_deadline(operator, disputed):
    response = operator.get(f"{DISPUTES}{disputed.stripe_id}/")

    assert response.status_code == 200
    text = response.text
    assert "Fraudulent" in text
    assert "$30.00 USD" in text
    assert disputed.charge_stripe_id in text
    assert "jenny@example.com" in text
    assert disputed.evidence_due_by.strftime("%b %-d, %Y") in text
    assert "Submit evidence" in text


def test_evidence_is_saved_without_submitting(operator, acme, disputed):
    response = operator.post(
        f"{DISPUTES}{disputed.stripe_id}/evidence/",
        evidence_post(
            product_description="A yearly subscription", customer_name="Jenny Rosen", submit="0"
        ),
    )

    assert response.status_code == 302
    dispute = reload(acme)
    assert dispute.status == "needs_response"
    assert dispute.data["evidence"]["product_description"] == "A yearly subscription"
    assert dispute.data["evidence_details"]["submission_count"] == 0
    with scope(account=acme):
        audit = AuditLog.objects.get(action="dispute.evidence_saved")
    assert audit.metadata["fields"] == ["customer_name", "product_description"]
    page = operator.get(response.url).text
    assert "A yearly subscription" in page

    webhooks_arrive()
    assert reload(acme).data["evidence"]["customer_name"] == "Jenny Rosen"


def test_evidence_is_submitted(operator, acme, disputed):
    operator.post(
        f"{DISPUTES}{disputed.stripe_id}/evidence/",
        evidence_post(product_description="Shipped on time", submit="0"),
    )
    response = operator.post(
        f"{DISPUTES}{disputed.stripe_id}/evidence/",
        evidence_post(product_description="Shipped on time", service_date="2026-07-01", submit="1"),
    )

    assert response.status_code == 302
    dispute = reload(acme)
    assert dispute.status == "under_review"
    assert dispute.data["evidence"]["product_description"] == "Shipped on time"
    assert dispute.data["evidence"]["service_date"] == "2026-07-01"
    assert dispute.data["evidence_details"]["submission_count"] == 1
    page = operator.get(response.url).text
    assert "Under review" in page
    assert "Submit evidence" not in page
    assert "evidence can no longer be changed" in page


def test_winning_evidence_wins_the_dispute(operator, acme, disputed):
    # Stripe's test evidence text decides the outcome at once.
    operator.post(
        f"{DISPUTES}{disputed.stripe_id}/evidence/",
        evidence_post(uncategorized_text="winning_evidence", submit="1"),
    )

    assert reload(acme).status == "won"
    webhooks_arrive()
    assert reload(acme).status == "won"
    assert disputed.stripe_id in operator.get(DISPUTES, {"status": "won"}).text


def test_submitting_without_any_evidence_is_refused(operator, acme, disputed):
    response = operator.post(f"{DISPUTES}{disputed.stripe_id}/evidence/", evidence_post(submit="1"))

    assert response.status_code == 400
    assert "Add some evidence before submitting it." in response.text
    assert reload(acme).status == "needs_response"


def test_an_uploaded_file_is_kept_by_paydesk_when_the_sandbox_has_no_files_api(
    operator, acme, disputed, media
):
    upload = SimpleUploadedFile("emails.pdf", b"%PDF-1.4 thread", content_type="application/pdf")

    response = operator.post(
        f"{DISPUTES}{disputed.stripe_id}/evidence/",
        {**evidence_post(customer_name="Jenny", submit="0"), "customer_communication": upload},
    )

    assert response.status_code == 302
    kept = list(media.rglob("customer_communication-emails*.pdf"))
    assert len(kept) == 1
    assert kept[0].read_bytes() == b"%PDF-1.4 thread"
    assert disputed.stripe_id in str(kept[0])
    assert "emails" in operator.get(response.url).text
    # Only the text evidence reached "Stripe".
    assert reload(acme).data["evidence"]["customer_communication"] is None


def test_accepting_the_dispute_loses_it(operator, acme, disputed):
    response = operator.post(f"{DISPUTES}{disputed.stripe_id}/accept/")

    assert response.status_code == 302
    assert reload(acme).status == "lost"
    with scope(account=acme):
        assert AuditLog.objects.filter(action="dispute.accepted").count() == 1
    webhooks_arrive()
    assert reload(acme).status == "lost"
    page = operator.get(response.url).text
    assert "Lost" in page
    assert "Accept dispute" not in page


def test_a_closed_dispute_cannot_be_accepted_again(operator, acme, disputed):
    operator.post(f"{DISPUTES}{disputed.stripe_id}/accept/")

    response = operator.post(f"{DISPUTES}{disputed.stripe_id}/accept/", follow=True)

    assert "already closed" in response.text
    with scope(account=acme):
        assert AuditLog.objects.filter(action="dispute.accepted").count() == 1


@pytest.mark.parametrize("role", [Role.VIEW_ONLY, Role.DEVELOPER])
def test_roles_without_disputes_manage_are_refused_and_nothing_changes(acme, disputed, role):
    client = role_in_test_mode(acme, role)

    attempts = [
        client.post(
            f"{DISPUTES}{disputed.stripe_id}/evidence/",
            evidence_post(product_description="x", submit="1"),
        ),
        client.post(f"{DISPUTES}{disputed.stripe_id}/accept/"),
    ]

    assert [response.status_code for response in attempts] == [403, 403]
    dispute = reload(acme)
    assert (dispute.status, dispute.source_time) == (disputed.status, disputed.source_time)
    page = client.get(f"{DISPUTES}{disputed.stripe_id}/")
    assert page.status_code == 200
    assert "Submit evidence" not in page.text


def test_support_specialists_may_respond(acme, disputed):
    client = role_in_test_mode(acme, Role.SUPPORT)
    response = client.post(
        f"{DISPUTES}{disputed.stripe_id}/evidence/",
        evidence_post(product_description="Delivered", submit="1"),
    )
    assert response.status_code == 302
    assert reload(acme).status == "under_review"


def test_another_tenants_dispute_is_a_404(disputed, outsider, acme):
    assert outsider.get(f"{DISPUTES}{disputed.stripe_id}/").status_code == 404
    assert outsider.post(f"{DISPUTES}{disputed.stripe_id}/accept/").status_code == 404
    assert outsider.get(f"/a/globex/disputes/{disputed.stripe_id}/").status_code == 404
    assert reload(acme).status == "needs_response"


def test_live_mode_does_not_show_test_disputes(disputed, owner):
    assert owner.get(f"{DISPUTES}{disputed.stripe_id}/").status_code == 404
    assert disputed.stripe_id not in owner.get(DISPUTES, {"status": "all"}).text


# --- Connected to Stripe itself: uploads go through the Files API ------------------------


class StripeFilesAndDisputes(stripe.HTTPClient):
    """Answers the two calls an evidence upload makes to Stripe, and records them."""

    name = "recording-stripe"
    calls: list[tuple[str, str, bytes | str]] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        path = urlsplit(url).path
        StripeFilesAndDisputes.calls.append((method.upper(), url, post_data or ""))
        if path == "/v1/files":
            body = {"id": "file_evidence", "object": "file", "purpose": "dispute_evidence"}
            return json.dumps(body), 200, self.headers
        form = dict(parse_qsl(post_data or ""))
        evidence = {
            name[len("evidence[") : -1]: value
            for name, value in form.items()
            if name.startswith("evidence[")
        }
        dispute = so.dispute(id="dp_live", evidence=evidence, evidence_details={"due_by": None})
        return json.dumps(dispute), 200, self.headers

    @property
    def headers(self) -> dict[str, str]:
        return {"Date": formatdate(usegmt=True)}

    def request_stream(self, *args, **kwargs):
        raise NotImplementedError


def test_with_stripe_itself_an_upload_goes_to_the_files_api(settings, acme, owner_user):
    settings.PAYDESK_STRIPE_HTTP_CLIENT = "tests.payments.test_dispute_pages.StripeFilesAndDisputes"
    StripeFilesAndDisputes.calls = []
    with scope(account=acme):
        StripeConnection.objects.create(
            account=acme, mode=StripeConnection.Mode.STRIPE, test_secret_key="sk_test_123"
        )
    with scope(account=acme):
        an_hour_ago = Source(account=acme, livemode=False, time=timezone.now() - timedelta(hours=1))
        mirroring.store_dispute(an_hour_ago, so.dispute(id="dp_live", evidence={}))
    upload = SimpleUploadedFile("emails.pdf", b"%PDF-1.4 thread", content_type="application/pdf")

    response = member_in_test_mode(owner_user).post(
        f"{DISPUTES}dp_live/evidence/",
        {**evidence_post(customer_name="Jenny", submit="0"), "customer_communication": upload},
    )

    assert response.status_code == 302
    (file_method, file_url, file_body), (_, dispute_url, dispute_body) = (
        StripeFilesAndDisputes.calls
    )
    assert (file_method, urlsplit(file_url).netloc) == ("POST", "files.stripe.com")
    multipart = file_body if isinstance(file_body, bytes) else file_body.encode()
    assert b'name="purpose"' in multipart and b"dispute_evidence" in multipart
    assert b'filename="emails.pdf"' in multipart and b"%PDF-1.4 thread" in multipart
    assert urlsplit(dispute_url).path == "/v1/disputes/dp_live"
    assert dict(parse_qsl(dispute_body)) == {
        "evidence[customer_name]": "Jenny",
        "evidence[customer_communication]": "file_evidence",
        "submit": "false",
    }
    assert reload(acme).data["evidence"]["customer_communication"] == "file_evidence"
