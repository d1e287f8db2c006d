"""Customers: list, create, edit, detail with saved cards, add a card, charge a card."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dashboard.money import format_money
from dashboard.permissions import requires
from payments import forms, selectors, services
from payments.views_payments import action_context, page_window
from workbench.selectors import stripe_connection_for

LIST_TEMPLATE = "payments/customers/list.html"
DETAIL_TEMPLATE = "payments/customers/detail.html"
FORM_TEMPLATE = "payments/customers/form.html"
PAGE_SIZE = 25


def customer_or_404(request: HttpRequest, customer_id: str):
    customer = selectors.customer_by_stripe_id(
        account=request.account, livemode=request.livemode, customer_id=customer_id
    )
    if customer is None:
        raise Http404("No such customer.")
    return customer


def to_detail(request: HttpRequest, customer) -> HttpResponse:
    return redirect(
        "payments:customer_detail",
        account_slug=request.account.slug,
        customer_id=customer.stripe_id,
    )


@requires("customers.view", title="Customers")
def customer_list(request: HttpRequest, account_slug: str) -> HttpResponse:
    form = forms.CustomerFilterForm(request.GET, account=request.account)
    window = page_window(
        request,
        selectors.customer_window,
        account=request.account,
        livemode=request.livemode,
        filters=form.filters(),
        limit=PAGE_SIZE,
    )
    context = {"form": form, "window": window}
    return render(request, f"{LIST_TEMPLATE}#table" if request.htmx else LIST_TEMPLATE, context)


def save_customer(request: HttpRequest, form: forms.CustomerForm, customer=None):
    """Create or update through the services; a Stripe refusal lands on the form."""
    try:
        if customer is None:
            customer = services.customer_create(**action_context(request), **form.details)
        else:
            customer = services.customer_update(
                customer=customer, changes=form.details, **action_context(request)
            )
        return services.customer_details_update(
            customer=customer,
            address=form.address,
            metadata=form.cleaned_data["metadata"],
            **action_context(request),
        )
    except services.PaymentError as error:
        form.add_error(None, error.message)
        return None


@requires("customers.manage", title="New customer")
def customer_create(request: HttpRequest, account_slug: str) -> HttpResponse:
    form = forms.CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        customer = save_customer(request, form)
        if customer is not None:
            messages.success(request, "Customer created.")
            return to_detail(request, customer)
    return render(request, FORM_TEMPLATE, {"form": form, "customer": None})


@requires("customers.manage", title="Edit customer")
def customer_edit(request: HttpRequest, account_slug: str, customer_id: str) -> HttpResponse:
    customer = customer_or_404(request, customer_id)
    form = forms.CustomerForm.for_customer(customer, request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and save_customer(request, form, customer) is not None
    ):
        messages.success(request, "Customer updated.")
        return to_detail(request, customer)
    return render(request, FORM_TEMPLATE, {"form": form, "customer": customer})


def render_detail(request: HttpRequest, customer, status: int = 200, **forms_in_error):
    methods = selectors.customer_payment_methods(account=request.account, customer=customer)
    connection = stripe_connection_for(account=request.account)
    context = {
        "customer": customer,
        "payment_methods": methods,
        "payments": selectors.customer_recent_payments(account=request.account, customer=customer),
        "sandbox": connection is not None and connection.is_sandbox,
        "connection": connection,
        "card_form": forms.AddTestCardForm(),
        "charge_form": forms.ChargeForm(
            payment_methods=methods,
            initial={"currency": customer.data.get("currency") or request.account.default_currency},
        ),
        **forms_in_error,
    }
    template = f"{DETAIL_TEMPLATE}#wallet" if request.htmx else DETAIL_TEMPLATE
    return render(request, template, context, status=status)


@requires("customers.view", title="Customer")
def customer_detail(request: HttpRequest, account_slug: str, customer_id: str) -> HttpResponse:
    return render_detail(request, customer_or_404(request, customer_id))


def finish(request: HttpRequest, customer, run) -> HttpResponse:
    """Plain POST: redirect with a message. htmx POST: the updated cards-and-charge partial."""
    try:
        messages.success(request, run())
    except services.PaymentError as error:
        messages.error(request, error.message)
    if request.htmx:
        return render_detail(request, customer)
    return to_detail(request, customer)


@require_POST
@requires("customers.manage")
def customer_card_add(request: HttpRequest, account_slug: str, customer_id: str) -> HttpResponse:
    customer = customer_or_404(request, customer_id)
    form = forms.AddTestCardForm(request.POST)
    if not form.is_valid():
        return render_detail(request, customer, status=400, card_form=form)

    def add() -> str:
        method = services.payment_method_attach(
            customer=customer,
            payment_method=form.cleaned_data["test_card"],
            make_default=form.cleaned_data["make_default"],
            **action_context(request),
        )
        return f"Saved {method.card_brand.title()} •••• {method.card_last4}."

    return finish(request, customer, add)


@require_POST
@requires("customers.manage")
def customer_card_detach(
    request: HttpRequest, account_slug: str, customer_id: str, payment_method_id: str
) -> HttpResponse:
    customer = customer_or_404(request, customer_id)
    method = selectors.customer_payment_method(
        account=request.account, customer=customer, payment_method_id=payment_method_id
    )
    if method is None:
        raise Http404("No such card on this customer.")

    def detach() -> str:
        services.payment_method_detach(payment_method=method, **action_context(request))
        return f"Removed {method.card_brand.title()} •••• {method.card_last4}."

    return finish(request, customer, detach)


@require_POST
@requires("payments.create")
def customer_charge(request: HttpRequest, account_slug: str, customer_id: str) -> HttpResponse:
    customer = customer_or_404(request, customer_id)
    methods = selectors.customer_payment_methods(account=request.account, customer=customer)
    form = forms.ChargeForm(request.POST, payment_methods=methods)
    if not form.is_valid():
        return render_detail(request, customer, status=400, charge_form=form)

    def charge() -> str:
        data = form.cleaned_data
        try:
            intent = services.payment_charge_saved_card(
                customer=customer,
                amount=data["amount"],
                currency=data["currency"],
                description=data["description"],
                payment_method=data["payment_method"],
                **action_context(request),
            )
        except services.PaymentError as error:
            codes = " · ".join(code for code in (error.code, error.decline_code) if code)
            raise services.PaymentError(
                f"{error.message} ({codes})" if codes else error.message
            ) from error
        return f"Charged {format_money(intent.amount, intent.currency)}: {intent.status}."

    return finish(request, customer, charge)
