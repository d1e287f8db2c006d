"""Forms of the product catalog pages.

Prices are typed in major units ("25" or "25.00") and turned into integer minor units with
`dashboard.money.to_minor`; no float is ever involved.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms

from dashboard.money import decimals_for, to_minor

INTERVALS = [
    ("", "One time"),
    ("day", "Every day"),
    ("week", "Every week"),
    ("month", "Every month"),
    ("year", "Every year"),
]


class PriceFields(forms.Form):
    """A price: amount in major units, currency, one-time or recurring."""

    amount = forms.CharField(label="Price", max_length=20, help_text='In major units: "25.00".')
    currency = forms.CharField(max_length=3, initial="usd")
    interval = forms.ChoiceField(label="Billing", choices=INTERVALS, required=False)

    price_required = True

    def __init__(self, *args, default_currency: str = "usd", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].initial = default_currency
        self.fields["amount"].required = self.price_required

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().lower()
        if len(currency) != 3 or not currency.isalpha():
            raise forms.ValidationError("Give a three-letter currency code, like usd.")
        return currency

    def clean(self):
        cleaned = super().clean()
        raw = (cleaned.get("amount") or "").strip()
        currency = cleaned.get("currency")
        cleaned["unit_amount"] = None
        if not raw or not currency:
            return cleaned
        try:
            amount = Decimal(raw.replace(",", ""))
            if not amount.is_finite() or amount < 0:
                raise InvalidOperation
            cleaned["unit_amount"] = to_minor(amount, currency)
        except (InvalidOperation, ValueError):
            places = decimals_for(currency)
            example = "25" if places == 0 else "25." + "0" * places
            self.add_error(
                "amount",
                f"Give an amount of 0 or more with at most {places} decimals, like {example}.",
            )
        return cleaned


class PriceForm(PriceFields):
    pass


class ProductCreateForm(PriceFields):
    name = forms.CharField(max_length=250)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    price_required = False
    field_order = ["name", "description", "amount", "currency", "interval"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].help_text = "Optional: the first price, which becomes the default."


class ProductEditForm(forms.Form):
    name = forms.CharField(max_length=250)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
