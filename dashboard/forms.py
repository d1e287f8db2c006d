from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from dashboard.models import Account


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class AccountCreateForm(forms.Form):
    name = forms.CharField(max_length=120)
    slug = forms.SlugField(
        max_length=50, help_text="Used in URLs: /a/<slug>/. Lowercase letters, digits, dashes."
    )
    country = forms.CharField(max_length=2, initial="US")
    default_currency = forms.CharField(max_length=3, initial="usd")
    timezone_name = forms.ChoiceField(
        label="Timezone",
        initial="UTC",
        choices=[(z, z) for z in sorted(zoneinfo.available_timezones())],
    )

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].lower()
        if Account.objects.filter(slug=slug).exists():
            raise forms.ValidationError("That slug is taken.")
        return slug


class PinForm(forms.Form):
    path = forms.CharField(max_length=500)
    title = forms.CharField(max_length=120)

    def __init__(self, *args, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_path(self) -> str:
        path = self.cleaned_data["path"]
        # Only this account's own pages: no other tenant, no external URL.
        if not path.startswith(f"/a/{self.account.slug}/"):
            raise forms.ValidationError("Only pages of this account can be pinned.")
        return path
