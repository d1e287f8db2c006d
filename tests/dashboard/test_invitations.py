from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_scopes import scopes_disabled

from dashboard import services
from dashboard.models import Invitation
from dashboard.roles import Role
from tests.dashboard.conftest import BROWSER, audit_entries, invitations, link_in_last_email
from tests.dashboard.conftest import memberships as members_of
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def invite(owner, owner_user, acme, django_capture_on_commit_callbacks):
    """`invite(email, role)`: the acme owner invites through the team page; returns the
    path of the link from the email."""

    def make(email: str = "newcomer@example.com", role: str = "developer") -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = owner.post("/a/acme/settings/team/invite/", {"email": email, "role": role})
        assert response.status_code == 302
        return urlparse(link_in_last_email()).path

    return make


def expire(invitation: Invitation, *, by: timedelta = timedelta(seconds=1)) -> None:
    with scopes_disabled():
        invitation.expires_at = timezone.now() - by
        invitation.save(update_fields=["expires_at"])


SIGN_UP = {"name": "Nora Newcomer", "password1": "plum-orchard-47", "password2": "plum-orchard-47"}


# --- The email --------------------------------------------------------------------------


def test_it_emails_the_link_with_inviter_role_and_expiry(invite, owner_user, settings):
    owner_user.name = "Olivia Owner"
    owner_user.save()
    invite("newcomer@example.com", "analyst")
    [email] = mail.outbox
    assert email.to == ["newcomer@example.com"]
    assert email.subject == "Olivia Owner invited you to Acme Platform on Paydesk"
    assert "Olivia Owner (owner@acme.test)" in email.body
    assert "as Analyst" in email.body
    assert "expires on" in email.body
    link = link_in_last_email()
    assert link.startswith(settings.PAYDESK_BASE_URL.rstrip("/") + "/invitations/acme/")


def test_the_link_uses_the_configured_base_url(invite, settings):
    settings.PAYDESK_BASE_URL = "https://pay.example.org/"
    invite()
    assert link_in_last_email().startswith("https://pay.example.org/invitations/acme/")


def test_the_token_is_stored_only_hashed(invite, acme):
    path = invite()
    token = path.rstrip("/").rsplit("/", 1)[1]
    [invitation] = invitations(acme)
    assert invitation.token_hash == services.hash_token(token)
    stored = [str(value) for value in invitation.__dict__.values()]
    assert not any(token in value for value in stored)
    for entry in audit_entries(acme):
        assert token not in str(entry.__dict__)


def test_it_expires_after_ten_days(invite, acme):
    invite()
    [invitation] = invitations(acme)
    lifetime = invitation.expires_at - invitation.created
    assert timedelta(days=10) - timedelta(seconds=5) < lifetime <= timedelta(days=10)


def test_reinviting_an_address_revokes_the_previous_link(invite, client):
    first = invite()
    second = invite()
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


# --- Invalid links offer nothing --------------------------------------------------------


