"""Routes of the workbench app, as full paths (account pages under a/<slug:account_slug>/)."""

from django.urls import path

from workbench import views

app_name = "workbench"

settings_stripe = "a/<slug:account_slug>/settings/stripe/"

urlpatterns = [
    path("webhooks/stripe/<uuid:endpoint_id>/", views.webhook, name="webhook"),
    path(settings_stripe, views.stripe_settings, name="stripe_settings"),
    path(f"{settings_stripe}connect/", views.stripe_connect, name="stripe_connect"),
    path(f"{settings_stripe}sandbox/", views.stripe_connect_sandbox, name="stripe_sandbox"),
    path(f"{settings_stripe}disconnect/", views.stripe_disconnect, name="stripe_disconnect"),
    path(
        f"{settings_stripe}webhooks/<uuid:endpoint_id>/secret/",
        views.webhook_secret,
        name="webhook_secret",
    ),
    path(
        f"{settings_stripe}webhooks/<uuid:endpoint_id>/register/",
        views.webhook_register,
        name="webhook_register",
    ),
]
