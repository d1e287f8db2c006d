"""Reads of the Connect mirror for the REST API (connect/api.py): querysets of one account
and mode, unordered, for `workbench.api_auth.cursor_page`."""

from __future__ import annotations

from django.db.models import QuerySet

from connect.models import ConnectedAccount, Transfer
from dashboard.models import Account


def connected_accounts(
    *, account: Account, livemode: bool, status: str = ""
) -> QuerySet[ConnectedAccount]:
    queryset = ConnectedAccount.objects.filter(account=account, livemode=livemode)
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def transfers(*, account: Account, livemode: bool, destination: str = "") -> QuerySet[Transfer]:
    queryset = Transfer.objects.filter(account=account, livemode=livemode)
    if destination:
        queryset = queryset.filter(destination_stripe_id=destination)
    return queryset