def test_an_unknown_token_shows_a_page_that_offers_nothing(client, acme):
    response = client.get("/invitations/acme/not-a-real-token/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "This invitation link is not valid" in page
    assert "<form" not in page


def test_an_unknown_account_shows_the_same_page(client, invite):
    path = invite()
    response = client.get(path.replace("/acme/", "/globex/"))
    assert response.status_code == 404
    assert "This invitation link is not valid" in response.content.decode()


def test_an_expired_invitation_cannot_be_accepted(invite, acme):
    path = invite("existing@example.com")
    user = UserFactory(email="existing@example.com")
    [invitation] = invitations(acme)
    expire(invitation)
    client = Client()
    client.force_login(user)
    assert client.get(path).status_code == 404
    response = client.post(path)
    assert response.status_code == 404
    assert "existing@example.com" not in members_of(acme)


def test_an_invitation_is_still_valid_just_before_it_expires(invite, acme, client):
    path = invite()
    [invitation] = invitations(acme)
    expire(invitation, by=timedelta(seconds=-60))
    assert client.get(path).status_code == 200


def test_a_revoked_invitation_cannot_be_accepted(invite, owner, acme, client):
    path = invite()
    [invitation] = invitations(acme)
    owner.post(f"/a/acme/settings/team/invitations/{invitation.public_id}/revoke/")
    response = client.post(path, SIGN_UP)
    assert response.status_code == 404
    assert not User.objects.filter(email="newcomer@example.com").exists()


# --- Accepting as a new user ------------------------------------------------------------


def test_a_new_user_signs_up_and_joins(invite, acme, client):
    path = invite("newcomer@example.com", "support")
    page = client.get(path).content.decode()
    assert "Create your login" in page
    response = client.post(path, SIGN_UP, headers={"user-agent": BROWSER})
    assert response.status_code == 302
    assert response.url == "/a/acme/"
    user = User.objects.get(email="newcomer@example.com")
    assert user.name == "Nora Newcomer"
    assert user.check_password("plum-orchard-47")
    assert members_of(acme)["newcomer@example.com"] == Role.SUPPORT
    # Signed in: the account home opens.
    assert client.get("/a/acme/").status_code == 200
    [entry] = audit_entries(acme, "team.joined")
    assert (entry.actor, entry.ip_address, entry.user_agent) == (user, "127.0.0.1", BROWSER)


def test_sign_up_applies_the_password_validators(invite, client):
    path = invite()
    response = client.post(path, {"name": "N", "password1": "123", "password2": "123"})
    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    assert not User.objects.filter(email="newcomer@example.com").exists()


def test_sign_up_needs_the_same_password_twice(invite, client):
    path = invite()
    data = {**SIGN_UP, "password2": "plum-orchard-48"}
    response = client.post(path, data)
    assert "The two passwords differ." in response.content.decode()
    assert not User.objects.filter(email="newcomer@example.com").exists()


def test_an_invitation_works_only_once(invite, acme, client):
    path = invite()
    assert client.post(path, SIGN_UP).status_code == 302
    second = Client()
    response = second.post(path, {**SIGN_UP, "name": "Someone Else"})
    assert response.status_code == 404
    assert User.objects.get(email="newcomer@example.com").name == "Nora Newcomer"
    assert len(audit_entries(acme, "team.joined")) == 1


def test_the_accept_service_refuses_a_second_use(invite, acme):
    path = invite("existing@example.com")
    token = path.rstrip("/").rsplit("/", 1)[1]
    user = UserFactory(email="existing@example.com")
    services.invitation_accept(account_slug="acme", token=token, user=user)
    with pytest.raises(services.TeamError, match="no longer valid"):
        services.invitation_accept(account_slug="acme", token=token, user=user)


# --- Accepting as an existing user ------------------------------------------------------


def test_an_existing_user_who_is_signed_out_is_asked_to_sign_in(invite, client):
    path = invite("existing@example.com")
    UserFactory(email="existing@example.com")
    page = client.get(path).content.decode()
    assert f'href="/login/?next={path}"' in page
    assert "Create your login" not in page
    # Posting a sign-up for an address that has a login changes nothing.
    client.post(path, SIGN_UP)
    assert User.objects.get(email="existing@example.com").check_password(PASSWORD)


def test_an_existing_user_signs_in_and_joins(invite, acme, client):
    path = invite("existing@example.com", "analyst")
    UserFactory(email="existing@example.com")
    response = client.post(
        f"/login/?next={path}",
        {"username": "existing@example.com", "password": PASSWORD, "next": path},
    )
    assert response.url == path
    page = client.get(path).content.decode()
    assert "Join Acme Platform" in page
    response = client.post(path)
    assert response.status_code == 302
    assert response.url == "/a/acme/"
    assert members_of(acme)["existing@example.com"] == Role.ANALYST
    assert "Welcome to Acme Platform" in client.get("/a/acme/").content.decode()


def test_an_outsider_joins_a_second_account(invite, acme, outsider, outsider_user):
    path = invite("owner@globex.test", "view_only")
    assert outsider.post(path).status_code == 302
    assert members_of(acme)["owner@globex.test"] == Role.VIEW_ONLY
    assert outsider.get("/a/acme/").status_code == 200


def test_the_wrong_signed_in_user_is_refused_and_offered_sign_out(invite, acme, viewer):
    path = invite("someone@example.com")
    response = viewer.get(path)
    assert response.status_code == 403
    page = response.content.decode()
    assert "You are signed in as <strong>viewer@acme.test</strong>" in page
    assert "Sign out" in page
    assert viewer.post(path).status_code == 403
    assert "someone@example.com" not in members_of(acme)
    [invitation] = invitations(acme)
    assert invitation.accepted_at is None


def test_the_accept_service_refuses_the_wrong_user(invite, acme, viewer_user):
    token = invite("someone@example.com").rstrip("/").rsplit("/", 1)[1]
    with pytest.raises(services.TeamError, match="This invitation is for someone@example.com"):
        services.invitation_accept(account_slug="acme", token=token, user=viewer_user)


def test_signing_out_from_the_invitation_comes_back_to_it(invite, viewer):
    path = invite("someone@example.com")
    response = viewer.post("/logout/", {"next": path})
    assert response.status_code == 302
    assert response.url == path
    assert "Create your login" in viewer.get(path).content.decode()
