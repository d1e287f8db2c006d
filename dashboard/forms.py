from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from dashboard.models import Account, User
from dashboard.roles import Role


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


TIMEZONE_CHOICES = [(zone, zone) for zone in sorted(zoneinfo.available_timezones())]


class AccountDetailsForm(forms.Form):
    """The account's details and branding; saved through services.account_update."""

    name = forms.CharField(max_length=120)
    display_name = forms.CharField(
        max_length=120, required=False, help_text="Shown in the console instead of the name."
    )
    icon = forms.CharField(max_length=8, required=False, help_text="An emoji or up to 2 letters.")
    primary_color = forms.RegexField(
        label="Primary colour",
        regex=r"^#[0-9a-fA-F]{6}$",
        error_messages={"invalid": "A colour like #635bff."},
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    country = forms.RegexField(
        regex=r"^[A-Za-z]{2}$",
        error_messages={"invalid": "A two-letter ISO country code, like US or DE."},
        help_text="Two-letter ISO code.",
    )
    default_currency = forms.RegexField(
        regex=r"^[A-Za-z]{3}$",
        error_messages={"invalid": "A three-letter ISO currency code, like usd or eur."},
        help_text="Three-letter ISO code.",
    )
    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES)

    FIELDS = ("name", "display_name", "icon", "primary_color", "country", "default_currency")

    @classmethod
    def for_account(cls, account: Account, data=None) -> AccountDetailsForm:
        initial = {field: getattr(account, field) for field in (*cls.FIELDS, "timezone")}
        return cls(data, initial=initial)

    def clean_country(self) -> str:
        return self.cleaned_data["country"].upper()

    def clean_default_currency(self) -> str:
        return self.cleaned_data["default_currency"].lower()

    def clean_primary_color(self) -> str:
        return self.cleaned_data["primary_color"].lower()


class InviteForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField()

    def __init__(self, *args, roles: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles
        self.fields["role"].initial = Role.VIEW_ONLY


class MemberForm(forms.Form):
    """Names a member by email: the console never shows integer ids."""

    member = forms.EmailField()


class RoleChangeForm(MemberForm):
    role = forms.ChoiceField(choices=Role.choices)


class SignUpForm(forms.Form):
    """Creates the login of an invited address that has none yet."""

    name = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict:
        cleaned = super().clean()
        password, again = cleaned.get("password1"), cleaned.get("password2")
        if password and again and password != again:
            self.add_error("password2", "The two passwords differ.")
        elif password:
            candidate = User(email=self.email, name=cleaned.get("name", ""))
            try:
                password_validation.validate_password(password, user=candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class SecurityFilterForm(forms.Form):
    """The security history's filters: a plain GET form."""

    actor = forms.ChoiceField(label="User", required=False)
    action = forms.ChoiceField(required=False)

    def __init__(
        self,
        *args,
        actors: list[tuple[str, str]],
        actions: list[tuple[str, str]],
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [("", "All users"), *actors]
        self.fields["action"].choices = [("", "All actions"), *actions]

    def filters(self) -> dict:
        """The valid filters; an unknown value (a stale link) filters on nothing."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"actor_email": data.get("actor", ""), "action": data.get("action", "")}
