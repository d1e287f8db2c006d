import pytest
from django_scopes import scope

from dashboard import services
from dashboard.models import Account
from dashboard.roles import Role
from tests.dashboard.conftest import ALL_ROLES, BROWSER, HTMX, MANAGERS, audit_entries

pytestmark = pytest.mark.django_db

EDIT = "/a/acme/settings/account/edit/"
CHANGES = {
    "name": "Acme Holdings",
    "display_name": "Acme",
    "icon": "🚀",
    "primary_color": "#0A2540",
    "country": "gb",
    "default_currency": "GBP",
    "timezone": "Europe/London",
}


def account_fields(account: Account) -> dict:
    account.refresh_from_db()
    return {field: getattr(account, field) for field in CHANGES}


@pytest.fixture
def team_fixtures(acme, owner_user):
    with scope(account=acme):
        invitation, _ = services.invitation_create(
            account=acme, invited_by=owner_user, email="x@example.com", role=Role.ANALYST
        )
    return invitation


def account_urls(invitation) -> list[tuple[str, str]]:
    return [
        ("get", "/a/acme/settings/"),
        ("get", "/a/acme/settings/account/"),
        ("post", "/a/acme/settings/account/edit/"),
        ("get", "/a/acme/settings/team/"),
        ("post", "/a/acme/settings/team/invite/"),
        ("post", "/a/acme/settings/team/role/"),
        ("get", "/a/acme/settings/team/remove/?member=owner@acme.test"),
        ("post", "/a/acme/settings/team/remove/"),
        ("post", f"/a/acme/settings/team/invitations/{invitation.public_id}/revoke/"),
        ("get", "/a/acme/settings/security/"),
    ]


def test_a_non_member_gets_404_on_every_settings_and_team_url(outsider, team_fixtures, acme):
    before = account_fields(acme)
    for method, url in account_urls(team_fixtures):
        data = {"member": "owner@acme.test", "role": "view_only", "email": "a@b.co", **CHANGES}
        response = getattr(outsider, method)(url, data if method == "post" else None)
        assert response.status_code == 404, url
    assert account_fields(acme) == before
    assert len(audit_entries(acme)) == 1  # only the invitation made by the fixture


def test_signed_out_visitors_are_sent_to_sign_in(client, team_fixtures):
    for _method, url in account_urls(team_fixtures):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/login/?next=")


# --- Settings index ---------------------------------------------------------------------


def test_the_settings_index_links_every_settings_page(owner):
    page = owner.get("/a/acme/settings/").content.decode()
    assert 'href="/a/acme/settings/account/"' in page
    assert 'href="/a/acme/settings/team/"' in page
    assert 'href="/a/acme/settings/security/"' in page
    assert 'href="/a/acme/settings/stripe/"' in page


def test_the_settings_index_hides_pages_the_role_cannot_open(viewer):
    page = viewer.get("/a/acme/settings/").content.decode()
    assert 'href="/a/acme/settings/team/"' in page
    assert 'href="/a/acme/settings/security/"' not in page
    assert 'href="/a/acme/settings/stripe/"' not in page


def test_the_sidebar_still_shows_the_switcher_mode_toggle_and_shortcuts(owner):
    page = owner.get("/a/acme/settings/team/").content.decode()
    assert 'data-testid="account-switcher"' in page
    assert 'data-testid="test-mode-toggle"' in page
    assert 'data-testid="pin-button"' in page
    assert 'name="title" value="Team"' in page


# --- Account details --------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_member_reads_the_account_details(role, member_client):
    response = member_client(role).get("/a/acme/settings/account/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Acme Platform" in page
    assert (f'action="{EDIT}"' in page) is (role in MANAGERS)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_owners_and_administrators_edit_the_account_details(role, member_client, acme):
    before = account_fields(acme)
    response = member_client(role).post(EDIT, CHANGES)
    if role in MANAGERS:
        assert response.status_code == 302
        assert account_fields(acme) == {
            **CHANGES,
            "primary_color": "#0a2540",
            "country": "GB",
            "default_currency": "gbp",
        }
    else:
        assert response.status_code == 403
        assert account_fields(acme) == before


def test_an_account_update_is_audited_with_the_changed_fields(owner, owner_user, acme):
    owner.post(
        EDIT,
        {**account_fields(acme), "name": "Acme Two", "timezone": "Asia/Tokyo"},
        headers={"user-agent": BROWSER},
        REMOTE_ADDR="198.51.100.4",
    )
    [entry] = audit_entries(acme, "account.updated")
    assert entry.actor == owner_user
    assert (entry.ip_address, entry.user_agent) == ("198.51.100.4", BROWSER)
    assert entry.metadata == {
        "changes": {
            "name": {"from": "Acme Platform", "to": "Acme Two"},
            "timezone": {"from": "UTC", "to": "Asia/Tokyo"},
        }
    }


def test_saving_unchanged_details_writes_no_audit_entry(owner, owner_user, acme):
    owner.post(EDIT, account_fields(acme))
    assert audit_entries(acme, "account.updated") == []


def test_an_invalid_colour_is_refused_and_nothing_changes(owner, owner_user, acme):
    before = account_fields(acme)
    response = owner.post(EDIT, {**CHANGES, "primary_color": "red"})
    assert response.status_code == 200
    assert "A colour like #635bff." in response.content.decode()
    assert account_fields(acme) == before


def test_an_unknown_timezone_is_refused(owner, owner_user, acme):
    response = owner.post(EDIT, {**CHANGES, "timezone": "Mars/Olympus"})
    assert "Select a valid choice" in response.content.decode()
    assert account_fields(acme)["timezone"] == "UTC"


def test_an_htmx_save_returns_the_details_partial(owner, owner_user, acme):
    response = owner.post(EDIT, {**account_fields(acme), "timezone": "Europe/Berlin"}, headers=HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert '<section id="account-details"' in page
    assert "<html" not in page
    assert "Account details saved." in page
    assert account_fields(acme)["timezone"] == "Europe/Berlin"


def test_an_htmx_branding_change_reloads_the_shell(owner, owner_user, acme):
    response = owner.post(EDIT, CHANGES, headers=HTMX)
    assert response["HX-Refresh"] == "true"
    assert account_fields(acme)["name"] == "Acme Holdings"
    assert "Account details saved." in owner.get("/a/acme/settings/account/").content.decode()


def test_editing_needs_a_post(owner, owner_user):
    assert owner.get(EDIT).status_code == 405
