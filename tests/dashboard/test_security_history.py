from datetime import UTC, datetime, timedelta

import pytest
from django_scopes import scope

from dashboard import selectors, services
from dashboard.models import AuditLog
from dashboard.roles import Role
from tests.dashboard.conftest import ALL_ROLES, BROWSER, HTMX, MANAGERS

pytestmark = pytest.mark.django_db

URL = "/a/acme/settings/security/"
NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def record(account, actor, action: str, *, at: datetime = NOON, **kwargs) -> AuditLog:
    with scope(account=account):
        entry = services.audit_record(account=account, actor=actor, action=action, **kwargs)
        entry.created = at
        entry.save(update_fields=["created"])
        return entry


def rows(page: str) -> int:
    return page.count("<time datetime=")


@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_owners_and_administrators_read_the_security_history(role, member_client):
    response = member_client(role).get(URL)
    assert response.status_code == (200 if role in MANAGERS else 403)


def test_it_shows_time_in_the_account_timezone_user_action_object_ip_and_agent(
    owner, owner_user, acme
):
    acme.timezone = "Asia/Tokyo"
    acme.save()
    record(
        acme,
        owner_user,
        "team.role_changed",
        target_type="User",
        target_id="ana@acme.test",
        target_repr="ana@acme.test",
        metadata={"from": "analyst", "to": "developer"},
        context=services.RequestContext(ip_address="192.0.2.1", user_agent=BROWSER),
    )
    page = owner.get(URL).content.decode()
    assert "Mar 1, 2026 21:00:00" in page  # noon UTC is 21:00 in Tokyo
    assert owner_user.display_name in page
    assert "Role changed" in page
    assert "ana@acme.test" in page
    assert "Analyst → Developer" in page
    assert "192.0.2.1" in page
    assert "Firefox on Linux" in page
    assert f'title="{BROWSER}"' in page


def test_it_lists_newest_first(owner, owner_user, acme):
    record(acme, owner_user, "team.invited", target_repr="older@example.com")
    record(
        acme,
        owner_user,
        "team.invited",
        target_repr="newer@example.com",
        at=NOON + timedelta(hours=1),
    )
    page = owner.get(URL).content.decode()
    assert page.index("newer@example.com") < page.index("older@example.com")


def test_it_never_shows_another_accounts_entries(owner, owner_user, acme, globex, outsider_user):
    record(globex, outsider_user, "team.invited", target_repr="globex-secret@example.com")
    record(acme, owner_user, "team.invited", target_repr="acme-invitee@example.com")
    page = owner.get(URL).content.decode()
    assert "acme-invitee@example.com" in page
    assert "globex-secret@example.com" not in page
    assert "owner@globex.test" not in page
    # Not even when asked for by name.
    page = owner.get(URL, {"actor": "owner@globex.test"}).content.decode()
    assert "globex-secret@example.com" not in page


def test_it_filters_by_user(owner, owner_user, acme, acme_member):
    other = acme_member(Role.ADMINISTRATOR, "admin@acme.test")
    record(acme, owner_user, "team.invited", target_repr="by-owner@example.com")
    record(acme, other, "team.invited", target_repr="by-admin@example.com")
    page = owner.get(URL, {"actor": "admin@acme.test"}).content.decode()
    assert "by-admin@example.com" in page
    assert "by-owner@example.com" not in page
    assert '<option value="owner@acme.test">' in page


def test_it_filters_by_action_from_a_list_of_the_actions_recorded(owner, owner_user, acme):
    record(acme, owner_user, "team.invited", target_repr="invitee@example.com")
    record(acme, owner_user, "team.removed", target_repr="removed@example.com")
    page = owner.get(URL, {"action": "team.removed"}).content.decode()
    assert "removed@example.com" in page
    assert "invitee@example.com" not in page
    assert '<option value="team.invited">Team member invited</option>' in page
    assert '<option value="team.removed" selected>Team member removed</option>' in page
    assert '<option value="team.joined">' not in page


def test_the_filters_update_only_the_table_for_htmx(owner, owner_user, acme):
    record(acme, owner_user, "team.removed", target_repr="removed@example.com")
    response = owner.get(URL, {"action": "team.removed"}, headers=HTMX)
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="audit-table"')
    assert "removed@example.com" in page
    assert "<html" not in page


def test_it_pages_fifty_at_a_time_with_a_keyset_cursor(owner, owner_user, acme):
    # Several entries share one timestamp: the id breaks the tie, nothing repeats or drops.
    for index in range(120):
        at = NOON + timedelta(minutes=index // 3)
        record(acme, owner_user, "team.invited", target_repr=f"person{index:03}@example.com", at=at)
    with scope(account=acme):
        first = selectors.audit_log_page(account=acme)
        second = selectors.audit_log_page(account=acme, cursor=first.next_cursor)
        third = selectors.audit_log_page(account=acme, cursor=second.next_cursor)
    seen = [e.object_label for page in (first, second, third) for e in page.entries]
    assert [len(first.entries), len(second.entries), len(third.entries)] == [50, 50, 20]
    assert third.next_cursor is None
    assert seen == [f"person{index:03}@example.com" for index in reversed(range(120))]

    page = owner.get(URL).content.decode()
    assert rows(page) == 50
    assert "Older →" in page
    older = owner.get(URL, {"before": first.next_cursor}).content.decode()
    assert "person069@example.com" in older
    assert "person070@example.com" not in older
    assert "Newest" in older


def test_the_cursor_keeps_the_filters(owner, owner_user, acme):
    for index in range(55):
        record(acme, owner_user, "team.removed", target_repr=f"r{index}@example.com")
        record(acme, owner_user, "team.invited", target_repr=f"i{index}@example.com")
    page = owner.get(URL, {"action": "team.removed"}).content.decode()
    assert "action=team.removed&amp;before=" in page


def test_a_forged_cursor_shows_the_first_page(owner, owner_user, acme):
    record(acme, owner_user, "team.invited", target_repr="invitee@example.com")
    response = owner.get(URL, {"before": "not-a-cursor"})
    assert response.status_code == 200
    assert "invitee@example.com" in response.content.decode()


def test_team_actions_appear_in_the_history(owner, owner_user, acme, acme_member):
    acme_member(Role.ANALYST, "analyst@acme.test")
    owner.post("/a/acme/settings/team/role/", {"member": "analyst@acme.test", "role": "support"})
    owner.post("/a/acme/settings/team/remove/", {"member": "analyst@acme.test"})
    table = owner.get(URL).content.decode().split('<section id="audit-table">')[1]
    assert "<td>Role changed</td>" in table
    assert "<td>Team member removed</td>" in table
    assert table.index("Team member removed") < table.index("Role changed")


def test_the_page_runs_a_bounded_number_of_queries(
    owner, owner_user, acme, acme_member, django_assert_max_num_queries
):
    for index in range(60):
        actor = acme_member(Role.ANALYST, f"a{index}@acme.test")
        record(acme, actor, "team.invited", target_repr=f"x{index}@example.com")
    with django_assert_max_num_queries(20):
        owner.get(URL)
