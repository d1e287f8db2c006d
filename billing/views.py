"""Product catalog pages: products with their prices, create, edit, archive, prices."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from billing import forms, selectors, services
from billing.models import Product
from billing.selectors import ProductTab
from dashboard.permissions import requires
from dashboard.services import RequestContext
from payments.selectors import InvalidCursor
from payments.services import PaymentError


def _product_or_404(request: HttpRequest, product_id: str) -> Product:
    product = selectors.product_get(
        account=request.account, livemode=request.livemode, product_id=product_id
    )
    if product is None:
        raise Http404("No such product.")
    return product


def _writer(request: HttpRequest) -> dict:
    return {
        "account": request.account,
        "livemode": request.livemode,
        "actor": request.user,
        "context": RequestContext.from_request(request),
    }


def _to_product(product: Product) -> HttpResponse:
    return redirect("billing:product_detail", product.account.slug, product.stripe_id)


@requires("catalog.view", title="Product catalog")
def product_list(request: HttpRequest, account_slug: str) -> HttpResponse:
    tab = request.GET.get("tab", ProductTab.ACTIVE)
    if tab not in dict(ProductTab.CHOICES):
        tab = ProductTab.ACTIVE
    try:
        page = selectors.product_list(
            account=request.account,
            livemode=request.livemode,
            tab=tab,
            after=request.GET.get("after"),
        )
    except InvalidCursor:
        return redirect(f"{request.path}?tab={tab}")
    context = {
        "page": page,
        "tab": tab,
        "tabs": ProductTab.CHOICES,
        "paged": "after" in request.GET,
    }
    template = "billing/product_list.html"
    return render(request, f"{template}#products" if request.htmx else template, context)


@requires("catalog.manage", title="Add a product")
def product_create(request: HttpRequest, account_slug: str) -> HttpResponse:
    form = forms.ProductCreateForm(
        request.POST or None, default_currency=request.account.default_currency
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            product = services.product_create_with_price(
                **_writer(request),
                name=data["name"],
                description=data["description"],
                unit_amount=data["unit_amount"],
                currency=data["currency"],
                recurring_interval=data["interval"],
            )
        except PaymentError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"{product.name} added to the catalog.")
            return _to_product(product)
    return render(request, "billing/product_create.html", {"form": form})


@requires("catalog.view", title="Product")
def product_detail(request: HttpRequest, account_slug: str, product_id: str) -> HttpResponse:
    product = _product_or_404(request, product_id)
    return render(
        request,
        "billing/product_detail.html",
        {
            "product": product,
            "price_form": forms.PriceForm(default_currency=request.account.default_currency),
        },
    )


@requires("catalog.manage", title="Edit product")
def product_edit(request: HttpRequest, account_slug: str, product_id: str) -> HttpResponse:
    product = _product_or_404(request, product_id)
    initial = {"name": product.name, "description": product.description}
    form = forms.ProductEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.product_update(**_writer(request), product=product, changes=form.cleaned_data)
        except PaymentError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Product saved.")
            return _to_product(product)
    return render(request, "billing/product_edit.html", {"product": product, "form": form})


@require_POST
@requires("catalog.manage")
def product_archive(request: HttpRequest, account_slug: str, product_id: str) -> HttpResponse:
    product = _product_or_404(request, product_id)
    archive = request.POST.get("active") != "1"
    change = services.product_archive if archive else services.product_unarchive
    try:
        change(**_writer(request), product=product)
    except PaymentError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Product archived." if archive else "Product restored.")
    return _to_product(product)


@require_POST
@requires("catalog.manage")
def price_add(request: HttpRequest, account_slug: str, product_id: str) -> HttpResponse:
    product = _product_or_404(request, product_id)
    form = forms.PriceForm(request.POST, default_currency=request.account.default_currency)
    if form.is_valid():
        try:
            services.price_create(
                **_writer(request),
                product=product,
                unit_amount=form.cleaned_data["unit_amount"],
                currency=form.cleaned_data["currency"],
                recurring_interval=form.cleaned_data["interval"],
            )
        except PaymentError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Price added.")
            return _to_product(product)
    context = {"product": product, "price_form": form}
    return render(request, "billing/product_detail.html", context, status=400)


@require_POST
@requires("catalog.manage")
def price_make_default(
    request: HttpRequest, account_slug: str, product_id: str, price_id: str
) -> HttpResponse:
    product = _product_or_404(request, product_id)
    price = selectors.price_get(account=request.account, product=product, price_id=price_id)
    if price is None:
        raise Http404("No such price.")
    try:
        services.product_set_default_price(**_writer(request), product=product, price=price)
    except PaymentError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Default price changed.")
    return _to_product(product)
