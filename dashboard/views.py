from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dashboard import forms, selectors, services
from dashboard.permissions import authenticated, public, requires


@public
def entry(request: HttpRequest) -> HttpResponse:
    """`/`: the user's first account, the account creation page, or the sign-in page."""
    if not request.user.is_authenticated:
        return redirect("dashboard:login")
    account = selectors.first_account_for_user(user=request.user)
    if account is None:
        return redirect("dashboard:account_create")
    return redirect("dashboard:home", account_slug=account.slug)


@authenticated
def account_create(request: HttpRequest) -> HttpResponse:
    form = forms.AccountCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account = services.account_create(
            owner=request.user,
            context=services.RequestContext.from_request(request),
            **form.cleaned_data,
        )
        return redirect("dashboard:home", account_slug=account.slug)
    has_accounts = selectors.first_account_for_user(user=request.user) is not None
    return render(
        request, "dashboard/account_create.html", {"form": form, "has_accounts": has_accounts}
    )


@requires("dashboard.view", title="Home")
def home(request: HttpRequest, account_slug: str) -> HttpResponse:
    return render(request, "dashboard/home.html")


def _back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.headers.get("referer") or fallback
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


@require_POST
@requires("dashboard.view")
def mode_toggle(request: HttpRequest, account_slug: str) -> HttpResponse:
    test_mode = request.POST.get("test_mode") == "1"
    services.mode_set(membership=request.membership, test_mode=test_mode)
    home_url = reverse("dashboard:home", args=[account_slug])
    target = _back(request, home_url)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect(target)


@require_POST
@requires("dashboard.view")
def pin_toggle(request: HttpRequest, account_slug: str) -> HttpResponse:
    form = forms.PinForm(request.POST, account=request.account)
    if not form.is_valid():
        messages.error(request, "That page cannot be pinned.")
        return redirect(_back(request, reverse("dashboard:home", args=[account_slug])))
    pinned = services.pin_toggle(account=request.account, user=request.user, **form.cleaned_data)
    if request.htmx:
        return render(
            request,
            "components/_shortcuts.html",
            {
                "shortcuts": selectors.shortcuts_for(account=request.account, user=request.user),
                "current_pinned": pinned,
                "current_path": form.cleaned_data["path"],
                "current_title": form.cleaned_data["title"],
                "oob": True,
            },
        )
    messages.success(request, "Pinned to Shortcuts." if pinned else "Removed from Shortcuts.")
    return redirect(form.cleaned_data["path"])


def placeholder(*, title: str, action: str, lead: str, arrives_with: str):
    """A page whose feature is not built yet: says so plainly, shows no figures."""

    @requires(action, title=title)
    def view(request: HttpRequest, account_slug: str) -> HttpResponse:
        return render(
            request,
            "dashboard/placeholder.html",
            {"title": title, "lead": lead, "arrives_with": arrives_with},
        )

    view.__name__ = f"placeholder_{title.lower().replace(' ', '_')}"
    return view
