"""The Workbench (More → Workbench): request logs, events (with replay), webhook endpoints
and deliveries (with secret rotation), and the API version. Developers and above."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dashboard.permissions import requires
from dashboard.services import RequestContext
from workbench import forms_workbench as forms
from workbench import selectors, services_workbench
from workbench.services import StripeConnectError

TEMPLATES = "workbench/workbench/"


def _scope(request: HttpRequest) -> dict:
    return {"account": request.account, "livemode": request.livemode}


def _list(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    name = TEMPLATES + template
    return render(request, f"{name}#table" if request.htmx else name, context)


@requires("developers.view", title="Workbench")
def index(request: HttpRequest, account_slug: str) -> HttpResponse:
    context = {
        "versions": selectors.api_versions(**_scope(request)),
        "errors": selectors.request_errors_by_endpoint(**_scope(request))[:10],
        "failed_events": selectors.event_failed_count(**_scope(request)),
        "endpoints": selectors.webhook_endpoints_for(account=request.account),
    }
    return render(request, TEMPLATES + "index.html", context)


@requires("developers.view", title="Request logs")
def request_logs(request: HttpRequest, account_slug: str) -> HttpResponse:
    form = forms.RequestLogFilterForm(request.GET)
    page = selectors.request_log_page(
        **_scope(request), filters=form.filters(request.account), after=request.GET.get("after")
    )
    for log in page.rows:
        log.public_id = selectors.request_log_public_id(log)
    context = {
        "form": form,
        "page": page,
        "errors": selectors.request_errors_by_endpoint(**_scope(request)),
        "error_types": selectors.request_error_types(**_scope(request)),
    }
    return _list(request, "logs.html", context)


@requires("developers.view", title="Request")
def request_log_detail(request: HttpRequest, account_slug: str, log_id: str) -> HttpResponse:
    log = selectors.request_log_get(account=request.account, public_id=log_id)
    if log is None:
        raise Http404("No such request.")
    return render(request, TEMPLATES + "log_detail.html", {"log": log})


@requires("developers.view", title="Events")
def events(request: HttpRequest, account_slug: str) -> HttpResponse:
    form = forms.EventFilterForm(request.GET)
    page = selectors.event_page(
        **_scope(request), filters=form.filters(request.account), after=request.GET.get("after")
    )
    context = {
        "form": form,
        "page": page,
        "failed_events": selectors.event_failed_count(**_scope(request)),
    }
    return _list(request, "events.html", context)


def _event_or_404(request: HttpRequest, event_id: str):
    event = selectors.event_get(**_scope(request), stripe_id=event_id)
    if event is None:
        raise Http404("No such event.")
    return event


@requires("developers.view", title="Event")
def event_detail(request: HttpRequest, account_slug: str, event_id: str) -> HttpResponse:
    event = _event_or_404(request, event_id)
    object_id = (event.payload.get("data") or {}).get("object", {}).get("id") or ""
    context = {
        "event": event,
        "deliveries": selectors.event_deliveries(account=request.account, event=event),
        "mirror_rows": selectors.mirror_rows_for(**_scope(request), stripe_id=object_id)
        if object_id
        else [],
        "object_id": object_id,
        "payload_json": json.dumps(event.payload, indent=2, sort_keys=True),
    }
    return render(request, TEMPLATES + "event_detail.html", context)


@require_POST
@requires("developers.events.replay")
def event_replay(request: HttpRequest, account_slug: str, event_id: str) -> HttpResponse:
    event = _event_or_404(request, event_id)
    count = services_workbench.event_replay(
        account=request.account,
        actor=request.user,
        event=event,
        context=RequestContext.from_request(request),
    )
    if count:
        messages.success(request, f"{event.stripe_id} queued for processing again.")
    else:
        messages.error(request, f"{event.stripe_id} is already waiting to be processed.")
    return redirect("workbench:event_detail", account_slug, event.stripe_id)


@require_POST
@requires("developers.events.replay")
def events_replay_failed(request: HttpRequest, account_slug: str) -> HttpResponse:
    count = services_workbench.event_replay(
        account=request.account,
        actor=request.user,
        failed_only=True,
        context=RequestContext.from_request(request),
    )
    messages.success(request, f"{count} failed event{'s' if count != 1 else ''} queued again.")
    return redirect("workbench:events", account_slug)


@requires("developers.view", title="Webhooks")
def webhooks(request: HttpRequest, account_slug: str, roll_errors: dict | None = None):
    endpoints = selectors.webhook_endpoints_for(account=request.account)
    context = {
        "endpoints": [(e, selectors.webhook_url(endpoint=e)) for e in endpoints],
        "deliveries": selectors.delivery_list(account=request.account),
        "versions": selectors.api_versions(**_scope(request)),
        "roll_form": forms.RollSecretForm(),
        "roll_errors": roll_errors or {},
        "overlap": settings.PAYDESK_WEBHOOK_SECRET_OVERLAP,
    }
    return render(request, TEMPLATES + "webhooks.html", context, status=400 if roll_errors else 200)


@require_POST
@requires("developers.webhooks")
def webhook_roll(request: HttpRequest, account_slug: str, endpoint_id) -> HttpResponse:
    endpoint = get_object_or_404(
        selectors.webhook_endpoints_for(account=request.account), uuid=endpoint_id
    )
    form = forms.RollSecretForm(request.POST)
    try:
        if not form.is_valid():
            raise StripeConnectError("Paste the new signing secret.")
        services_workbench.webhook_secret_roll(
            account=request.account,
            actor=request.user,
            endpoint=endpoint,
            secret=form.cleaned_data["secret"],
            context=RequestContext.from_request(request),
        )
    except StripeConnectError as error:
        return webhooks(request, account_slug, roll_errors={endpoint.uuid: str(error)})
    messages.success(request, "New signing secret saved; the previous one keeps working.")
    return redirect("workbench:webhooks", account_slug)
