"""How views declare the action they need.

    @requires("payments.refund", title="Refund")
    def payment_refund(request, account_slug, payment_id): ...

The tenant middleware reads the declaration before the view runs and refuses a request
whose view declares nothing (fail closed). Views outside `/a/<account>/` declare
`PUBLIC` (no login: sign-in, webhooks, invitation links) or `AUTHENTICATED`.
"""

from __future__ import annotations

from collections.abc import Callable

from dashboard.roles import PERMISSIONS

PUBLIC = "public"
AUTHENTICATED = "authenticated"
# Views that authenticate by their own means (API keys, login-link sessions) and check
# their own permission; the middleware only makes sure no team session leaks into them.
SELF_AUTHENTICATED = "self-authenticated"
MARKERS = frozenset({PUBLIC, AUTHENTICATED, SELF_AUTHENTICATED})


def requires(action: str, *, title: str | None = None) -> Callable:
    if action not in PERMISSIONS and action not in MARKERS:
        raise ValueError(f"unknown action {action!r}: add it to dashboard/roles.py")

    def decorate(view: Callable) -> Callable:
        view.paydesk_permission = action
        view.paydesk_title = title
        return view

    return decorate


def public(view: Callable) -> Callable:
    return requires(PUBLIC)(view)


def authenticated(view: Callable) -> Callable:
    return requires(AUTHENTICATED)(view)


def declared_permission(view: Callable) -> str | None:
    """The action a resolved view declared, looking through DRF's and Django's wrappers."""
    for candidate in (view, getattr(view, "cls", None), getattr(view, "view_class", None)):
        action = getattr(candidate, "paydesk_permission", None)
        if action:
            return action
    return None


def declared_title(view: Callable) -> str | None:
    return getattr(view, "paydesk_title", None)
