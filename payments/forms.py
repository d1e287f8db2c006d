"""Forms of the transactions and customers pages: filters, actions, customer details.

Amounts are typed in major units ("25" or "25.00") and converted to integer minor units
with `dashboard.money.to_minor`; no float is ever involved.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django import forms

from dashboard.models import Account
from dashboard.money import to_minor
from payments.selectors import CustomerFilters, PaymentDisplayStatus, PaymentListFilters
from payments.services import ADDRESS_FIELDS

CARD_BRANDS = [
    ("visa", "Visa"),
    ("mastercard", "Mastercard"),
    ("amex", "American Express"),
    ("discover", "Discover"),
    ("jcb", "JCB"),
    ("diners", "Diners Club"),
    ("unionpay", "UnionPay"),
]
REFUND_REASONS = [
    ("", "No reason given"),
    ("requested_by_customer", "Requested by customer"),
    ("duplicate", "Duplicate"),
    ("fraudulent", "Fraudulent"),
]
CANCELLATION_REASONS = [
    ("", "No reason given"),
    ("requested_by_customer", "Requested by customer"),
    ("duplicate", "Duplicate"),
    ("fraudulent", "Fraudulent"),
    ("abandoned", "Abandoned"),
]
# Stripe's test PaymentMethods: the console sends only these ids, never a card number.
TEST_CARDS = [
    ("pm_card_visa", "Visa •••• 4242 — succeeds"),
    ("pm_card_mastercard", "Mastercard •••• 4444 — succeeds"),
    ("pm_card_amex", "American Express •••• 0005 — succeeds"),
    ("pm_card_chargeDeclined", "Visa •••• 0002 — always declined"),
    ("pm_card_chargeDeclinedInsufficientFunds", "Visa •••• 9995 — insufficient funds"),
    ("pm_card_authenticationRequired", "Visa •••• 3155 — requires 3D Secure"),
]
YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]


def minor_units(value: str, currency: str) -> int:
    """'25' or '25.00' in `currency` -> 2500; a ValidationError for anything else."""
    try:
        amount = Decimal(value.strip().replace(",", ""))
        if not amount.is_finite():
            raise InvalidOperation
        return to_minor(amount, currency)
    except (InvalidOperation, ValueError) as error:
        raise forms.ValidationError(
            f"Enter an amount in {currency.upper()}, like 25 or 25.00."
        ) from error


def start_of_day(day, account: Account) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zoneinfo.ZoneInfo(account.timezone))


def yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class DateInput(forms.DateInput):
    input_type = "date"


class AccountForm(forms.Form):
    def __init__(self, *args, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account


class PaymentFilterForm(AccountForm):
    status = forms.ChoiceField(
        choices=[("", "All statuses"), *PaymentDisplayStatus.CHOICES], required=False
    )
    created_from = forms.DateField(label="From", required=False, widget=DateInput)
    created_to = forms.DateField(label="To", required=False, widget=DateInput)
    amount_min = forms.CharField(label="Amount from", required=False, max_length=20)
    amount_max = forms.CharField(label="Amount to", required=False, max_length=20)
    currency = forms.CharField(required=False, max_length=3)
    card_brand = forms.ChoiceField(
        label="Card brand", choices=[("", "Any brand"), *CARD_BRANDS], required=False
    )
    customer = forms.CharField(
        required=False, max_length=255, widget=forms.TextInput(attrs={"placeholder": "cus_…"})
    )

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().lower()
        if currency and (len(currency) != 3 or not currency.isalpha()):
            raise forms.ValidationError("Give a three-letter currency code.")
        return currency

    def _amount(self, name: str) -> int | None:
        value = self.data.get(name, "").strip()
        if not value:
            return None
        currency = self.cleaned_data.get("currency") or self.account.default_currency
        try:
            return minor_units(value, currency)
        except forms.ValidationError as error:
            self.add_error(name, error)
            return None

    def filters(self) -> PaymentListFilters:
        """The valid filters; an invalid one is reported on the form and left out."""
        self.is_valid()
        data = self.cleaned_data
        day_from, day_to = data.get("created_from"), data.get("created_to")
        return PaymentListFilters(
            status=data.get("status") or "",
            customer=(data.get("customer") or "").strip(),
            currency=data.get("currency") or "",
            card_brand=data.get("card_brand") or "",
            amount_min=self._amount("amount_min"),
            amount_max=self._amount("amount_max"),
            created_from=start_of_day(day_from, self.account) if day_from else None,
            created_to=start_of_day(day_to + timedelta(days=1), self.account) if day_to else None,
        )


class CustomerFilterForm(AccountForm):
    email = forms.CharField(required=False, max_length=512)
    name = forms.CharField(required=False, max_length=256)
    created_from = forms.DateField(label="Created from", required=False, widget=DateInput)
    created_to = forms.DateField(label="Created to", required=False, widget=DateInput)
    has_payment_method = forms.ChoiceField(
        label="Has a payment method", choices=YES_NO, required=False
    )
    delinquent = forms.ChoiceField(choices=YES_NO, required=False)

    def filters(self) -> CustomerFilters:
        self.is_valid()
        data = self.cleaned_data
        day_from, day_to = data.get("created_from"), data.get("created_to")
        return CustomerFilters(
            email=data.get("email") or "",
            name=data.get("name") or "",
            created_from=start_of_day(day_from, self.account) if day_from else None,
            created_to=start_of_day(day_to + timedelta(days=1), self.account) if day_to else None,
            has_payment_method=yes_no(data.get("has_payment_method") or ""),
            delinquent=yes_no(data.get("delinquent") or ""),
        )


class MoneyForm(forms.Form):
    """An optional amount in the payment's currency; blank means the whole amount."""

    amount = forms.CharField(required=False, max_length=20)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self) -> int | None:
        value = self.cleaned_data["amount"].strip()
        if not value:
            return None
        amount = minor_units(value, self.currency)
        if amount <= 0:
            raise forms.ValidationError("Enter an amount above zero.")
        return amount


