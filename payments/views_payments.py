"""Transactions: the payments list, a payment's detail, and refund/capture/cancel."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dashboard.money import format_money
from dashboard.permissions import requires
from dashboard.services import RequestContext
from payments import forms, selectors, services
from payments.selectors import InvalidCursor

LIST_TEMPLATE = "payments/payments/list.html"
DETAIL_TEMPLATE = "payments/payments/detail.html"
PAGE_SIZE = 25


def page_window(request: HttpRequest, load: Callable, **query):
    """A keyset page from `?after=` / `?before=`; a stale cursor falls back to page one."""
    try:
        return load(after=request.GET.get("after"), before=request.GET.get("before"), **query)
    except InvalidCursor as error:
        messages.error(request, str(error))
        return load(**query)


@requires("payments.view", title="Transactions")
def payment_list(request: HttpRequest, account_slug: str) -> HttpResponse:
    form = forms.PaymentFilterForm(request.GET, account=request.account)
    window = page_window(
        request,
        selectors.payment_window,
        account=request.account,
        livemode=request.livemode,
        filters=form.filters(),
        limit=PAGE_SIZE,
    )
    context = {"form": form, "window": window}
    return render(request, f"{LIST_TEMPLATE}#table" if request.htmx else LIST_TEMPLATE, context)


def detail_or_404(request: HttpRequest, payment_id: str) -> selectors.PaymentDetail:
    detail = selectors.payment_detail(
        account=request.account, livemode=request.livemode, payment_id=payment_id
    )
    if detail is None:
        raise Http404("No such payment.")
    return detail


def render_detail(request: HttpRequest, payment_id: str, **forms_in_error) -> HttpResponse:
    detail = detail_or_404(request, payment_id)
    context = {
        "payment": detail,
        "refund_form": forms.RefundForm(currency=detail.currency),
        "capture_form": forms.CaptureForm(currency=detail.currency),
        "cancel_form": forms.CancelForm(),
        **forms_in_error,
        "action_errors": [
            error for form in forms_in_error.values() for error in form.non_field_errors()
        ],
    }
    template = f"{DETAIL_TEMPLATE}#payment" if request.htmx else DETAIL_TEMPLATE
    return render(request, template, context, status=400 if forms_in_error else 200)


@requires("payments.view", title="Payment")
def payment_detail(request: HttpRequest, account_slug: str, payment_id: str) -> HttpResponse:
    return render_detail(request, payment_id)


def finish(request: HttpRequest, payment_id: str, outcome: Callable[[], str]) -> HttpResponse:
    """Run an action; plain POSTs redirect with a message, htmx POSTs get the partial."""
    try:
        messages.success(request, outcome())
    except services.PaymentError as error:
        messages.error(request, error.message)
    if request.htmx:
        return render_detail(request, payment_id)
    return redirect(
        "payments:payment_detail", account_slug=request.account.slug, payment_id=payment_id
    )


def form_ok(form, allowed: bool, refusal: str) -> bool:
    """Valid and allowed for this payment; a refusal shows on the form."""
    if form.is_valid() and not allowed:
        form.add_error(None, refusal)
    return form.is_valid()


def action_context(request: HttpRequest) -> dict:
    return {
        "account": request.account,
        "livemode": request.livemode,
        "actor": request.user,
        "context": RequestContext.from_request(request),
    }


@require_POST
@requires("payments.refund")
def payment_refund(request: HttpRequest, account_slug: str, payment_id: str) -> HttpResponse:
    detail = detail_or_404(request, payment_id)
    # What is left to refund is Stripe's call (the mirror may lag): an over-refund is sent
    # and refused by Stripe, whose message is shown.
    form = forms.RefundForm(request.POST, currency=detail.currency)
    if not form_ok(form, detail.charge is not None, "This payment has no charge to refund."):
        return render_detail(request, payment_id, refund_form=form)

    def refund() -> str:
        refunded = services.payment_refund(
            charge=detail.charge,
            amount=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            **action_context(request),
        )
        return f"Refunded {format_money(refunded.amount, refunded.currency)}."

    return finish(request, payment_id, refund)


@require_POST
@requires("payments.capture")
def payment_capture(request: HttpRequest, account_slug: str, payment_id: str) -> HttpResponse:
    detail = detail_or_404(request, payment_id)
    form = forms.CaptureForm(request.POST, currency=detail.currency)
    if not form_ok(form, detail.can_capture, "Only an uncaptured payment can be captured."):
        return render_detail(request, payment_id, capture_form=form)

    def capture() -> str:
        intent = services.payment_capture(
            payment_intent=detail.intent,
            amount=form.cleaned_data["amount"],
            **action_context(request),
        )
        return f"Captured {format_money(intent.amount_received, intent.currency)}."

    return finish(request, payment_id, capture)


@require_POST
@requires("payments.capture")
def payment_cancel(request: HttpRequest, account_slug: str, payment_id: str) -> HttpResponse:
    detail = detail_or_404(request, payment_id)
    form = forms.CancelForm(request.POST)
    if not form_ok(form, detail.can_capture, "Only an uncaptured payment can be canceled."):
        return render_detail(request, payment_id, cancel_form=form)

    def cancel() -> str:
        services.payment_cancel(
            payment_intent=detail.intent,
            reason=form.cleaned_data["reason"],
            **action_context(request),
        )
        return "Payment canceled: the authorisation is released."

    return finish(request, payment_id, cancel)
