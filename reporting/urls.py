"""Routes of the reporting app, as full paths (account pages under a/<slug:account_slug>/)."""

from django.urls import path

from reporting import views_reports

app_name = "reporting"

reports = "a/<slug:account_slug>/reports/"

urlpatterns: list = [
    # --- reports and exports ---
    path(reports, views_reports.reports_index, name="index"),
    path(f"{reports}balance-summary/", views_reports.balance_summary, name="balance_summary"),
    path(
        f"{reports}payout-reconciliation/",
        views_reports.payout_reconciliation,
        name="payout_reconciliation",
    ),
    path(f"{reports}exports/", views_reports.export_list, name="export_list"),
    path(f"{reports}exports/new/", views_reports.export_new, name="export_new"),
    path(f"{reports}exports/<str:run_id>/", views_reports.export_detail, name="export_detail"),
    path(
        f"{reports}exports/<str:run_id>/download/",
        views_reports.export_download,
        name="export_download",
    ),
    path(f"{reports}scheduled/", views_reports.scheduled_list, name="scheduled_list"),
    path(f"{reports}scheduled/new/", views_reports.scheduled_create, name="scheduled_create"),
    path(
        f"{reports}scheduled/<str:report_id>/subscription/",
        views_reports.scheduled_subscribe,
        name="scheduled_subscribe",
    ),
    # --- end reports and exports ---
]
