"""Forms of the reports pages: an export's columns and format, a period, a saved report."""

from __future__ import annotations

from django import forms

from reporting.exports import ExportError, ExportSource, metadata_keys_parse
from reporting.models import ReportFormat, ReportFrequency

# Query parameters of a list page that are not filters (pagination, the export's own).
NOT_FILTERS = frozenset({"after", "before", "source", "page", "csrfmiddlewaretoken"})


def filters_from_query(query) -> dict[str, str]:
    """The list page's filters from its query string, as stored on the run."""
    return {
        name: value
        for name, value in query.items()
        if name not in NOT_FILTERS and not name.startswith("x-") and value != ""
    }


class DateInput(forms.DateInput):
    input_type = "date"


class ExportForm(forms.Form):
    columns = forms.MultipleChoiceField(
        choices=[], widget=forms.CheckboxSelectMultiple, required=False
    )
    metadata_keys = forms.CharField(
        label="Metadata keys",
        required=False,
        max_length=400,
        help_text="Optional, separated by commas: order_id, plan. Each becomes a column.",
    )
    format = forms.ChoiceField(
        choices=ReportFormat.choices, initial=ReportFormat.CSV, widget=forms.RadioSelect
    )

    def __init__(self, *args, source: ExportSource, **kwargs):
        super().__init__(*args, **kwargs)
        self.source = source
        self.fields["columns"].choices = [(c.key, c.title) for c in source.columns]
        self.fields["columns"].initial = source.default_columns
        if source.metadata_path is None:
            del self.fields["metadata_keys"]

    def clean_metadata_keys(self) -> list[str]:
        try:
            return metadata_keys_parse(self.cleaned_data.get("metadata_keys", ""))
        except ExportError as error:
            raise forms.ValidationError(str(error))

    def clean(self):
        data = super().clean()
        if not data.get("columns") and not data.get("metadata_keys"):
            raise forms.ValidationError("Choose at least one column.")
        return data


class PeriodForm(forms.Form):
    start = forms.DateField(label="From", required=False, widget=DateInput)
    end = forms.DateField(label="To", required=False, widget=DateInput)

    def filters(self) -> dict[str, str]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            key: data[name].isoformat()
            for key, name in (("from", "start"), ("to", "end"))
            if data.get(name)
        }


SCHEDULED_SOURCES = [
    ("balance_activity", "Balance summary (itemised)"),
    ("payout_reconciliation", "Payout reconciliation (itemised)"),
]


class SavedReportForm(forms.Form):
    name = forms.CharField(max_length=120)
    source = forms.ChoiceField(label="Report", choices=SCHEDULED_SOURCES)
    frequency = forms.ChoiceField(choices=ReportFrequency.choices)
    format = forms.ChoiceField(choices=ReportFormat.choices, initial=ReportFormat.CSV)
    subscribe = forms.BooleanField(
        label="Email me a link to each run", required=False, initial=True
    )
