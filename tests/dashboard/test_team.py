import pytest
from django.core import mail
from django_scopes import scope

from dashboard import services
from dashboard.models import Invitation, Membership
from dashboard.roles import Role
from tests.dashboard.conftest import (
    ALL_ROLES,
    BROWSER,
    HTMX,
    MANAGERS,
    audit_entries,
    invitations,
    memberships,
)

pytestmark = pytest.mark.django_db

TEAM = "/a/acme/settings/team/"


@pytest.fixture
def team_setup(acme, acme_member):
    """acme with a spare Owner (so no last-Owner rule gets in the way), a Developer to act
    on and a pending invitation to revoke."""
    spare_owner = acme_member(Role.OWNER, "spare-owner@acme.test")
    acme_member(Role.DEVELOPER, "target@acme.test")
    with scope(account=acme):
        invitation, _ = services.invitation_create(
            account=acme, invited_by=spare_owner, email="pending@example.com", role=Role.ANALYST
        )
    return invitation


# --- The role matrix --------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_member_sees_the_team(role, member_client, team_setup):
    response = member_client(role).get(TEAM)
    assert response.status_code == 200
    page = response.content.decode()
    assert "target@acme.test" in page
    assert "pending@example.com" in page
    assert ("Send invitation" in page) is (role in MANAGERS)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_inviting_is_allowed_only_to_owners_and_administrators(
    role, member_client, acme, team_setup, django_capture_on_commit_callbacks
):
    client = member_client(role)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{TEAM}invite/", {"email": "new@example.com", "role": "analyst"})
    invited = [i.email for i in invitations(acme)]
    if role in MANAGERS:
        assert response.status_code == 302
        assert "new@example.com" in invited
        assert len(mail.outbox) == 1
    else:
        assert response.status_code == 403
        assert "new@example.com" not in invited
        assert mail.outbox == []


@pytest.mark.parametrize("role", ALL_ROLES)
def test_changing_a_role_is_allowed_only_to_owners_and_administrators(
    role, member_client, acme, team_setup
):
    response = member_client(role).post(
        f"{TEAM}role/", {"member": "target@acme.test", "role": "analyst"}
    )
    if role in MANAGERS:
        assert response.status_code == 302
        assert memberships(acme)["target@acme.test"] == Role.ANALYST
    else:
        assert response.status_code == 403
        assert memberships(acme)["target@acme.test"] == Role.DEVELOPER


@pytest.mark.parametrize("role", ALL_ROLES)
def test_removing_a_member_is_allowed_only_to_owners_and_administrators(
    role, member_client, acme, team_setup
):
    response = member_client(role).post(f"{TEAM}remove/", {"member": "target@acme.test"})
    if role in MANAGERS:
        assert response.status_code == 302
        assert "target@acme.test" not in memberships(acme)
    else:
        assert response.status_code == 403
        assert "target@acme.test" in memberships(acme)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_revoking_an_invitation_is_allowed_only_to_owners_and_administrators(
    role, member_client, acme, team_setup
):
    url = f"{TEAM}invitations/{team_setup.public_id}/revoke/"
    response = member_client(role).post(url)
    [invitation] = invitations(acme)
    if role in MANAGERS:
        assert response.status_code == 302
        assert invitation.revoked_at is not None
    else:
        assert response.status_code == 403
        assert invitation.revoked_at is None


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_remove_confirmation_page_is_only_for_managers(role, member_client, team_setup):
    response = member_client(role).get(f"{TEAM}remove/?member=target@acme.test")
    assert response.status_code == (200 if role in MANAGERS else 403)


# --- Pages and htmx ---------------------------------------------------------------------


def test_a_view_only_member_sees_no_team_controls(viewer, owner_user):
    page = viewer.get(TEAM).content.decode()
    assert "owner@acme.test" in page
    assert 'name="role"' not in page
    assert "Remove" not in page


