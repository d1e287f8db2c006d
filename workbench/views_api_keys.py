"""Workbench → API keys: list, create (the key shown once), roll and revoke."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from dashboard.permissions import requires
from dashboard.services import RequestContext
from workbench import api_keys
from workbench.models import ApiKey

ACCESS_CHOICES = [("", "None"), ("read", "Read"), ("write", "Write")]


# The forms live beside their only view (workbench/forms.py belongs to the Stripe settings).
class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Who uses it, e.g. “Billing backend”.")
    restricted = forms.BooleanField(required=False, label="Restricted key")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for resource, label in api_keys.API_RESOURCES.items():
            self.fields[f"perm_{resource}"] = forms.ChoiceField(
                choices=ACCESS_CHOICES, required=False, label=label
            )

    def permission_fields(self):
        return [self[f"perm_{resource}"] for resource in api_keys.API_RESOURCES]

    def permissions(self) -> dict[str, str] | None:
        if not self.cleaned_data["restricted"]:
            return None
        return {
            resource: self.cleaned_data[f"perm_{resource}"]
            for resource in api_keys.API_RESOURCES
            if self.cleaned_data.get(f"perm_{resource}")
        }


class ApiKeyRollForm(forms.Form):
    overlap = forms.ChoiceField(
        choices=[
            ("now", "Now"),
            ("1h", "In 1 hour"),
            ("24h", "In 24 hours"),
            ("7d", "In 7 days"),
        ]
    )


def _page(request: HttpRequest, *, form=None, new_secret: str = "", new_key=None, status=200):
    context = {
        "keys": list(api_keys.api_key_list(account=request.account, livemode=request.livemode)),
        "form": form or ApiKeyCreateForm(),
        "roll_form": ApiKeyRollForm(),
        "new_secret": new_secret,
        "new_key": new_key,
        "now": timezone.now(),
    }
    response = render(request, "workbench/api_keys/page.html", context, status=status)
    if new_secret:
        # The only response that ever carries the key: never cached anywhere.
        response["Cache-Control"] = "no-store"
    return response


@requires("developers.keys", title="API keys")
def api_key_list(request: HttpRequest, account_slug: str) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    form = ApiKeyCreateForm(request.POST)
    if form.is_valid():
        try:
            key, secret = api_keys.api_key_create(
                account=request.account,
                livemode=request.livemode,
                name=form.cleaned_data["name"],
                permissions=form.permissions(),
                actor=request.user,
                context=RequestContext.from_request(request),
            )
        except api_keys.ApiKeyError as error:
            form.add_error(None, str(error))
        else:
            return _page(request, new_secret=secret, new_key=key)
    return _page(request, form=form, status=400)


def _key(request: HttpRequest, key_id: str) -> ApiKey:
    key = api_keys.api_key_get(account=request.account, public_id=key_id)
    if key is None:
        raise Http404("No such API key.")
    return key


@require_POST
@requires("developers.keys")
def api_key_roll(request: HttpRequest, account_slug: str, key_id: str) -> HttpResponse:
    key = _key(request, key_id)
    form = ApiKeyRollForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose when the old key stops working.")
        return redirect("api_keys:list", account_slug=account_slug)
    try:
        new_key, secret = api_keys.api_key_roll(
            account=request.account,
            api_key=key,
            overlap=api_keys.ROLL_OVERLAPS[form.cleaned_data["overlap"]],
            actor=request.user,
            context=RequestContext.from_request(request),
        )
    except api_keys.ApiKeyError as error:
        messages.error(request, str(error))
        return redirect("api_keys:list", account_slug=account_slug)
    return _page(request, new_secret=secret, new_key=new_key)


@require_POST
@requires("developers.keys")
def api_key_revoke(request: HttpRequest, account_slug: str, key_id: str) -> HttpResponse:
    key = api_keys.api_key_revoke(
        account=request.account,
        api_key=_key(request, key_id),
        actor=request.user,
        context=RequestContext.from_request(request),
    )
    messages.success(request, f"Revoked {key.hint}: requests with it now get 401.")
    return redirect("api_keys:list", account_slug=account_slug)
