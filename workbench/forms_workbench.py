"""Filter forms of the Workbench pages. Dates are days in the account's time zone."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

from django import forms

from dashboard.models import Account
from workbench.models import Event
from workbench.selectors import EventFilters, RequestLogFilters

METHODS = [("", "Any method"), ("GET", "GET"), ("POST", "POST"), ("DELETE", "DELETE")]
STATUSES = [
    ("", "Any status"),
    ("2xx", "2xx succeeded"),
    ("4xx", "4xx refused"),
    ("5xx", "5xx failed"),
    ("error", "No response"),
]


class DateInput(forms.DateInput):
    input_type = "date"


def _bounds(account: Account, start: date | None, end: date | None):
    zone = zoneinfo.ZoneInfo(account.timezone)
    begins = datetime.combine(start, time.min, tzinfo=zone) if start else None
    ends = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone) if end else None
    return begins, ends


class RequestLogFilterForm(forms.Form):
    method = forms.ChoiceField(choices=METHODS, required=False)
    path = forms.CharField(label="Endpoint", required=False, max_length=200)
    status = forms.CharField(required=False, max_length=5, widget=forms.Select(choices=STATUSES))
    error_type = forms.CharField(label="Error type", required=False, max_length=100)
    created_from = forms.DateField(label="From", required=False, widget=DateInput)
    created_to = forms.DateField(label="To", required=False, widget=DateInput)

    def filters(self, account: Account) -> RequestLogFilters:
        self.is_valid()
        data = self.cleaned_data
        begins, ends = _bounds(account, data.get("created_from"), data.get("created_to"))
        return RequestLogFilters(
            method=data.get("method") or "",
            path=(data.get("path") or "").strip(),
            status=(data.get("status") or "").strip().lower(),
            error_type=(data.get("error_type") or "").strip(),
            created_from=begins,
            created_to=ends,
        )


class EventFilterForm(forms.Form):
    type = forms.CharField(required=False, max_length=100, help_text="Exact, or a prefix: charge.*")
    status = forms.ChoiceField(choices=[("", "Any status"), *Event.Status.choices], required=False)
    created_from = forms.DateField(label="From", required=False, widget=DateInput)
    created_to = forms.DateField(label="To", required=False, widget=DateInput)

    def filters(self, account: Account) -> EventFilters:
        self.is_valid()
        data = self.cleaned_data
        begins, ends = _bounds(account, data.get("created_from"), data.get("created_to"))
        return EventFilters(
            type=(data.get("type") or "").strip(),
            status=data.get("status") or "",
            created_from=begins,
            created_to=ends,
        )


class RollSecretForm(forms.Form):
    secret = forms.CharField(
        label="New signing secret",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="whsec_…, after rolling the secret of this endpoint in the Stripe Dashboard.",
        max_length=255,
    )
