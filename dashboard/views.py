from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from dashboard import forms, selectors, services, widgets
from dashboard.models import Membership
from dashboard.permissions import authenticated, public, requires
from dashboard.roles import role_can


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
    period = widgets.period_from_query(request.GET, today=widgets.account_today(request.account))
    keys = widgets.layout_keys(account=request.account, membership=request.membership)
    context = {
        "period": period,
        "presets": widgets.PRESETS,
        "cards": widgets.render_cards(request, period, keys),
        "has_activity": widgets.has_activity(request),
    }
    template = "dashboard/home.html"
    return render(request, f"{template}#overview" if request.htmx else template, context)


# No title: each step of the editor is a GET, and none belongs in Recent pages.
@requires("dashboard.view")
def home_edit(request: HttpRequest, account_slug: str) -> HttpResponse:
    """The overview editor. Each up/down/remove/add is a GET on the draft carried in the
    form; nothing is saved until Apply posts it to `home_layout_save`."""
    if request.GET.get("draft"):
        draft = widgets.clean_keys(request.GET.getlist("w"), membership=request.membership)
    else:
        draft = widgets.layout_keys(account=request.account, membership=request.membership)
    for operation in ("up", "down", "remove", "add"):
        if request.GET.get(operation):
            draft = widgets.layout_edit(draft, operation=operation, key=request.GET[operation])
    draft = widgets.clean_keys(draft, membership=request.membership)
    context = {"editor": widgets.editor(draft, membership=request.membership)}
    template = "dashboard/home_edit.html"
    return render(request, f"{template}#editor" if request.htmx else template, context)


@require_POST
@requires("dashboard.view")
def home_layout_save(request: HttpRequest, account_slug: str) -> HttpResponse:
    widgets.layout_save(
        account=request.account,
        user=request.user,
        membership=request.membership,
        keys=request.POST.getlist("w"),
    )
    messages.success(request, "Overview saved.")
    return _redirect(request, reverse("dashboard:home", args=[account_slug]))


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


# --- Settings ---------------------------------------------------------------------------


def _request_context(request: HttpRequest) -> services.RequestContext:
    return services.RequestContext.from_request(request)


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


@requires("settings.view", title="Settings")
def settings_index(request: HttpRequest, account_slug: str) -> HttpResponse:
    return render(request, "dashboard/settings.html")


@requires("settings.view", title="Account details")
def account_details(request: HttpRequest, account_slug: str) -> HttpResponse:
    form = None
    if role_can(request.membership.role, "settings.manage"):
        form = forms.AccountDetailsForm.for_account(request.account)
    return render(request, "dashboard/account_details.html", {"form": form})


@require_POST
@requires("settings.manage")
def account_details_edit(request: HttpRequest, account_slug: str) -> HttpResponse:
    form = forms.AccountDetailsForm.for_account(request.account, request.POST)
    branding = _branding(request.account)
    if form.is_valid():
        try:
            services.account_update(
                account=request.account,
                actor=request.user,
                changes=form.cleaned_data,
                context=_request_context(request),
            )
        except ValidationError as error:
            request.account.refresh_from_db()
            form.add_error(None, error)
    if form.is_valid() and not request.htmx:
        messages.success(request, "Account details saved.")
        return redirect("dashboard:account_details", account_slug=account_slug)
    if form.is_valid() and _branding(request.account) != branding:
        # The shell shows the name, icon and colour: reload it all.
        messages.success(request, "Account details saved.")
        return HttpResponseClientRefresh()
    if form.is_valid():
        form = forms.AccountDetailsForm.for_account(request.account)
        context = {"form": form, "notice": "Account details saved."}
    else:
        context = {"form": form}
    template = "dashboard/account_details.html"
    return render(request, f"{template}#details" if request.htmx else template, context)


def _branding(account) -> tuple[str, str, str]:
    return (account.brand_name, account.monogram, account.primary_color)


# --- Team -------------------------------------------------------------------------------


def _team_context(request: HttpRequest, **extra) -> dict:
    roles = selectors.assignable_roles(membership=request.membership)
    return {
        "members": selectors.member_list(account=request.account),
        "invitations": selectors.invitation_pending_list(account=request.account),
        "roles": roles,
        "invite_form": forms.InviteForm(roles=roles),
        **extra,
    }


