"""The REST API, mounted at /api/ by paydesk/urls.py: resources under v1/, the OpenAPI
schema at schema/ and browsable docs at docs/.

Every API view declares SELF_AUTHENTICATED (workbench.api_auth.ApiView): it authenticates
by API key and checks its own permissions; the schema and docs are public.
"""

from django.urls import include, path, re_path

from connect import api as connect_api
from payments import api as payments_api
from reporting import api as reporting_api
from workbench import api_auth

v1 = [
    path("customers", payments_api.CustomerListView.as_view()),
    path("customers/<str:customer_id>", payments_api.CustomerDetailView.as_view()),
    path("payment_methods", payments_api.PaymentMethodListView.as_view()),
    path(
        "payment_methods/<str:payment_method_id>/attach",
        payments_api.PaymentMethodAttachView.as_view(),
    ),
    path(
        "payment_methods/<str:payment_method_id>/detach",
        payments_api.PaymentMethodDetachView.as_view(),
    ),
    path("payment_intents", payments_api.PaymentIntentListView.as_view()),
    path("payment_intents/<str:payment_intent_id>", payments_api.PaymentIntentDetailView.as_view()),
    path(
        "payment_intents/<str:payment_intent_id>/capture",
        payments_api.PaymentIntentCaptureView.as_view(),
    ),
    path(
        "payment_intents/<str:payment_intent_id>/cancel",
        payments_api.PaymentIntentCancelView.as_view(),
    ),
    path("refunds", payments_api.RefundListView.as_view()),
    path("balance", payments_api.BalanceView.as_view()),
    path("balance_transactions", payments_api.BalanceTransactionListView.as_view()),
    path("payouts", payments_api.PayoutListView.as_view()),
    path("payouts/<str:payout_id>", payments_api.PayoutDetailView.as_view()),
    path("disputes", payments_api.DisputeListView.as_view()),
    path("disputes/<str:dispute_id>", payments_api.DisputeDetailView.as_view()),
    path("disputes/<str:dispute_id>/close", payments_api.DisputeCloseView.as_view()),
    path("accounts", connect_api.ConnectedAccountListView.as_view()),
    path("accounts/<str:account_id>", connect_api.ConnectedAccountDetailView.as_view()),
    path("accounts/<str:account_id>/login_links", connect_api.LoginLinkCreateView.as_view()),
    path("transfers", connect_api.TransferListView.as_view()),
    path("transfers/<str:transfer_id>", connect_api.TransferDetailView.as_view()),
    path("exports", reporting_api.ExportCreateView.as_view()),
    path("exports/<str:export_id>", reporting_api.ExportDetailView.as_view()),
    path("exports/<str:export_id>/file", reporting_api.ExportFileView.as_view()),
]

urlpatterns = [
    path("v1/", include(v1)),
    # Anything else under v1/ answers a Stripe-like 404 instead of the HTML error page.
    re_path(r"^v1/", api_auth.unknown_endpoint),
    path(
        "schema/",
        api_auth.SchemaView.as_view(patterns=[path("api/v1/", include(v1))]),
        name="api_schema",
    ),
    path("docs/", api_auth.docs, name="api_docs"),
]