class RefundForm(MoneyForm):
    reason = forms.ChoiceField(choices=REFUND_REASONS, required=False)


class CaptureForm(MoneyForm):
    pass


class CancelForm(forms.Form):
    reason = forms.ChoiceField(choices=CANCELLATION_REASONS, required=False)


class CustomerForm(forms.Form):
    """A customer's details, address and metadata (key/value rows, two spare)."""

    name = forms.CharField(required=False, max_length=256)
    email = forms.EmailField(required=False, max_length=512)
    phone = forms.CharField(required=False, max_length=64)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    line1 = forms.CharField(label="Address line 1", required=False, max_length=200)
    line2 = forms.CharField(label="Address line 2", required=False, max_length=200)
    city = forms.CharField(required=False, max_length=100)
    state = forms.CharField(label="State or region", required=False, max_length=100)
    postal_code = forms.CharField(required=False, max_length=20)
    country = forms.CharField(
        required=False, max_length=2, help_text="Two-letter country code, like US."
    )

    SPARE_METADATA_ROWS = 2

    def __init__(self, *args, metadata: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        rows = len(metadata or {}) + self.SPARE_METADATA_ROWS
        if self.is_bound:
            rows = max(rows, sum(1 for name in self.data if name.startswith("metadata_key_")))
        for index in range(rows):
            self.fields[f"metadata_key_{index}"] = forms.CharField(
                label="Key", required=False, max_length=40
            )
            self.fields[f"metadata_value_{index}"] = forms.CharField(
                label="Value", required=False, max_length=500
            )
        for index, (key, value) in enumerate((metadata or {}).items()):
            self.initial.setdefault(f"metadata_key_{index}", key)
            self.initial.setdefault(f"metadata_value_{index}", value)

    @classmethod
    def for_customer(cls, customer, data=None) -> CustomerForm:
        address = customer.data.get("address") or {}
        initial = {
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "description": customer.description,
            **{name: address.get(name) or "" for name in ADDRESS_FIELDS},
        }
        return cls(data, initial=initial, metadata=customer.data.get("metadata") or {})

    def metadata_rows(self):
        index = 0
        while f"metadata_key_{index}" in self.fields:
            yield self[f"metadata_key_{index}"], self[f"metadata_value_{index}"]
            index += 1

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()

    def clean(self):
        data = super().clean()
        metadata = {}
        for index, (key_field, _) in enumerate(self.metadata_rows()):
            key = (data.get(key_field.name) or "").strip()
            value = (data.get(f"metadata_value_{index}") or "").strip()
            if key and key in metadata:
                self.add_error(key_field.name, f"The key {key!r} is there twice.")
            elif key:
                metadata[key] = value
            elif value:
                self.add_error(key_field.name, "Give this value a key.")
        data["metadata"] = metadata
        return data

    @property
    def details(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in ("name", "email", "phone", "description")}

    @property
    def address(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in ADDRESS_FIELDS}


class AddTestCardForm(forms.Form):
    test_card = forms.ChoiceField(label="Test card", choices=TEST_CARDS)
    make_default = forms.BooleanField(label="Make it the default card", required=False)


class ChargeForm(forms.Form):
    amount = forms.CharField(max_length=20)
    currency = forms.CharField(max_length=3)
    description = forms.CharField(required=False, max_length=500)
    payment_method = forms.ChoiceField(label="Card")

    def __init__(self, *args, payment_methods, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payment_method"].choices = [
            (
                method.stripe_id,
                f"{method.card_brand.title()} •••• {method.card_last4} "
                f"(expires {method.card_exp_month:02d}/{method.card_exp_year})"
                if method.card_exp_month
                else f"{method.card_brand.title()} •••• {method.card_last4}",
            )
            for method in payment_methods
        ]

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().lower()
        if len(currency) != 3 or not currency.isalpha():
            raise forms.ValidationError("Give a three-letter currency code.")
        return currency

    def clean(self):
        data = super().clean()
        if "currency" in data and data.get("amount"):
            try:
                data["amount"] = minor_units(data["amount"], data["currency"])
            except forms.ValidationError as error:
                self.add_error("amount", error)
                return data
            if data["amount"] <= 0:
                self.add_error("amount", "Enter an amount above zero.")
        return data
