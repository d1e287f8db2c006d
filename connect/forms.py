"""Forms of the Connect pages and the Express dashboard.

Amounts are typed in major units and converted to integer minor units with
`payments.forms.minor_units` (no float is ever involved).
"""

from __future__ import annotations

from django import forms

from connect.models import ExpressSettings
from connect.selectors import AccountFilters
from connect.services import ACCOUNT_TYPES, INTERVALS, REJECT_REASONS, WEEKDAYS
from payments.forms import minor_units

REJECT_LABELS = {"fraud": "Fraud", "terms_of_service": "Terms of service", "other": "Other"}


class AccountFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=200)
    country = forms.CharField(required=False, max_length=2)
    type = forms.ChoiceField(
        required=False, choices=[("", "Any type")] + [(t, t.title()) for t in ACCOUNT_TYPES]
    )

    def filters(self) -> AccountFilters:
        if not self.is_valid():
            return AccountFilters()
        data = self.cleaned_data
        return AccountFilters(
            query=data["q"].strip(), country=data["country"].strip(), type=data["type"]
        )


class AccountCreateForm(forms.Form):
    type = forms.ChoiceField(choices=[(t, t.title()) for t in ACCOUNT_TYPES], initial="express")
    country = forms.CharField(max_length=2, initial="US")
    email = forms.EmailField(required=False, label="Seller's email")
    business_name = forms.CharField(required=False, max_length=200, label="Business name")

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise forms.ValidationError("A two-letter country code, like US.")
        return country


class PayoutScheduleForm(forms.Form):
    interval = forms.ChoiceField(choices=[(i, i.title()) for i in INTERVALS])
    weekly_anchor = forms.ChoiceField(
        required=False, choices=[("", "—")] + [(d, d.title()) for d in WEEKDAYS]
    )
    monthly_anchor = forms.IntegerField(required=False, min_value=1, max_value=31)


class AmountForm(forms.Form):
    amount = forms.CharField(max_length=20)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self) -> int:
        amount = minor_units(self.cleaned_data["amount"], self.currency)
        if amount <= 0:
            raise forms.ValidationError("Enter an amount above zero.")
        return amount


class TransferForm(AmountForm):
    description = forms.CharField(required=False, max_length=200)
    transfer_group = forms.CharField(
        required=False, max_length=200, help_text="Ties the transfer to an order's charges."
    )


class ReverseForm(forms.Form):
    amount = forms.CharField(max_length=20, required=False, help_text="Empty: all that is left.")

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self) -> int | None:
        raw = self.cleaned_data["amount"].strip()
        return minor_units(raw, self.currency) if raw else None


class RejectForm(forms.Form):
    reason = forms.ChoiceField(choices=[(r, REJECT_LABELS[r]) for r in REJECT_REASONS])


class ExpressSettingsForm(forms.ModelForm):
    class Meta:
        model = ExpressSettings
        fields = [
            "payout_schedule_enabled",
            "manual_payouts_enabled",
            "refunds_enabled",
            "disputes_enabled",
            "payment_description",
            "transfer_description",
            "payout_description",
        ]
        labels = {
            "payout_schedule_enabled": "Sellers can change their payout schedule",
            "manual_payouts_enabled": "Sellers can request manual payouts",
            "refunds_enabled": "Show refunds",
            "disputes_enabled": "Show disputes",
        }
        help_texts = {"payment_description": "{platform} is replaced by your platform's name."}
