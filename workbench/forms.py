from __future__ import annotations

from django import forms


class SecretKeyForm(forms.Form):
    secret_key = forms.CharField(
        label="Secret key",
        # Never echoed back into the page, not even after a failed attempt.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="sk_test_…, sk_live_… or a restricted rk_… key with read access to Account.",
        max_length=255,
    )


class SigningSecretForm(forms.Form):
    secret = forms.CharField(
        label="Signing secret",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="whsec_…, from the endpoint's page in the Stripe Dashboard.",
        max_length=255,
    )