def test_the_team_page_lists_members_with_role_and_pending_invitations_with_inviter(
    owner, owner_user, acme
):
    owner_user.name = "Olivia Owner"
    owner_user.save()
    with scope(account=acme):
        services.invitation_create(
            account=acme, invited_by=owner_user, email="soon@example.com", role=Role.SUPPORT
        )
    page = owner.get(TEAM).content.decode()
    assert "Olivia Owner" in page
    assert "soon@example.com" in page
    assert "Support specialist" in page
    assert "Expires" in page


def test_removing_asks_for_confirmation_first(owner, acme, acme_member, owner_user):
    acme_member(Role.ANALYST, "analyst@acme.test")
    response = owner.get(f"{TEAM}remove/?member=analyst@acme.test")
    assert response.status_code == 200
    assert "Remove <strong>" in response.content.decode()
    assert "analyst@acme.test" in memberships(acme)


def test_removing_an_unknown_member_is_a_404(owner, owner_user):
    assert owner.post(f"{TEAM}remove/", {"member": "nobody@example.com"}).status_code == 404


def test_an_htmx_role_change_returns_the_members_table(owner, owner_user, acme, acme_member):
    acme_member(Role.ANALYST, "analyst@acme.test")
    response = owner.post(
        f"{TEAM}role/", {"member": "analyst@acme.test", "role": "developer"}, headers=HTMX
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert '<section id="members"' in page
    assert "<html" not in page
    assert "analyst@acme.test is now Developer." in page
    assert memberships(acme)["analyst@acme.test"] == Role.DEVELOPER


def test_an_htmx_invite_returns_the_invitations_section(
    owner, owner_user, acme, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(
            f"{TEAM}invite/", {"email": "new@example.com", "role": "developer"}, headers=HTMX
        )
    page = response.content.decode()
    assert '<section id="invitations"' in page
    assert "<html" not in page
    assert "Invitation sent to new@example.com." in page


def test_an_invalid_invite_shows_the_error_and_sends_nothing(
    owner, owner_user, acme, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(f"{TEAM}invite/", {"email": "not-an-email", "role": "developer"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert invitations(acme) == []
    assert mail.outbox == []


def test_it_refuses_to_invite_an_existing_member(owner, owner_user, acme, viewer_user):
    response = owner.post(f"{TEAM}invite/", {"email": "viewer@acme.test", "role": "analyst"})
    assert "viewer@acme.test is already a member" in response.content.decode()
    assert invitations(acme) == []


def test_demoting_yourself_reloads_the_whole_page(owner, acme, owner_user, acme_member):
    acme_member(Role.OWNER, "second-owner@acme.test")
    response = owner.post(
        f"{TEAM}role/", {"member": "owner@acme.test", "role": "analyst"}, headers=HTMX
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == TEAM
    assert memberships(acme)["owner@acme.test"] == Role.ANALYST


def test_leaving_the_account_sends_you_home(owner, acme, owner_user, acme_member):
    acme_member(Role.OWNER, "second-owner@acme.test")
    response = owner.post(f"{TEAM}remove/", {"member": "owner@acme.test"})
    assert response.status_code == 302
    assert response.url == "/"
    assert "owner@acme.test" not in memberships(acme)


# --- The last Owner ---------------------------------------------------------------------


def test_it_refuses_to_demote_the_last_owner(owner, owner_user, acme):
    response = owner.post(f"{TEAM}role/", {"member": "owner@acme.test", "role": "administrator"})
    assert response.status_code == 302
    page = owner.get(TEAM).content.decode()
    assert "An account needs at least one Owner." in page
    assert memberships(acme)["owner@acme.test"] == Role.OWNER
    assert audit_entries(acme, "team.role_changed") == []


def test_it_refuses_to_remove_the_last_owner(owner, owner_user, acme):
    response = owner.post(f"{TEAM}remove/", {"member": "owner@acme.test"})
    assert response.status_code == 302
    assert "The last Owner cannot be removed." in owner.get(TEAM).content.decode()
    assert memberships(acme)["owner@acme.test"] == Role.OWNER
    assert audit_entries(acme, "team.removed") == []


def test_it_shows_the_last_owner_error_in_the_htmx_partial(owner, owner_user, acme):
    response = owner.post(f"{TEAM}remove/", {"member": "owner@acme.test"}, headers=HTMX)
    assert response.status_code == 200
    assert "The last Owner cannot be removed." in response.content.decode()
    assert memberships(acme)["owner@acme.test"] == Role.OWNER


def test_an_owner_can_step_down_once_there_is_another_owner(owner, owner_user, acme, acme_member):
    acme_member(Role.OWNER, "second-owner@acme.test")
    owner.post(f"{TEAM}role/", {"member": "owner@acme.test", "role": "administrator"})
    assert memberships(acme)["owner@acme.test"] == Role.ADMINISTRATOR


# --- Only an Owner grants or removes Owner ----------------------------------------------


@pytest.fixture
def admin(member_client, owner_user):
    return member_client(Role.ADMINISTRATOR)


def test_an_administrator_cannot_make_someone_owner(admin, acme, acme_member):
    acme_member(Role.ANALYST, "analyst@acme.test")
    admin.post(f"{TEAM}role/", {"member": "analyst@acme.test", "role": "owner"})
    assert memberships(acme)["analyst@acme.test"] == Role.ANALYST
    assert "Only an Owner can grant or remove the Owner role." in admin.get(TEAM).content.decode()


def test_an_administrator_cannot_promote_themselves_to_owner(admin, acme):
    admin.post(f"{TEAM}role/", {"member": "administrator@acme.test", "role": "owner"})
    assert memberships(acme)["administrator@acme.test"] == Role.ADMINISTRATOR


def test_an_administrator_cannot_demote_an_owner(admin, acme, acme_member):
    acme_member(Role.OWNER, "second-owner@acme.test")
    admin.post(f"{TEAM}role/", {"member": "second-owner@acme.test", "role": "view_only"})
    assert memberships(acme)["second-owner@acme.test"] == Role.OWNER


def test_an_administrator_cannot_remove_an_owner(admin, acme, acme_member):
    acme_member(Role.OWNER, "second-owner@acme.test")
    admin.post(f"{TEAM}remove/", {"member": "second-owner@acme.test"})
    assert "second-owner@acme.test" in memberships(acme)


def test_an_administrator_cannot_invite_an_owner(admin, acme):
    response = admin.post(f"{TEAM}invite/", {"email": "boss@example.com", "role": "owner"})
    assert response.status_code == 200
    assert invitations(acme) == []


def test_an_administrator_is_not_offered_the_owner_role(admin):
    page = admin.get(TEAM).content.decode()
    assert '<option value="administrator"' in page
    assert '<option value="owner"' not in page


def test_an_owner_can_make_someone_owner(owner, owner_user, acme, acme_member):
    acme_member(Role.ANALYST, "analyst@acme.test")
    owner.post(f"{TEAM}role/", {"member": "analyst@acme.test", "role": "owner"})
    assert memberships(acme)["analyst@acme.test"] == Role.OWNER


def test_the_role_change_service_refuses_owner_to_a_non_owner(acme, acme_member, in_acme):
    administrator = acme_member(Role.ADMINISTRATOR, "admin@acme.test")
    analyst = acme_member(Role.ANALYST, "analyst@acme.test")
    membership = Membership.objects.get(user=analyst)
    with pytest.raises(services.TeamError, match="Only an Owner"):
        services.member_role_change(
            account=acme, actor=administrator, membership=membership, role=Role.OWNER
        )
    membership.refresh_from_db()
    assert membership.role == Role.ANALYST


def test_the_invite_service_refuses_owner_invitations_from_a_non_owner(acme, acme_member, in_acme):
    administrator = acme_member(Role.ADMINISTRATOR, "admin@acme.test")
    with pytest.raises(services.TeamError, match="Only an Owner"):
        services.invitation_create(
            account=acme, invited_by=administrator, email="x@example.com", role=Role.OWNER
        )
    assert not Invitation.objects.exists()


# --- Audit ------------------------------------------------------------------------------


def test_a_role_change_is_audited_with_actor_ip_and_user_agent(
    owner, owner_user, acme, acme_member
):
    acme_member(Role.ANALYST, "analyst@acme.test")
    owner.post(
        f"{TEAM}role/",
        {"member": "analyst@acme.test", "role": "support"},
        headers={"user-agent": BROWSER},
        REMOTE_ADDR="203.0.113.7",
    )
    [entry] = audit_entries(acme, "team.role_changed")
    assert entry.actor == owner_user
    assert entry.ip_address == "203.0.113.7"
    assert entry.user_agent == BROWSER
    assert entry.object_id == "analyst@acme.test"
    assert entry.metadata == {"from": "analyst", "to": "support"}


def test_a_removal_is_audited(owner, owner_user, acme, acme_member):
    acme_member(Role.ANALYST, "analyst@acme.test")
    owner.post(
        f"{TEAM}remove/",
        {"member": "analyst@acme.test"},
        headers={"user-agent": BROWSER},
        REMOTE_ADDR="203.0.113.8",
    )
    [entry] = audit_entries(acme, "team.removed")
    assert (entry.actor, entry.ip_address, entry.user_agent) == (owner_user, "203.0.113.8", BROWSER)
    assert entry.object_id == "analyst@acme.test"


def test_an_invitation_is_audited(owner, owner_user, acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        owner.post(
            f"{TEAM}invite/",
            {"email": "new@example.com", "role": "developer"},
            headers={"user-agent": BROWSER},
            REMOTE_ADDR="203.0.113.9",
        )
    [entry] = audit_entries(acme, "team.invited")
    assert (entry.actor, entry.ip_address, entry.user_agent) == (owner_user, "203.0.113.9", BROWSER)
    assert entry.object_repr == "new@example.com"
    assert entry.metadata == {"role": "developer"}


def test_a_revocation_is_audited(owner, owner_user, acme):
    with scope(account=acme):
        invitation, _ = services.invitation_create(
            account=acme, invited_by=owner_user, email="gone@example.com", role=Role.ANALYST
        )
    owner.post(
        f"{TEAM}invitations/{invitation.public_id}/revoke/",
        headers={"user-agent": BROWSER},
        REMOTE_ADDR="203.0.113.10",
    )
    [entry] = audit_entries(acme, "team.invitation_revoked")
    assert (entry.actor, entry.ip_address, entry.user_agent) == (
        owner_user,
        "203.0.113.10",
        BROWSER,
    )
    assert entry.object_id == invitation.public_id


def test_revoking_a_used_invitation_is_a_404(owner, owner_user, acme):
    with scope(account=acme):
        invitation, _ = services.invitation_create(
            account=acme, invited_by=owner_user, email="gone@example.com", role=Role.ANALYST
        )
        services.invitation_revoke(account=acme, actor=owner_user, invitation=invitation)
    url = f"{TEAM}invitations/{invitation.public_id}/revoke/"
    assert owner.post(url).status_code == 404
    assert len(audit_entries(acme, "team.invitation_revoked")) == 1


def test_an_unknown_role_is_refused(owner, owner_user, acme, acme_member):
    acme_member(Role.ANALYST, "analyst@acme.test")
    owner.post(f"{TEAM}role/", {"member": "analyst@acme.test", "role": "superuser"})
    assert memberships(acme)["analyst@acme.test"] == Role.ANALYST
    assert "Choose a role." in owner.get(TEAM).content.decode()


def test_the_team_page_runs_a_bounded_number_of_queries(
    owner, owner_user, acme, acme_member, django_assert_max_num_queries
):
    for index in range(30):
        inviter = acme_member(Role.ADMINISTRATOR, f"admin{index}@acme.test")
        with scope(account=acme):
            services.invitation_create(
                account=acme, invited_by=inviter, email=f"i{index}@example.com", role="analyst"
            )
    with django_assert_max_num_queries(20):
        assert owner.get(TEAM).status_code == 200
