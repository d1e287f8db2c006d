"""Writes for the console shell: accounts, team, invitations, audit, shortcuts."""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from dashboard.models import (
    Account,
    AuditLog,
    Invitation,
    Membership,
    Pin,
    RecentPage,
    User,
)
from dashboard.roles import Role

logger = logging.getLogger(__name__)

INVITATION_LIFETIME = timedelta(days=10)
RECENT_PAGES_KEPT = 8


@dataclass(frozen=True)
class RequestContext:
    """Where an action came from, for the audit log."""

    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest | None) -> RequestContext:
        if request is None:
            return cls()
        return cls(
            ip_address=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def audit_record(
    *,
    account: Account,
    actor: User | None,
    action: str,
    target: object | None = None,
    target_type: str = "",
    target_id: str = "",
    target_repr: str = "",
    metadata: dict | None = None,
    context: RequestContext | None = None,
) -> AuditLog:
    context = context or RequestContext()
    if target is not None:
        target_type = target_type or type(target).__name__
        target_id = target_id or str(
            getattr(target, "stripe_id", None) or getattr(target, "public_id", None) or ""
        )
        target_repr = target_repr or str(target)
    return AuditLog.objects.create(
        account=account,
        actor=actor,
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        object_type=target_type,
        object_id=target_id[:255],
        object_repr=target_repr[:255],
        metadata=metadata or {},
        ip_address=context.ip_address,
        user_agent=context.user_agent,
    )


# --- Accounts ---------------------------------------------------------------------------


@transaction.atomic
def account_create(
    *,
    owner: User,
    name: str,
    slug: str,
    country: str = "US",
    default_currency: str = "usd",
    timezone_name: str = "UTC",
    context: RequestContext | None = None,
) -> Account:
    account = Account(
        name=name,
        slug=slug,
        country=country.upper(),
        default_currency=default_currency.lower(),
        timezone=timezone_name,
    )
    account.full_clean()
    account.save()
    with scope(account=account):
        Membership.objects.create(account=account, user=owner, role=Role.OWNER)
        audit_record(
            account=account,
            actor=owner,
            action="account.created",
            target=account,
            target_id=account.slug,
            context=context,
        )
    return account


def account_update(
    *, account: Account, actor: User, changes: dict, context: RequestContext | None = None
) -> Account:
    changed = {
        field: {"from": getattr(account, field), "to": value}
        for field, value in changes.items()
        if getattr(account, field) != value
    }
    if not changed:
        return account
    with transaction.atomic():
        for field, value in changes.items():
            setattr(account, field, value)
        account.full_clean()
        account.save()
        audit_record(
            account=account,
            actor=actor,
            action="account.updated",
            target=account,
            target_id=account.slug,
            metadata={"changes": changed},
            context=context,
        )
    return account


def mode_set(*, membership: Membership, test_mode: bool) -> Membership:
    membership.test_mode = test_mode
    membership.save(update_fields=["test_mode"])
    return membership


# --- Shortcuts --------------------------------------------------------------------------


def pin_toggle(*, account: Account, user: User, path: str, title: str) -> bool:
    """Pins the page, or unpins it when already pinned. Returns whether it is pinned now."""
    existing = Pin.objects.filter(account=account, user=user, path=path).first()
    if existing:
        existing.delete()
        return False
    try:
        with transaction.atomic():
            Pin.objects.create(account=account, user=user, path=path, title=title[:120])
    except IntegrityError:
        # A double click pinned it in between: it is pinned either way.
        pass
    return True


def recent_page_record(*, account: Account, user: User, path: str, title: str) -> None:
    RecentPage.objects.update_or_create(
        account=account,
        user=user,
        path=path[:500],
        defaults={"title": title[:120], "visited_at": timezone.now()},
    )
    stale = RecentPage.objects.filter(account=account, user=user).values_list("pk", flat=True)[
        RECENT_PAGES_KEPT:
    ]
    if stale:
        RecentPage.objects.filter(pk__in=list(stale)).delete()


# --- Team -------------------------------------------------------------------------------


class TeamError(ValidationError):
    pass


def _owners(account: Account):
    return Membership.objects.filter(account=account, role=Role.OWNER)


def _require_owner_for_owner_role(*, account: Account, actor: User) -> None:
    """Only an Owner may grant the Owner role or take it away (demote or remove an Owner)."""
    is_owner = Membership.objects.filter(account=account, user=actor, role=Role.OWNER).exists()
    if not is_owner:
        raise TeamError("Only an Owner can grant or remove the Owner role.")


@transaction.atomic
def invitation_create(
    *,
    account: Account,
    invited_by: User,
    email: str,
    role: str,
    context: RequestContext | None = None,
) -> tuple[Invitation, str]:
    """Creates an invitation and returns it with the token (shown once, in the link)."""
    email = User.objects.normalize_email(email).lower()
    if role not in Role.values:
        raise TeamError("Choose a role.")
    if role == Role.OWNER:
        _require_owner_for_owner_role(account=account, actor=invited_by)
    if Membership.objects.filter(account=account, user__email__iexact=email).exists():
        raise TeamError(f"{email} is already a member of this account.")
    # A new invitation to the same address replaces any pending one.
    Invitation.objects.filter(
        account=account, email__iexact=email, accepted_at=None, revoked_at=None
    ).update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        account=account,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by=invited_by,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    audit_record(
        account=account,
        actor=invited_by,
        action="team.invited",
        target=invitation,
        target_repr=email,
        metadata={"role": role},
        context=context,
    )
    return invitation, token


def invitation_link(*, invitation: Invitation, token: str) -> str:
    path = reverse(
        "dashboard:invitation_accept",
        kwargs={"invitation_account": invitation.account.slug, "token": token},
    )
    return settings.PAYDESK_BASE_URL.rstrip("/") + path


def invitation_email_send(*, invitation: Invitation, token: str) -> None:
    """Mails the accept link. The raw token appears here and nowhere else."""
    context = {
        "invitation": invitation,
        "account": invitation.account,
        "inviter": invitation.invited_by,
        "role": Role(invitation.role).label,
        "link": invitation_link(invitation=invitation, token=token),
    }
    send_mail(
        subject=render_to_string("emails/invitation_subject.txt", context).strip(),
        message=render_to_string("emails/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


def member_invite(
    *,
    account: Account,
    invited_by: User,
    email: str,
    role: str,
    context: RequestContext | None = None,
) -> Invitation:
    """Invites `email` with `role` and mails the link once the invitation is committed.

    A mail server that refuses the message does not lose the invitation: it stays pending,
    `invitation.email_sent` is False, and inviting the same address again sends a new link.
    """
    with transaction.atomic():
        invitation, token = invitation_create(
            account=account, invited_by=invited_by, email=email, role=role, context=context
        )
    invitation.email_sent = True
    try:
        invitation_email_send(invitation=invitation, token=token)
    except (OSError, smtplib.SMTPException):
        logger.exception("invitation email to %s could not be sent", invitation.email)
        invitation.email_sent = False
    return invitation


def invitation_for_token(*, account_slug: str, token: str) -> Invitation | None:
    """The pending invitation a link names, or None (unknown, used, revoked, expired)."""
    account = Account.objects.filter(slug=account_slug).first()
    if account is None:
        return None
    with scope(account=account):
        invitation = (
            Invitation.objects.select_related("account")
            .filter(token_hash=hash_token(token))
            .first()
        )
    return invitation if invitation is not None and invitation.is_pending else None


@transaction.atomic
def invitation_accept(
    *, account_slug: str, token: str, user: User, context: RequestContext | None = None
) -> Membership:
    invitation = invitation_for_token(account_slug=account_slug, token=token)
    if invitation is None:
        raise TeamError("This invitation is no longer valid. Ask for a new one.")
    account = invitation.account
    with scope(account=account):
        # Lock the row so two clicks on the same link cannot both succeed.
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_pending:
            raise TeamError("This invitation is no longer valid. Ask for a new one.")
        if user.email.lower() != invitation.email.lower():
            raise TeamError(
                f"This invitation is for {invitation.email}. Sign in with that address."
            )
        membership, created = Membership.objects.get_or_create(
            account=account, user=user, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(
            account=account,
            actor=user,
            action="team.joined",
            target=user,
            target_id=user.email,
            metadata={"role": membership.role, "new": created},
            context=context,
        )
    return membership


def invitation_accept_as_new_user(
    *,
    account_slug: str,
    token: str,
    name: str,
    password: str,
    context: RequestContext | None = None,
) -> Membership:
    """Signs up the invited address and accepts, all or nothing."""
    invitation = invitation_for_token(account_slug=account_slug, token=token)
    if invitation is None:
        raise TeamError("This invitation is no longer valid. Ask for a new one.")
    try:
        with transaction.atomic():
            user = User.objects.create_user(invitation.email, password, name=name)
            return invitation_accept(
                account_slug=account_slug, token=token, user=user, context=context
            )
    except IntegrityError:
        # Someone signed up with this address in between: they must sign in instead.
        raise TeamError("An account with this email exists already. Sign in to accept.")


def invitation_revoke(
    *, account: Account, actor: User, invitation: Invitation, context: RequestContext | None = None
) -> None:
    if not invitation.is_pending:
        raise TeamError("This invitation was already used, revoked or has expired.")
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            account=account,
            actor=actor,
            action="team.invitation_revoked",
            target=invitation,
            target_repr=invitation.email,
            context=context,
        )


@transaction.atomic
def member_role_change(
    *,
    account: Account,
    actor: User,
    membership: Membership,
    role: str,
    context: RequestContext | None = None,
) -> Membership:
    if role not in Role.values:
        raise TeamError("Choose a role.")
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == role:
        return membership
    if Role.OWNER in (membership.role, role):
        _require_owner_for_owner_role(account=account, actor=actor)
    if membership.role == Role.OWNER and _owners(account).select_for_update().count() <= 1:
        raise TeamError("An account needs at least one Owner. Make someone else Owner first.")
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        account=account,
        actor=actor,
        action="team.role_changed",
        target=membership.user,
        target_id=membership.user.email,
        metadata={"from": previous, "to": role},
        context=context,
    )
    return membership


@transaction.atomic
def member_remove(
    *, account: Account, actor: User, membership: Membership, context: RequestContext | None = None
) -> None:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.OWNER:
        _require_owner_for_owner_role(account=account, actor=actor)
    if membership.role == Role.OWNER and _owners(account).select_for_update().count() <= 1:
        raise TeamError("The last Owner cannot be removed.")
    user = membership.user
    membership.delete()
    audit_record(
        account=account,
        actor=actor,
        action="team.removed",
        target=user,
        target_id=user.email,
        metadata={"role": membership.role},
        context=context,
    )
