"""Connect pages of the console: connected accounts, an account's detail and its actions,
and the platform's Express dashboard settings."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from connect import forms, selectors, services
from connect.models import ConnectedAccount
from dashboard.money import format_money
from dashboard.permissions import requires
from dashboard.services import RequestContext
from payments.views_payments import page_window

LIST_TEMPLATE = "connect/list.html"
DETAIL_TEMPLATE = "connect/detail.html"


@requires("connect.view", title="Connected accounts")
def account_list(request: HttpRequest, account_slug: str) -> HttpResponse:
    tab = request.GET.get("tab", "all")
    form = forms.AccountFilterForm(request.GET)
    window = page_window(
        request,
        selectors.account_window,
        account=request.account,
        livemode=request.livemode,
        tab=tab,
        filters=form.filters(),
        limit=25,
    )
    context = {
        "form": form,
        "window": window,
        "tab": tab,
        "tabs": selectors.tabs(account=request.account, livemode=request.livemode),
        "fees": selectors.application_fee_totals(
            account=request.account, livemode=request.livemode
        ),
        "create_form": forms.AccountCreateForm(prefix="new"),
    }
    return render(request, f"{LIST_TEMPLATE}#table" if request.htmx else LIST_TEMPLATE, context)


@require_POST
@requires("connect.manage")
def account_create(request: HttpRequest, account_slug: str) -> HttpResponse:
    form = forms.AccountCreateForm(request.POST, prefix="new")
    if not form.is_valid():
        messages.error(request, "Check the new account's details: " + form.errors.as_text())
        return redirect("connect:account_list", account_slug=account_slug)
    try:
        created = services.account_create(
            **action_context(request), livemode=request.livemode, **form.cleaned_data
        )
    except services.ConnectError as error:
        messages.error(request, error.message)
        return redirect("connect:account_list", account_slug=account_slug)
    messages.success(request, f"Connected account {created.stripe_id} created.")
    return redirect("connect:account_detail", account_slug, created.stripe_id)


def action_context(request: HttpRequest) -> dict:
    return {
        "account": request.account,
        "actor": request.user,
        "context": RequestContext.from_request(request),
    }


def connected_or_404(request: HttpRequest, connected_account_id: str) -> ConnectedAccount:
    found = selectors.connected_account(
        account=request.account, livemode=request.livemode, stripe_id=connected_account_id
    )
    if found is None:
        raise Http404("No such connected account.")
    return found


def render_detail(
    request: HttpRequest, connected_account_id: str, *, status: int = 200, **extra
) -> HttpResponse:
    detail = selectors.account_detail(
        account=request.account, livemode=request.livemode, stripe_id=connected_account_id
    )
    if detail is None:
        raise Http404("No such connected account.")
    currency = detail.connected.default_currency or request.account.default_currency
    schedule = detail.connected.payout_schedule
    context = {
        "detail": detail,
        "connected": detail.connected,
        "schedule_form": forms.PayoutScheduleForm(initial=schedule),
        "transfer_form": forms.TransferForm(currency=currency),
        "reject_form": forms.RejectForm(),
        "currency": currency,
        **extra,
    }
    return render(request, DETAIL_TEMPLATE, context, status=status)


@requires("connect.view", title="Connected account")
def account_detail(request: HttpRequest, account_slug: str, connected_account_id: str):
    return render_detail(request, connected_account_id)


def finish(request: HttpRequest, connected_account_id: str, outcome: Callable[[], str]):
    try:
        messages.success(request, outcome())
    except services.ConnectError as error:
        messages.error(request, error.message)
    return redirect("connect:account_detail", request.account.slug, connected_account_id)


@require_POST
@requires("connect.manage")
def payout_schedule_update(request: HttpRequest, account_slug: str, connected_account_id: str):
    connected = connected_or_404(request, connected_account_id)
    form = forms.PayoutScheduleForm(request.POST)
    if not form.is_valid():
        return render_detail(request, connected_account_id, status=400, schedule_form=form)

    def update() -> str:
        services.payout_schedule_update(
            connected_account=connected, **form.cleaned_data, **action_context(request)
        )
        return "Payout schedule updated."

    return finish(request, connected_account_id, update)


@require_POST
@requires("transfers.create")
def transfer_create(request: HttpRequest, account_slug: str, connected_account_id: str):
    connected = connected_or_404(request, connected_account_id)
    currency = connected.default_currency or request.account.default_currency
    form = forms.TransferForm(request.POST, currency=currency)
    if not form.is_valid():
        return render_detail(request, connected_account_id, status=400, transfer_form=form)

    def send() -> str:
        transfer = services.transfer_create(
            connected_account=connected,
            amount=form.cleaned_data["amount"],
            currency=currency,
            description=form.cleaned_data["description"],
            transfer_group=form.cleaned_data["transfer_group"],
            idempotency_key=request.POST.get("idempotency_key") or None,
            **action_context(request),
        )
        return f"Sent {format_money(transfer.amount, transfer.currency)} ({transfer.stripe_id})."

    return finish(request, connected_account_id, send)


@require_POST
@requires("transfers.create")
def transfer_reverse(request: HttpRequest, account_slug: str, transfer_id: str) -> HttpResponse:
    transfer = selectors.transfer_by_stripe_id(
        account=request.account, livemode=request.livemode, transfer_id=transfer_id
    )
    if transfer is None:
        raise Http404("No such transfer.")
    form = forms.ReverseForm(request.POST, currency=transfer.currency)
    if not form.is_valid():
        messages.error(request, "Enter the amount to reverse, or leave it empty for all.")
        return redirect("connect:account_detail", account_slug, transfer.destination_stripe_id)

    def reverse() -> str:
        services.transfer_reverse(
            transfer=transfer, amount=form.cleaned_data["amount"], **action_context(request)
        )
        return f"Transfer {transfer.stripe_id} reversed."

    return finish(request, transfer.destination_stripe_id, reverse)


@require_POST
@requires("connect.manage")
def account_reject(request: HttpRequest, account_slug: str, connected_account_id: str):
    connected = connected_or_404(request, connected_account_id)
    form = forms.RejectForm(request.POST)
    if not form.is_valid():
        return render_detail(request, connected_account_id, status=400, reject_form=form)

    def reject() -> str:
        services.account_reject(
            connected_account=connected,
            reason=form.cleaned_data["reason"],
            **action_context(request),
        )
        return "Account rejected."

    return finish(request, connected_account_id, reject)


@require_POST
@requires("connect.login_links")
def login_link_create(request: HttpRequest, account_slug: str, connected_account_id: str):
    """The link is shown once, in this response: it is never stored, not even in a
    flash message (which would keep it in the session table)."""
    connected = connected_or_404(request, connected_account_id)
    try:
        link, path = services.login_link_create(
            connected_account=connected, **action_context(request)
        )
    except services.ConnectError as error:
        messages.error(request, error.message)
        return redirect("connect:account_detail", account_slug, connected_account_id)
    url = request.build_absolute_uri(path)
    return render_detail(request, connected_account_id, login_link=link, login_url=url)


@require_POST
@requires("connect.login_links")
def express_open(request: HttpRequest, account_slug: str, connected_account_id: str):
    """ "View Express dashboard": a fresh login link, followed at once."""
    connected = connected_or_404(request, connected_account_id)
    try:
        _, path = services.login_link_create(connected_account=connected, **action_context(request))
    except services.ConnectError as error:
        messages.error(request, error.message)
        return redirect("connect:account_detail", account_slug, connected_account_id)
    return redirect(path)


@requires("connect.manage", title="Express dashboard settings")
def express_settings(request: HttpRequest, account_slug: str) -> HttpResponse:
    current = services.express_settings_for(request.account)
    form = forms.ExpressSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        services.express_settings_update(values=form.cleaned_data, **action_context(request))
        messages.success(request, "Express dashboard settings saved.")
        return redirect("connect:express_settings", account_slug)
    return render(request, "connect/express_settings.html", {"form": form})
