"""Reads for the console shell."""

from __future__ import annotations

import binascii
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from dashboard.models import Account, AuditLog, Invitation, Membership, Pin, RecentPage, User
from dashboard.roles import Role


def accounts_for_user(*, user: User) -> QuerySet[Account]:
    # Account is the tenant itself, not tenant-owned: filtering it by the user's
    # memberships is how the switcher learns which tenants to offer.
    return Account.objects.filter(membership_set__user=user).order_by("name")


def first_account_for_user(*, user: User) -> Account | None:
    return accounts_for_user(user=user).first()


def shortcuts_for(*, account: Account, user: User) -> dict:
    return {
        "pinned": list(Pin.objects.filter(account=account, user=user)),
        "recent": list(RecentPage.objects.filter(account=account, user=user)[:5]),
    }


def member_list(*, account: Account) -> QuerySet[Membership]:
    return Membership.objects.filter(account=account).select_related("user").order_by("user__email")


# --- Team -------------------------------------------------------------------------------


def member_for_email(*, account: Account, email: str) -> Membership | None:
    return (
        Membership.objects.filter(account=account, user__email__iexact=email.strip())
        .select_related("user")
        .first()
    )


def invitation_pending_list(*, account: Account) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(
            account=account, accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
        )
        .select_related("invited_by")
        .order_by("-created")
    )


def invitation_pending_get(*, account: Account, public_id: str) -> Invitation | None:
    return invitation_pending_list(account=account).filter(public_id=public_id).first()


def assignable_roles(*, membership: Membership) -> list[tuple[str, str]]:
    """The roles this member may hand out: only an Owner grants Owner."""
    return [
        (value, label)
        for value, label in Role.choices
        if value != Role.OWNER or membership.role == Role.OWNER
    ]


def user_exists(*, email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


INVITATION_SIGNED_IN = "join"
INVITATION_WRONG_USER = "wrong_user"
INVITATION_SIGN_IN = "sign_in"
INVITATION_SIGN_UP = "sign_up"


def invitation_state(*, invitation: Invitation, user: User | AnonymousUser) -> str:
    """What the accept page offers the visitor of a valid invitation link."""
    if user.is_authenticated:
        if user.email.lower() == invitation.email.lower():
            return INVITATION_SIGNED_IN
        return INVITATION_WRONG_USER
    if user_exists(email=invitation.email):
        return INVITATION_SIGN_IN
    return INVITATION_SIGN_UP


# --- Security history -------------------------------------------------------------------

AUDIT_PAGE_SIZE = 50

ACTION_LABELS = {
    "account.created": "Account created",
    "account.updated": "Account details changed",
    "team.invited": "Team member invited",
    "team.invitation_revoked": "Invitation revoked",
    "team.joined": "Invitation accepted",
    "team.role_changed": "Role changed",
    "team.removed": "Team member removed",
}


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    # Actions other apps record read well enough humanised: "payments.refund_created".
    return action.replace(".", ": ").replace("_", " ").capitalize()


def user_agent_summary(user_agent: str) -> str:
    """ "Firefox on Linux" rather than the whole header; the full value goes in a tooltip."""
    if not user_agent:
        return ""
    browsers = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
        ("python-requests/", "python-requests"),
    ]
    systems = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    browser = next((name for marker, name in browsers if marker in user_agent), None)
    system = next((name for marker, name in systems if marker in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or system
    return user_agent if len(user_agent) <= 40 else user_agent[:39] + "…"


@dataclass(frozen=True)
class AuditEntry:
    created: datetime
    actor: str
    actor_email: str
    action: str
    action_label: str
    object_label: str
    detail: str
    ip_address: str | None
    user_agent: str
    user_agent_short: str


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_cursor: str | None


def _audit_detail(log: AuditLog) -> str:
    metadata = log.metadata or {}
    if log.action == "team.role_changed" and {"from", "to"} <= metadata.keys():
        return f"{_role_label(metadata['from'])} → {_role_label(metadata['to'])}"
    if log.action in ("team.invited", "team.joined", "team.removed") and "role" in metadata:
        return _role_label(metadata["role"])
    if log.action == "account.updated" and isinstance(metadata.get("changes"), dict):
        return ", ".join(field.replace("_", " ") for field in metadata["changes"])
    return ""


def _role_label(value: str) -> str:
    return Role(value).label if value in Role.values else value


def _audit_entry(log: AuditLog) -> AuditEntry:
    return AuditEntry(
        created=log.created,
        actor=log.actor.display_name if log.actor else (log.actor_email or "System"),
        actor_email=log.actor_email,
        action=log.action,
        action_label=action_label(log.action),
        object_label=log.object_repr or log.object_id,
        detail=_audit_detail(log),
        ip_address=log.ip_address,
        user_agent=log.user_agent,
        user_agent_short=user_agent_summary(log.user_agent),
    )


def audit_cursor_encode(log: AuditLog) -> str:
    raw = f"{log.created.isoformat()}|{log.pk}"
    return urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def audit_cursor_decode(cursor: str) -> tuple[datetime, int] | None:
    """The (created, id) an opaque cursor names, or None when it is not one of ours."""
    try:
        raw = urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, pk = raw.split("|")
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None:
            return None
        return moment, int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None


def audit_log_page(
    *,
    account: Account,
    actor_email: str = "",
    action: str = "",
    cursor: str = "",
    page_size: int = AUDIT_PAGE_SIZE,
) -> AuditPage:
    """One page of the account's security history, newest first, keyset-paginated on
    (created, id) so deep pages cost the same as the first."""
    logs = AuditLog.objects.filter(account=account).select_related("actor")
    if actor_email:
        logs = logs.filter(actor_email__iexact=actor_email)
    if action:
        logs = logs.filter(action=action)
    position = audit_cursor_decode(cursor) if cursor else None
    if position is not None:
        created, pk = position
        logs = logs.filter(
            Q(created__lt=created) | Q(created=created, pk__lt=pk), created__lte=created
        )
    rows = list(logs.order_by("-created", "-pk")[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    return AuditPage(
        entries=[_audit_entry(row) for row in rows],
        next_cursor=audit_cursor_encode(rows[-1]) if more else None,
    )


def audit_actor_choices(*, account: Account) -> list[tuple[str, str]]:
    emails = (
        AuditLog.objects.filter(account=account)
        .exclude(actor_email="")
        .order_by("actor_email")
        .values_list("actor_email", flat=True)
        .distinct()
    )
    return [(email, email) for email in emails]


def audit_action_choices(*, account: Account) -> list[tuple[str, str]]:
    actions = (
        AuditLog.objects.filter(account=account)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )
    return sorted(((action, action_label(action)) for action in actions), key=lambda c: c[1])
