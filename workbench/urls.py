"""Routes of the workbench app, as full paths (account pages under a/<slug:account_slug>/)."""

from django.urls import path

from workbench import views, views_workbench

app_name = "workbench"

settings_stripe = "a/<slug:account_slug>/settings/stripe/"
workbench = "a/<slug:account_slug>/workbench/"

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
    # --- workbench pages ---
    path(f"{workbench}", views_workbench.index, name="index"),
    path(f"{workbench}logs/", views_workbench.request_logs, name="request_logs"),
    path(f"{workbench}logs/<str:log_id>/", views_workbench.request_log_detail, name="request_log"),
    path(f"{workbench}events/", views_workbench.events, name="events"),
    path(
        f"{workbench}events/replay-failed/",
        views_workbench.events_replay_failed,
        name="events_replay_failed",
    ),
    path(f"{workbench}events/<str:event_id>/", views_workbench.event_detail, name="event_detail"),
    path(
        f"{workbench}events/<str:event_id>/replay/",
        views_workbench.event_replay,
        name="event_replay",
    ),
    path(f"{workbench}webhooks/", views_workbench.webhooks, name="webhooks"),
    path(
        f"{workbench}webhooks/<uuid:endpoint_id>/roll/",
        views_workbench.webhook_roll,
        name="webhook_roll",
    ),
    # --- end workbench pages ---
]
