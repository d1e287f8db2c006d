from django.urls import path

from connect import express_views, views

app_name = "connect"

ACCOUNT = "a/<slug:account_slug>/connect/"
CONNECTED = ACCOUNT + "accounts/<str:connected_account_id>/"
EXPRESS = "express/<str:connected_account_id>/"

urlpatterns = [
    path(ACCOUNT, views.account_list, name="account_list"),
    path(ACCOUNT + "accounts/new/", views.account_create, name="account_create"),
    path(ACCOUNT + "settings/express/", views.express_settings, name="express_settings"),
    path(
        ACCOUNT + "transfers/<str:transfer_id>/reverse/",
        views.transfer_reverse,
        name="transfer_reverse",
    ),
    path(CONNECTED, views.account_detail, name="account_detail"),
    path(CONNECTED + "payout-schedule/", views.payout_schedule_update, name="payout_schedule"),
    path(CONNECTED + "transfers/", views.transfer_create, name="transfer_create"),
    path(CONNECTED + "reject/", views.account_reject, name="account_reject"),
    path(CONNECTED + "login-links/", views.login_link_create, name="login_link_create"),
    path(CONNECTED + "express/", views.express_open, name="express_open"),
    # The Express dashboard: its own URL space and session (connect.express_views).
    path("express/login/<slug:platform>/<str:token>/", express_views.login, name="express_login"),
    path(EXPRESS, express_views.home, name="express_home"),
    path(EXPRESS + "payouts/", express_views.payouts, name="express_payouts"),
    path(
        EXPRESS + "payouts/schedule/", express_views.payout_schedule, name="express_payout_schedule"
    ),
    path(EXPRESS + "payouts/new/", express_views.payout_create, name="express_payout_create"),
    path(EXPRESS + "transactions/", express_views.transactions, name="express_transactions"),
    path(EXPRESS + "payments/", express_views.payments, name="express_payments"),
    path(
        EXPRESS + "payments/<str:payment_id>/",
        express_views.payment_detail,
        name="express_payment_detail",
    ),
    path(EXPRESS + "refunds/", express_views.refunds_and_disputes, name="express_refunds"),
    path(EXPRESS + "logout/", express_views.logout, name="express_logout"),
]
