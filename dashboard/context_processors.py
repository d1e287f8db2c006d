from __future__ import annotations

from django.http import HttpRequest


def shell(request: HttpRequest) -> dict:
    account = getattr(request, "account", None)
    if account is None:
        return {}
    # Imported here: settings name this module before the app registry is ready.
    from dashboard.selectors import accounts_for_user, shortcuts_for

    shortcuts = shortcuts_for(account=account, user=request.user)
    here = request.get_full_path()
    return {
        "account": account,
        "membership": request.membership,
        "livemode": request.livemode,
        "switchable_accounts": accounts_for_user(user=request.user),
        "shortcuts": shortcuts,
        "pinned_state": any(pin.path == here for pin in shortcuts["pinned"]),
        "page_title": getattr(request, "page_title", None),
    }
