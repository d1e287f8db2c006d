from django.urls import include, path

urlpatterns = [
    path("", include("dashboard.urls")),
    path("", include("workbench.urls")),
    path("", include("payments.urls")),
    path("", include("connect.urls")),
    path("", include("billing.urls")),
    path("", include("reporting.urls")),
    path("", include("workbench.urls_api_keys")),
    path("api/", include("paydesk.api_urls")),
]
