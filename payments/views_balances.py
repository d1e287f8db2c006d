"""Balances: funds per currency, payouts (list, detail, manual payout, cancel), top-ups and
the balance history. Reads through payments.selectors_balances, writes through
payments.services_balances."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dashboard.money import format_money
from dashboard.permissions import requires
from dashboard.services import RequestContext
from payments import forms_balances as forms
from payments import selectors_balances as selectors
from payments import services_balances as services
from payments.selectors import InvalidCursor, Page
from payments.services import PaymentError, new_idempotency_key

TEMPLATES = "payments/balances/"
IDEMPOTENCY_KEY = re.compile(r"^paydesk-[0-9a-f-]{36}$")


def _page(request: HttpRequest, load: Callable[..., Page], **query) -> Page:
    """A keyset page from `?after=`; a stale cursor falls back to the first page."""
    try:
        return load(after=request.GET.get("after") or None, **query)
    except InvalidCursor as error:
        messages.error(request, str(error))
        return load(**query)


def _list(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    name = TEMPLATES + template
    context["paged"] = bool(request.GET.get("after"))
    return render(request, f"{name}#table" if request.htmx else name, context)


def _scope(request: HttpRequest) -> dict:
    return {"account": request.account, "livemode": request.livemode}


@requires("balances.view", title="Balances")
def balances(request: HttpRequest, account_slug: str) -> HttpResponse:
    context = {
        "balances": selectors.balance_summary(**_scope(request)),
        "upcoming": selectors.payouts_upcoming(**_scope(request)),
        "recent": selectors.payout_list(**_scope(request), limit=10),
        "topups": selectors.topup_list(**_scope(request), limit=5),
        "history": selectors.balance_transaction_list(**_scope(request), limit=10),
    }
    return render(request, TEMPLATES + "balances.html", context)


@requires("balances.view", title="Payouts")
def payouts(request: HttpRequest, account_slug: str) -> HttpResponse:
    form = forms.PayoutFilterForm(request.GET)
    page = _page(request, selectors.payout_list, **_scope(request), **form.filters())
    return _list(request, "payouts.html", {"form": form, "page": page})


@requires("balances.view", title="Balance history")
def balance_history(request: HttpRequest, account_slug: str) -> HttpResponse:
    form = forms.HistoryFilterForm(request.GET)
    page = _page(request, selectors.balance_transaction_list, **_scope(request), **form.filters())
    return _list(request, "history.html", {"form": form, "page": page})


@requires("balances.view", title="Top-ups")
def topups(request: HttpRequest, account_slug: str) -> HttpResponse:
    page = _page(request, selectors.topup_list, **_scope(request))
    return _list(request, "topups.html", {"page": page})


def _payout_or_404(request: HttpRequest, payout_id: str):
    payout = selectors.payout_get(**_scope(request), stripe_id=payout_id)
    if payout is None:
        raise Http404("No such payout.")
    return payout


@requires("balances.view", title="Payout")
def payout_detail(request: HttpRequest, account_slug: str, payout_id: str) -> HttpResponse:
    payout = _payout_or_404(request, payout_id)
    transactions = selectors.payout_transactions(account=request.account, payout=payout)
    context = {"payout": payout, "transactions": transactions}
    return render(request, TEMPLATES + "payout_detail.html", context)


@require_POST
@requires("payouts.create")
def payout_cancel(request: HttpRequest, account_slug: str, payout_id: str) -> HttpResponse:
    payout = _payout_or_404(request, payout_id)
    try:
        services.payout_cancel(
            **_scope(request),
            payout=payout,
            actor=request.user,
            context=RequestContext.from_request(request),
        )
    except PaymentError as error:
        messages.error(request, f"Stripe refused to cancel the payout: {error.message}")
    else:
        messages.success(request, "The payout was canceled; its amount is back in the balance.")
    return redirect("payments:payout_detail", account_slug=account_slug, payout_id=payout_id)


def _money_form(request: HttpRequest, *, kind: str, create: Callable, done: Callable):
    """GET: the form; POST: the service, then a redirect, or the form with Stripe's error."""
    currencies = selectors.form_currencies(account=request.account, livemode=request.livemode)
    posted = request.POST if request.method == "POST" else None
    form = forms.MoneyMovementForm(posted, currencies=currencies)
    key = request.POST.get("idempotency_key", "")
    key = key if IDEMPOTENCY_KEY.match(key) else new_idempotency_key()
    if posted is not None and form.is_valid():
        try:
            created = create(
                **_scope(request),
                amount=form.cleaned_data["amount_minor"],
                currency=form.cleaned_data["currency"],
                description=form.cleaned_data["description"],
                actor=request.user,
                context=RequestContext.from_request(request),
                idempotency_key=key,
            )
        except PaymentError as error:
            form.add_error(None, f"Stripe refused the {kind}: {error.message}")
        else:
            messages.success(
                request, f"{format_money(created.amount, created.currency)} {kind} created."
            )
            return done(created)
    context = {"form": form, "kind": kind, "idempotency_key": key}
    status = 400 if form.errors else 200
    return render(request, TEMPLATES + "money_form.html", context, status=status)


@requires("payouts.create", title="New payout")
def payout_create(request: HttpRequest, account_slug: str) -> HttpResponse:
    return _money_form(
        request,
        kind="payout",
        create=services.payout_create,
        done=lambda payout: redirect(
            "payments:payout_detail", account_slug=account_slug, payout_id=payout.stripe_id
        ),
    )


@requires("topups.create", title="New top-up")
def topup_create(request: HttpRequest, account_slug: str) -> HttpResponse:
    return _money_form(
        request,
        kind="top-up",
        create=services.topup_create,
        done=lambda topup: redirect("payments:topups", account_slug=account_slug),
    )
