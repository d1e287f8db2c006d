"""Routes of the payments app, as full paths (account pages under a/<slug:account_slug>/).

Each block belongs to one area; add routes inside your area's block only.
"""

from django.urls import path  # noqa: F401

import payments.views_balances as balances_views
import payments.views_disputes as views_disputes
from payments import views_customers, views_payments

app_name = "payments"

urlpatterns: list = [
    # --- balances, payouts, top-ups ---
    path("a/<slug:account_slug>/balances/", balances_views.balances, name="balances"),
    path(
        "a/<slug:account_slug>/balances/history/",
        balances_views.balance_history,
        name="balance_history",
    ),
    path("a/<slug:account_slug>/balances/payouts/", balances_views.payouts, name="payouts"),
    path(
        "a/<slug:account_slug>/balances/payouts/new/",
        balances_views.payout_create,
        name="payout_create",
    ),
    path(
        "a/<slug:account_slug>/balances/payouts/<str:payout_id>/",
        balances_views.payout_detail,
        name="payout_detail",
    ),
    path(
        "a/<slug:account_slug>/balances/payouts/<str:payout_id>/cancel/",
        balances_views.payout_cancel,
        name="payout_cancel",
    ),
    path("a/<slug:account_slug>/balances/topups/", balances_views.topups, name="topups"),
    path(
        "a/<slug:account_slug>/balances/topups/new/",
        balances_views.topup_create,
        name="topup_create",
    ),
    # --- end balances ---
    # --- transactions, payment detail, customers ---
    path("a/<slug:account_slug>/payments/", views_payments.payment_list, name="payment_list"),
    path(
        "a/<slug:account_slug>/payments/<str:payment_id>/",
        views_payments.payment_detail,
        name="payment_detail",
    ),
    path(
        "a/<slug:account_slug>/payments/<str:payment_id>/refund/",
        views_payments.payment_refund,
        name="payment_refund",
    ),
    path(
        "a/<slug:account_slug>/payments/<str:payment_id>/capture/",
        views_payments.payment_capture,
        name="payment_capture",
    ),
    path(
        "a/<slug:account_slug>/payments/<str:payment_id>/cancel/",
        views_payments.payment_cancel,
        name="payment_cancel",
    ),
    path("a/<slug:account_slug>/customers/", views_customers.customer_list, name="customer_list"),
    path(
        "a/<slug:account_slug>/customers/new/",
        views_customers.customer_create,
        name="customer_create",
    ),
    path(
        "a/<slug:account_slug>/customers/<str:customer_id>/",
        views_customers.customer_detail,
        name="customer_detail",
    ),
    path(
        "a/<slug:account_slug>/customers/<str:customer_id>/edit/",
        views_customers.customer_edit,
        name="customer_edit",
    ),
    path(
        "a/<slug:account_slug>/customers/<str:customer_id>/cards/",
        views_customers.customer_card_add,
        name="customer_card_add",
    ),
    path(
        "a/<slug:account_slug>/customers/<str:customer_id>/cards/<str:payment_method_id>/detach/",
        views_customers.customer_card_detach,
        name="customer_card_detach",
    ),
    path(
        "a/<slug:account_slug>/customers/<str:customer_id>/charge/",
        views_customers.customer_charge,
        name="customer_charge",
    ),
    # --- end transactions ---
    # --- disputes ---
    path("a/<slug:account_slug>/disputes/", views_disputes.dispute_list, name="dispute_list"),
    path(
        "a/<slug:account_slug>/disputes/<str:dispute_id>/",
        views_disputes.dispute_detail,
        name="dispute_detail",
    ),
    path(
        "a/<slug:account_slug>/disputes/<str:dispute_id>/evidence/",
        views_disputes.dispute_evidence,
        name="dispute_evidence",
    ),
    path(
        "a/<slug:account_slug>/disputes/<str:dispute_id>/accept/",
        views_disputes.dispute_accept,
        name="dispute_accept",
    ),
    # --- end disputes ---
]
