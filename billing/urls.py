"""Routes of the billing app, as full paths (account pages under a/<slug:account_slug>/)."""

from django.urls import path  # noqa: F401

app_name = "billing"

urlpatterns: list = [
    # --- product catalog ---
    # --- end product catalog ---
]
