"""Routes of Workbench → API keys (mounted from paydesk/urls.py)."""

from django.urls import path

from workbench import views_api_keys

app_name = "api_keys"

base = "a/<slug:account_slug>/workbench/api-keys/"

urlpatterns = [
    path(base, views_api_keys.api_key_list, name="list"),
    path(f"{base}<str:key_id>/roll/", views_api_keys.api_key_roll, name="roll"),
    path(f"{base}<str:key_id>/revoke/", views_api_keys.api_key_revoke, name="revoke"),
]
