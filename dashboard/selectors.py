"""Reads for the console shell."""

from __future__ import annotations

from django.db.models import QuerySet

from dashboard.models import Account, Membership, Pin, RecentPage, User


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
