"""The Express dashboard: a connected account's own pages, opened by a login link.

These views declare SELF_AUTHENTICATED: the team session means nothing here. Each checks
the Express cookie itself (`express_page`), which binds the browser to one connected
account of one platform; any other connected account's page is a 404, and the cookie
(path `/express/`) opens nothing of the console (see `connect.middleware`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_scopes import scope

from connect import forms, selectors, services
from connect.middleware import EXPRESS_COOKIE
from dashboard.money import format_money
from dashboard.permissions import SELF_AUTHENTICATED, requires
from payments.views_payments import page_window

COOKIE = EXPRESS_COOKIE
COOKIE_PATH = "/express/"


def express_page(view: Callable) -> Callable:
    @requires(SELF_AUTHENTICATED)
    @wraps(view)
    def wrapped(request: HttpRequest, connected_account_id: str, **kwargs) -> HttpResponse:
        session = services.express_session_for(request.COOKIES.get(COOKIE, ""))
        if session is None:
            return render(request, "express/signed_out.html", status=403)
        if session.connected_account.stripe_id != connected_account_id:
            raise Http404("No such account.")
        with scope(account=session.account):
            request.express_session = session
            request.platform = session.account
            request.connected = session.connected_account
            request.express_settings = selectors.express_settings(session.account)
            return view(request, **kwargs)

    return wrapped


def page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    base = {
        "platform": request.platform,
        "connected": request.connected,
        "features": request.express_settings,
    }
    return render(request, template, {**base, **context}, status=status)


@requires(SELF_AUTHENTICATED)
def login(request: HttpRequest, platform: str, token: str) -> HttpResponse:
    started = services.express_session_start(platform=platform, token=token)
    if started is None:
        return render(request, "express/link_invalid.html", status=410)
    session, cookie = started
    response = redirect("connect:express_home", session.connected_account.stripe_id)
    response.set_cookie(
        COOKIE,
        cookie,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


@require_POST
@express_page
def logout(request: HttpRequest) -> HttpResponse:
    services.express_session_end(session=request.express_session)
    response = render(request, "express/signed_out.html", {"signed_out": True})
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


@express_page
def home(request: HttpRequest) -> HttpResponse:
    interval = request.GET.get("interval", "day")
    interval = interval if interval in selectors.INTERVALS else "day"
    connected = request.connected
    bars, chart_currency = selectors.earnings(
        account=request.platform, connected=connected, interval=interval
    )
    context = {
        "balances": selectors.balances(account=request.platform, connected=connected),
        "requirements": selectors.requirements_of(connected),
        "bars": bars,
        "chart_currency": chart_currency,
        "chart_data": selectors.chart_data(bars, chart_currency, interval),
        "interval": interval,
        "intervals": list(selectors.INTERVALS),
        "activity": selectors.express_activity(account=request.platform, connected=connected),
    }
    if request.htmx and request.GET.get("interval"):
        return page(request, "express/home.html#chart", context)
    return page(request, "express/home.html", context)


def window_of(request: HttpRequest, load: Callable):
    return page_window(request, load, account=request.platform, connected=request.connected)


@express_page
def payouts(request: HttpRequest) -> HttpResponse:
    context = {
        "window": window_of(request, selectors.payout_window),
        "balances": selectors.balances(account=request.platform, connected=request.connected),
        "schedule_form": forms.PayoutScheduleForm(initial=request.connected.payout_schedule),
    }
    return page(request, "express/payouts.html", context)


@require_POST
@express_page
def payout_schedule(request: HttpRequest) -> HttpResponse:
    if not request.express_settings.payout_schedule_enabled:
        raise Http404("Your platform manages your payout schedule.")
    form = forms.PayoutScheduleForm(request.POST)
    if form.is_valid():
        try:
            services.payout_schedule_update(
                account=request.platform,
                connected_account=request.connected,
                actor=None,
                via_express=True,
                **form.cleaned_data,
            )
            messages.success(request, "Payout schedule updated.")
        except services.ConnectError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, "Choose a payout schedule.")
    return redirect("connect:express_payouts", request.connected.stripe_id)


@require_POST
@express_page
def payout_create(request: HttpRequest) -> HttpResponse:
    if not request.express_settings.manual_payouts_enabled:
        raise Http404("Your platform pays out on a schedule.")
    currency = request.connected.default_currency or request.platform.default_currency
    form = forms.AmountForm(request.POST, currency=currency)
    if form.is_valid():
        try:
            payout = services.express_payout_create(
                account=request.platform,
                connected_account=request.connected,
                amount=form.cleaned_data["amount"],
                currency=currency,
            )
            messages.success(request, f"Payout of {format_money(payout.amount, currency)} sent.")
        except services.ConnectError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, "Enter an amount to pay out.")
    return redirect("connect:express_payouts", request.connected.stripe_id)


@express_page
def transactions(request: HttpRequest) -> HttpResponse:
    window = window_of(request, selectors.transaction_window)
    return page(request, "express/transactions.html", {"window": window})


@express_page
def payments(request: HttpRequest) -> HttpResponse:
    window = window_of(request, selectors.payment_window)
    for charge in window.rows:
        charge.shows_buyer = selectors.shows_buyer(charge)
    return page(request, "express/payments.html", {"window": window})


@express_page
def payment_detail(request: HttpRequest, payment_id: str) -> HttpResponse:
    found = selectors.express_payment(
        account=request.platform, connected=request.connected, payment_id=payment_id
    )
    if found is None:
        raise Http404("No such payment.")
    return page(request, "express/payment_detail.html", {"payment": found})


@express_page
def refunds_and_disputes(request: HttpRequest) -> HttpResponse:
    features = request.express_settings
    if not (features.refunds_enabled or features.disputes_enabled):
        raise Http404("Your platform handles refunds and disputes.")
    refunds, disputes = selectors.express_refunds_and_disputes(
        account=request.platform, connected=request.connected
    )
    return page(request, "express/refunds.html", {"refunds": refunds, "disputes": disputes})