def _team_done(
    request: HttpRequest, *, partial: str, notice: str = "", error: str = ""
) -> HttpResponse:
    """Plain POST: a message and a redirect. htmx: the updated part of the page."""
    if request.htmx:
        context = _team_context(request, notice=notice, error=error)
        return render(request, f"dashboard/team.html#{partial}", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect("dashboard:team", account_slug=request.account.slug)


def _member_from(request: HttpRequest, form: forms.MemberForm) -> Membership:
    email = form.data.get("member", "")
    membership = selectors.member_for_email(account=request.account, email=email)
    if membership is None:
        raise Http404("No such member.")
    return membership


@requires("team.view", title="Team")
def team(request: HttpRequest, account_slug: str) -> HttpResponse:
    return render(request, "dashboard/team.html", _team_context(request))


@require_POST
@requires("team.manage")
def team_invite(request: HttpRequest, account_slug: str) -> HttpResponse:
    roles = selectors.assignable_roles(membership=request.membership)
    form = forms.InviteForm(request.POST, roles=roles)
    if form.is_valid():
        try:
            invitation = services.member_invite(
                account=request.account,
                invited_by=request.user,
                context=_request_context(request),
                **form.cleaned_data,
            )
        except services.TeamError as error:
            form.add_error(None, error)
        else:
            if not invitation.email_sent:
                return _team_done(
                    request,
                    partial="invitations",
                    error=f"The invitation for {invitation.email} is saved, but the email could "
                    "not be sent. Check the mail settings, then invite the address again.",
                )
            return _team_done(
                request, partial="invitations", notice=f"Invitation sent to {invitation.email}."
            )
    context = _team_context(request, invite_form=form)
    template = "dashboard/team.html"
    return render(request, f"{template}#invitations" if request.htmx else template, context)


@require_POST
@requires("team.manage")
def team_role_change(request: HttpRequest, account_slug: str) -> HttpResponse:
    form = forms.RoleChangeForm(request.POST)
    membership = _member_from(request, form)
    if not form.is_valid():
        return _team_done(request, partial="members", error="Choose a role.")
    try:
        membership = services.member_role_change(
            account=request.account,
            actor=request.user,
            membership=membership,
            role=form.cleaned_data["role"],
            context=_request_context(request),
        )
    except services.TeamError as error:
        return _team_done(request, partial="members", error=_error_text(error))
    notice = f"{membership.user.email} is now {membership.get_role_display()}."
    if membership.user_id == request.user.pk:
        # The actor's own permissions changed: reload the whole page, not a fragment.
        messages.success(request, notice)
        return _redirect(request, reverse("dashboard:team", args=[account_slug]))
    return _team_done(request, partial="members", notice=notice)


@requires("team.manage")
def team_member_remove(request: HttpRequest, account_slug: str) -> HttpResponse:
    form = forms.MemberForm(request.POST if request.method == "POST" else request.GET)
    membership = _member_from(request, form)
    if request.method != "POST":
        return render(request, "dashboard/team_remove.html", {"member": membership})
    try:
        services.member_remove(
            account=request.account,
            actor=request.user,
            membership=membership,
            context=_request_context(request),
        )
    except services.TeamError as error:
        return _team_done(request, partial="members", error=_error_text(error))
    notice = f"{membership.user.email} was removed from {request.account.brand_name}."
    if membership.user_id == request.user.pk:
        messages.success(request, "You left " + request.account.brand_name + ".")
        return _redirect(request, reverse("dashboard:entry"))
    return _team_done(request, partial="members", notice=notice)


@require_POST
@requires("team.manage")
def team_invitation_revoke(
    request: HttpRequest, account_slug: str, invitation_id: str
) -> HttpResponse:
    invitation = selectors.invitation_pending_get(account=request.account, public_id=invitation_id)
    if invitation is None:
        raise Http404("No such invitation.")
    services.invitation_revoke(
        account=request.account,
        actor=request.user,
        invitation=invitation,
        context=_request_context(request),
    )
    notice = f"The invitation to {invitation.email} was revoked."
    return _team_done(request, partial="invitations", notice=notice)


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A full-page redirect, for htmx requests too."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- Invitations ------------------------------------------------------------------------


@public
def invitation_accept(request: HttpRequest, invitation_account: str, token: str) -> HttpResponse:
    invitation = services.invitation_for_token(account_slug=invitation_account, token=token)
    if invitation is None:
        return render(request, "dashboard/invitation_invalid.html", status=404)
    state = selectors.invitation_state(invitation=invitation, user=request.user)
    posted = request.POST if request.method == "POST" else None
    form = forms.SignUpForm(posted, email=invitation.email)
    error = ""
    if posted is not None:
        try:
            membership = _invitation_accept_posted(
                request, state=state, form=form, account_slug=invitation_account, token=token
            )
        except services.TeamError as failure:
            error = _error_text(failure)
        else:
            if membership is not None:
                account = invitation.account
                messages.success(request, f"Welcome to {account.brand_name}.")
                return redirect("dashboard:home", account_slug=account.slug)
    context = {"invitation": invitation, "state": state, "form": form, "error": error}
    status = 403 if state == selectors.INVITATION_WRONG_USER else 200
    return render(request, "dashboard/invitation_accept.html", context, status=status)


def _invitation_accept_posted(
    request: HttpRequest, *, state: str, form: forms.SignUpForm, account_slug: str, token: str
) -> Membership | None:
    """Accepts for the signed-in invitee, or signs the invitee up and accepts."""
    if state == selectors.INVITATION_SIGNED_IN:
        return services.invitation_accept(
            account_slug=account_slug,
            token=token,
            user=request.user,
            context=_request_context(request),
        )
    if state == selectors.INVITATION_SIGN_UP and form.is_valid():
        membership = services.invitation_accept_as_new_user(
            account_slug=account_slug,
            token=token,
            name=form.cleaned_data["name"],
            password=form.cleaned_data["password1"],
            context=_request_context(request),
        )
        login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
        return membership
    return None


# --- Security history -------------------------------------------------------------------


@requires("security.view", title="Security history")
def security_history(request: HttpRequest, account_slug: str) -> HttpResponse:
    form = forms.SecurityFilterForm(
        request.GET,
        actors=selectors.audit_actor_choices(account=request.account),
        actions=selectors.audit_action_choices(account=request.account),
    )
    page = selectors.audit_log_page(
        account=request.account, cursor=request.GET.get("before", ""), **form.filters()
    )
    template = "dashboard/security.html"
    context = {"form": form, "page": page, "paged": bool(request.GET.get("before"))}
    return render(request, f"{template}#audit-table" if request.htmx else template, context)
