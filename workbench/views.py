from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dashboard.permissions import public, requires
from dashboard.services import RequestContext
from workbench import forms, selectors, services
from workbench.client import StripeNotConnected
from workbench.models import WebhookEndpoint


# Public and CSRF-exempt because Stripe, not a browser session, calls it: there is no
# cookie or CSRF token to check. The Stripe-Signature header (HMAC of the raw body with the
# endpoint's secret) is what authenticates the request, inside delivery_receive.
@public
@csrf_exempt
@require_POST
def webhook(request: HttpRequest, endpoint_id) -> HttpResponse:
    result = services.delivery_receive(
        endpoint_uuid=endpoint_id,
        body=request.body,
        headers=request.headers,
        remote_address=request.META.get("REMOTE_ADDR") or None,
    )
    if result.status == 200:
        return JsonResponse({"received": True, "duplicate": result.duplicate})
    return JsonResponse({"error": result.reason}, status=result.status)


def _page(request: HttpRequest, **forms_by_name) -> HttpResponse:
    account = request.account
    endpoints = list(selectors.webhook_endpoints_for(account=account))
    context = {
        "connection": selectors.stripe_connection_for(account=account),
        "endpoints": [
            {"endpoint": endpoint, "url": selectors.webhook_url(endpoint=endpoint)}
            for endpoint in endpoints
        ],
        "key_form": forms_by_name.get("key_form") or forms.SecretKeyForm(),
        "secret_form": forms.SigningSecretForm(),
        "secret_form_errors": forms_by_name.get("secret_form_errors") or {},
    }
    return render(request, "workbench/stripe_settings.html", context)


@requires("settings.stripe", title="Stripe connection")
def stripe_settings(request: HttpRequest, account_slug: str) -> HttpResponse:
    return _page(request)


@require_POST
@requires("settings.stripe")
def stripe_connect(request: HttpRequest, account_slug: str) -> HttpResponse:
    form = forms.SecretKeyForm(request.POST)
    if form.is_valid():
        try:
            services.connect_stripe(
                account=request.account,
                actor=request.user,
                secret_key=form.cleaned_data["secret_key"],
                context=RequestContext.from_request(request),
            )
        except services.StripeConnectError as error:
            form.add_error("secret_key", str(error))
        else:
            messages.success(request, "Connected to Stripe. The key is stored encrypted.")
            return redirect("workbench:stripe_settings", account_slug=account_slug)
    return _page(request, key_form=form)


@require_POST
@requires("settings.stripe")
def stripe_connect_sandbox(request: HttpRequest, account_slug: str) -> HttpResponse:
    try:
        services.connect_sandbox(
            account=request.account,
            actor=request.user,
            context=RequestContext.from_request(request),
        )
    except services.StripeConnectError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Connected to the built-in sandbox.")
    return redirect("workbench:stripe_settings", account_slug=account_slug)


@require_POST
@requires("settings.stripe")
def stripe_disconnect(request: HttpRequest, account_slug: str) -> HttpResponse:
    services.stripe_disconnect(
        account=request.account, actor=request.user, context=RequestContext.from_request(request)
    )
    messages.success(request, "Disconnected. Webhook endpoints no longer accept deliveries.")
    return redirect("workbench:stripe_settings", account_slug=account_slug)


def _endpoint(request: HttpRequest, endpoint_id) -> WebhookEndpoint:
    return get_object_or_404(
        selectors.webhook_endpoints_for(account=request.account), uuid=endpoint_id
    )


@require_POST
@requires("settings.stripe")
def webhook_secret(request: HttpRequest, account_slug: str, endpoint_id) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    form = forms.SigningSecretForm(request.POST)
    error = None
    if form.is_valid():
        try:
            services.webhook_secret_save(
                account=request.account,
                actor=request.user,
                endpoint=endpoint,
                secret=form.cleaned_data["secret"],
                context=RequestContext.from_request(request),
            )
        except services.StripeConnectError as failure:
            error = str(failure)
    else:
        error = "Paste the signing secret."
    if error:
        return _page(request, secret_form_errors={endpoint.uuid: error})
    messages.success(request, "Signing secret saved. It will not be shown again.")
    return redirect("workbench:stripe_settings", account_slug=account_slug)


@require_POST
@requires("settings.stripe")
def webhook_register(request: HttpRequest, account_slug: str, endpoint_id) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    try:
        services.webhook_endpoint_register(
            account=request.account,
            actor=request.user,
            endpoint=endpoint,
            context=RequestContext.from_request(request),
        )
    except (services.StripeConnectError, StripeNotConnected) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Endpoint created at Stripe; its signing secret is saved.")
    return redirect("workbench:stripe_settings", account_slug=account_slug)
