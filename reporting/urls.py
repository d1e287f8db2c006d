"""Routes of the reporting app, as full paths (account pages under a/<slug:account_slug>/)."""

from django.urls import path  # noqa: F401

app_name = "reporting"

urlpatterns: list = []
