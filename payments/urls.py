"""Routes of the payments app, as full paths (account pages under a/<slug:account_slug>/).

Each block belongs to one area; add routes inside your area's block only.
"""

from django.urls import path  # noqa: F401

app_name = "payments"

urlpatterns: list = [
    # --- balances, payouts, top-ups ---
    # --- end balances ---
    # --- transactions, payment detail, customers ---
    # --- end transactions ---
    # --- disputes ---
    # --- end disputes ---
]
