"""Forms of the Balances pages. Amounts are typed in major units ("25" or "25.00") and
become integer minor units through `dashboard.money.to_minor`; no float is involved."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms

from dashboard.money import to_minor
from payments.selectors_balances import BALANCE_TRANSACTION_TYPES

PAYOUT_STATUSES = [
    ("", "All"),
    ("pending", "Pending"),
    ("in_transit", "In transit"),
    ("paid", "Paid"),
    ("failed", "Failed"),
    ("canceled", "Canceled"),
]


class MoneyMovementForm(forms.Form):
    """A payout or a top-up: amount, currency, description."""

    amount = forms.CharField(max_length=20, help_text="In the currency's units, like 25.00.")
    currency = forms.ChoiceField(choices=[])
    description = forms.CharField(max_length=255, required=False)

    def __init__(self, *args, currencies: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(code, code.upper()) for code in currencies]
        if currencies:
            self.fields["currency"].initial = currencies[0]

    def clean(self):
        cleaned = super().clean()
        amount, currency = cleaned.get("amount"), cleaned.get("currency")
        if amount is None or not currency:
            return cleaned
        try:
            value = Decimal(amount.strip().replace(",", ""))
            if not value.is_finite() or value <= 0:
                raise InvalidOperation
            cleaned["amount_minor"] = to_minor(value, currency)
        except (InvalidOperation, ValueError):
            self.add_error(
                "amount", f"Enter a positive amount in {currency.upper()}, like 25 or 25.00."
            )
        return cleaned


class HistoryFilterForm(forms.Form):
    type = forms.ChoiceField(
        choices=[("", "All types"), *BALANCE_TRANSACTION_TYPES], required=False
    )

    def filters(self) -> dict[str, str]:
        return {"type": self.cleaned_data.get("type", "")} if self.is_valid() else {}


class PayoutFilterForm(forms.Form):
    status = forms.ChoiceField(choices=PAYOUT_STATUSES, required=False)

    def filters(self) -> dict[str, str]:
        return {"status": self.cleaned_data.get("status", "")} if self.is_valid() else {}
