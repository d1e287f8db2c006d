"""Disputes: the list by status with evidence deadlines, the detail page, saving and
submitting evidence, and accepting the loss."""

from __future__ import annotations

from django import forms as django_forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from dashboard.permissions import requires
from dashboard.services import RequestContext
from payments import selectors, services
from payments.models import Dispute
from payments.selectors import DisputeTab, InvalidCursor
from payments.services import DISPUTE_EVIDENCE_FILES, DISPUTE_EVIDENCE_TEXT, PaymentError

EVIDENCE_LABELS = {
    "product_description": "Product or service description",
    "customer_name": "Customer name",
    "customer_email_address": "Customer email",
    "service_date": "Service date",
    "refund_policy_disclosure": "How the refund policy was shown to the customer",
    "uncategorized_text": "Other information",
    "customer_communication": "Customer communication (file)",
    "refund_policy": "Refund policy (file)",
    "uncategorized_file": "Other evidence (file)",
}
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # Stripe's limit for a dispute evidence file.


class EvidenceForm(django_forms.Form):
    def __init__(self, *args, dispute: Dispute, **kwargs):
        super().__init__(*args, **kwargs)
        held = dispute.data.get("evidence") or {}
        for name in DISPUTE_EVIDENCE_TEXT:
            widget = django_forms.Textarea(attrs={"rows": 3})
            if name in {"customer_name", "customer_email_address", "service_date"}:
                widget = django_forms.TextInput()
            self.fields[name] = django_forms.CharField(
                label=EVIDENCE_LABELS[name], required=False, max_length=20000, widget=widget
            )
            self.fields[name].initial = held.get(name) or ""
        for name in DISPUTE_EVIDENCE_FILES:
            self.fields[name] = django_forms.FileField(label=EVIDENCE_LABELS[name], required=False)

    def clean(self):
        cleaned = super().clean()
        for name in DISPUTE_EVIDENCE_FILES:
            upload = cleaned.get(name)
            if upload and upload.size > MAX_UPLOAD_BYTES:
                self.add_error(name, "Evidence files may be at most 5 MB.")
        return cleaned

    def evidence(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in DISPUTE_EVIDENCE_TEXT}

    def uploads(self) -> dict:
        return {name: f for name in DISPUTE_EVIDENCE_FILES if (f := self.cleaned_data.get(name))}


def _dispute_or_404(request: HttpRequest, dispute_id: str) -> Dispute:
    dispute = selectors.dispute_get(
        account=request.account, livemode=request.livemode, dispute_id=dispute_id
    )
    if dispute is None:
        raise Http404("No such dispute.")
    return dispute


@requires("disputes.view", title="Disputes")
def dispute_list(request: HttpRequest, account_slug: str) -> HttpResponse:
    tab = request.GET.get("status", DisputeTab.NEEDS_RESPONSE)
    if tab not in dict(DisputeTab.CHOICES):
        tab = DisputeTab.NEEDS_RESPONSE
    try:
        page = selectors.dispute_list(
            account=request.account,
            livemode=request.livemode,
            tab=tab,
            after=request.GET.get("after"),
        )
    except InvalidCursor:
        return redirect(f"{request.path}?status={tab}")
    context = {
        "page": page,
        "tab": tab,
        "tabs": DisputeTab.CHOICES,
        "paged": "after" in request.GET,
    }
    template = "payments/disputes/list.html"
    return render(request, f"{template}#disputes" if request.htmx else template, context)


def _render_detail(request: HttpRequest, dispute: Dispute, form=None, status=200):
    kept = selectors.dispute_evidence_files_kept(account=request.account, dispute=dispute)
    context = {
        "dispute": dispute,
        "form": form or EvidenceForm(dispute=dispute),
        "files_kept": kept,
        "now": timezone.now(),
    }
    return render(request, "payments/disputes/detail.html", context, status=status)


@requires("disputes.view", title="Dispute")
def dispute_detail(request: HttpRequest, account_slug: str, dispute_id: str) -> HttpResponse:
    return _render_detail(request, _dispute_or_404(request, dispute_id))


@require_POST
@requires("disputes.manage")
def dispute_evidence(request: HttpRequest, account_slug: str, dispute_id: str) -> HttpResponse:
    dispute = _dispute_or_404(request, dispute_id)
    form = EvidenceForm(request.POST, request.FILES, dispute=dispute)
    submit = request.POST.get("submit") == "1"
    if form.is_valid():
        try:
            services.dispute_evidence_update(
                account=request.account,
                livemode=request.livemode,
                dispute=dispute,
                evidence=form.evidence(),
                files=form.uploads(),
                submit=submit,
                actor=request.user,
                context=RequestContext.from_request(request),
            )
        except PaymentError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Evidence submitted." if submit else "Evidence saved.")
            return redirect("payments:dispute_detail", account_slug, dispute.stripe_id)
    return _render_detail(request, dispute, form, status=400)


@require_POST
@requires("disputes.manage")
def dispute_accept(request: HttpRequest, account_slug: str, dispute_id: str) -> HttpResponse:
    dispute = _dispute_or_404(request, dispute_id)
    try:
        services.dispute_close(
            account=request.account,
            livemode=request.livemode,
            dispute=dispute,
            actor=request.user,
            context=RequestContext.from_request(request),
        )
    except PaymentError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Dispute accepted: the amount stays with the customer.")
    return redirect("payments:dispute_detail", account_slug, dispute.stripe_id)
