"""Reports pages: financial reports, exports (new, progress, download, past) and scheduled
reports. Reads through reporting.reports / reporting.exports, writes through services."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard.permissions import requires
from dashboard.roles import role_can
from dashboard.services import RequestContext
from reporting import exports, forms, reports, scheduled
from reporting.models import SavedReport

TEMPLATES = "reporting/reports/"


def _scope(request: HttpRequest) -> dict:
    return {"account": request.account, "livemode": request.livemode}


@requires("reports.view", title="Reports")
def reports_index(request: HttpRequest, account_slug: str) -> HttpResponse:
    context = {"runs": exports.report_run_list(account=request.account, limit=5)}
    return render(request, TEMPLATES + "index.html", context)


def _period(request: HttpRequest) -> tuple[forms.PeriodForm, reports.Period]:
    form = forms.PeriodForm(request.GET)
    period = reports.period_from_filters(account=request.account, filters=form.filters())
    return form, period


@requires("reports.view", title="Balance summary")
def balance_summary(request: HttpRequest, account_slug: str) -> HttpResponse:
    form, period = _period(request)
    context = {
        "form": form,
        "period": period,
        "summaries": reports.balance_summary(**_scope(request), period=period),
        "export_query": urlencode(period.as_filters()),
        "item_columns": exports.export_source("balance_activity").default_columns,
    }
    return render(request, TEMPLATES + "balance_summary.html", context)


@requires("reports.view", title="Payout reconciliation")
def payout_reconciliation(request: HttpRequest, account_slug: str) -> HttpResponse:
    form, period = _period(request)
    context = {
        "form": form,
        "period": period,
        "lines": reports.payout_reconciliation(**_scope(request), period=period),
        "export_query": urlencode(period.as_filters()),
        "item_columns": exports.export_source("payout_reconciliation").default_columns,
    }
    return render(request, TEMPLATES + "payout_reconciliation.html", context)


def _source_or_404(request: HttpRequest, key: str) -> exports.ExportSource:
    source = exports.export_source(key or "")
    # A source the member's role may not read does not exist for them.
    if source is None or not role_can(request.membership.role, source.permission):
        raise Http404("No such export.")
    return source


@requires("reports.export", title="New export")
def export_new(request: HttpRequest, account_slug: str) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    source = _source_or_404(request, data.get("source"))
    query = data.get("query") if request.method == "POST" else data.urlencode()
    filters = forms.filters_from_query(QueryDict(query or ""))
    form = forms.ExportForm(request.POST or None, source=source)
    if request.method == "POST" and form.is_valid():
        run = exports.export_create(
            **_scope(request),
            actor=request.user,
            source_key=source.key,
            filters=filters,
            columns=form.cleaned_data["columns"],
            metadata_keys=form.cleaned_data.get("metadata_keys") or [],
            format=form.cleaned_data["format"],
            context=RequestContext.from_request(request),
        )
        return redirect("reporting:export_detail", account_slug, run.public_id)
    context = {
        "form": form,
        "source": source,
        "filters": filters,
        "query": urlencode(filters),
    }
    return render(request, TEMPLATES + "export_new.html", context)


@requires("reports.view", title="Past exports")
def export_list(request: HttpRequest, account_slug: str) -> HttpResponse:
    context = {"runs": exports.report_run_list(account=request.account, limit=100)}
    return render(request, TEMPLATES + "export_list.html", context)


@requires("reports.view", title="Export")
def export_detail(request: HttpRequest, account_slug: str, run_id: str) -> HttpResponse:
    run = exports.report_run_get(account=request.account, public_id=run_id)
    if run is None:
        raise Http404("No such export.")
    context = {
        "run": run,
        "source": exports.export_source(run.source),
        "download_url": exports.download_url(run=run, account=request.account)
        if run.status == run.Status.SUCCEEDED
        else "",
    }
    template = TEMPLATES + ("export_detail.html#progress" if request.htmx else "export_detail.html")
    return render(request, template, context)


@requires("reports.view")
def export_download(request: HttpRequest, account_slug: str, run_id: str) -> HttpResponse:
    try:
        run = exports.download_check(
            account=request.account, public_id=run_id, token=request.GET.get("token", "")
        )
    except exports.DownloadExpired:
        detail = reverse("reporting:export_detail", args=[account_slug, run_id])
        return render(request, TEMPLATES + "link_expired.html", {"detail": detail}, status=410)
    if run is None:
        raise Http404("No such export.")
    return exports.download_response(run=run)


@requires("reports.view", title="Scheduled reports")
def scheduled_list(request: HttpRequest, account_slug: str) -> HttpResponse:
    context = {
        "reports": scheduled.saved_report_list(**_scope(request)),
        "form": forms.SavedReportForm(),
    }
    return render(request, TEMPLATES + "scheduled.html", context)


@require_POST
@requires("reports.export")
def scheduled_create(request: HttpRequest, account_slug: str) -> HttpResponse:
    form = forms.SavedReportForm(request.POST)
    if not form.is_valid():
        context = {"reports": scheduled.saved_report_list(**_scope(request)), "form": form}
        return render(request, TEMPLATES + "scheduled.html", context, status=400)
    scheduled.saved_report_create(
        **_scope(request),
        actor=request.user,
        context=RequestContext.from_request(request),
        **form.cleaned_data,
    )
    messages.success(request, "Scheduled. Subscribers get a link when each run is ready.")
    return redirect("reporting:scheduled_list", account_slug)


@require_POST
@requires("reports.view")
def scheduled_subscribe(request: HttpRequest, account_slug: str, report_id: str) -> HttpResponse:
    report = SavedReport.objects.filter(account=request.account, public_id=report_id).first()
    if report is None:
        raise Http404("No such report.")
    subscribed = request.POST.get("subscribed") == "1"
    scheduled.saved_report_subscribe(
        account=request.account, report=report, user=request.user, subscribed=subscribed
    )
    messages.success(request, "Subscribed." if subscribed else "Unsubscribed.")
    return redirect("reporting:scheduled_list", account_slug)
