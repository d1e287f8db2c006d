"""Routes of the billing app, as full paths (account pages under a/<slug:account_slug>/)."""

from django.urls import path

from billing import views

app_name = "billing"

urlpatterns: list = [
    # --- product catalog ---
    path("a/<slug:account_slug>/products/", views.product_list, name="product_list"),
    path("a/<slug:account_slug>/products/new/", views.product_create, name="product_create"),
    path(
        "a/<slug:account_slug>/products/<str:product_id>/",
        views.product_detail,
        name="product_detail",
    ),
    path(
        "a/<slug:account_slug>/products/<str:product_id>/edit/",
        views.product_edit,
        name="product_edit",
    ),
    path(
        "a/<slug:account_slug>/products/<str:product_id>/archive/",
        views.product_archive,
        name="product_archive",
    ),
    path(
        "a/<slug:account_slug>/products/<str:product_id>/prices/",
        views.price_add,
        name="price_add",
    ),
    path(
        "a/<slug:account_slug>/products/<str:product_id>/prices/<str:price_id>/default/",
        views.price_make_default,
        name="price_make_default",
    ),
    # --- end product catalog ---
]
