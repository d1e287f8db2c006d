"""The Home page widgets, registered with dashboard.widgets from ReportingConfig.ready().

Volume and count widgets read the daily rollups once per request (shared through
`_totals`); the other widgets make one query each. Widgets render without the request
context (no context processors): each card is a plain fragment of the page.
"""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString

from dashboard.money import decimals_for
from dashboard.widgets import Period, register_activity_probe, register_widget
from payments.selectors_balances import balance_summary
from reporting import selectors

TEMPLATE = "reporting/widgets.html"


def _totals(request: HttpRequest, period: Period) -> selectors.RollupTotals:
    """One rollup read per request and period, however many widgets use it."""
    cache = request.__dict__.setdefault("_reporting_totals", {})
    key = (request.account.pk, request.livemode, period)
    if key not in cache:
        cache[key] = selectors.rollup_totals(
            account=request.account, livemode=request.livemode, period=period
        )
    return cache[key]


def _fragment(partial: str, context: dict) -> SafeString:
    return SafeString(render_to_string(f"{TEMPLATE}#{partial}", context))


def _url(name: str, *args: str) -> str:
    """A link to a page of another area when that page exists, else no link."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def buckets(days: list[date], series: list[int]) -> list[tuple[str, int]]:
    """The figures shown without JavaScript: per day up to a month, per week up to three
    months, per calendar month beyond."""
    if len(days) <= 31:
        return [(f"{day:%b} {day.day}", value) for day, value in zip(days, series, strict=True)]
    grouped: dict[date, int] = {}
    weekly = len(days) <= 92
    for index, (day, value) in enumerate(zip(days, series, strict=True)):
        first = days[index - index % 7] if weekly else day.replace(day=1)
        grouped[first] = grouped.get(first, 0) + value
    if weekly:
        return [(f"Week of {first:%b} {first.day}", value) for first, value in grouped.items()]
    return [(f"{first:%b %Y}", value) for first, value in grouped.items()]


def money_widget(measure: str, title: str):
    def render(request: HttpRequest, period: Period) -> SafeString:
        figures = _totals(request, period).money(measure)
        main = figures[0]
        chart = {
            "labels": [day.isoformat() for day in main.days],
            "values": main.series,
            "currency": main.currency,
            "decimals": decimals_for(main.currency),
            "title": title,
        }
        context = {
            "key": measure,
            "title": title,
            "figures": figures,
            "chart": chart,
            "chart_id": f"chart-data-{measure}",
            "daily": buckets(main.days, main.series),
            "period": period,
        }
        return _fragment("money", context)

    return render


def count_widget(measure: str, title: str):
    def render(request: HttpRequest, period: Period) -> SafeString:
        figure = _totals(request, period).figure(measure, None)
        return _fragment(
            "count", {"key": measure, "title": title, "figure": figure, "period": period}
        )

    return render


def render_disputes(request: HttpRequest, period: Period) -> SafeString:
    disputes, count = selectors.disputes_needing_response(
        account=request.account, livemode=request.livemode
    )
    rows = [
        (dispute, _url("payments:dispute_detail", request.account.slug, dispute.stripe_id))
        for dispute in disputes
    ]
    context = {"rows": rows, "count": count, "zone": request.account.timezone or "UTC"}
    return _fragment("disputes", context)


def render_top_customers(request: HttpRequest, period: Period) -> SafeString:
    customers = selectors.top_customers(
        account=request.account, livemode=request.livemode, period=period
    )
    rows = [
        (customer, _url("payments:customer_detail", request.account.slug, customer.stripe_id))
        for customer in customers
    ]
    return _fragment("top_customers", {"rows": rows})


def render_balances(request: HttpRequest, period: Period) -> SafeString:
    balances = balance_summary(account=request.account, livemode=request.livemode)
    link = _url("payments:balances", request.account.slug)
    return _fragment("balances", {"balances": balances, "link": link})


def has_activity(request: HttpRequest) -> bool:
    # Figures in the period shown answer it without another query.
    if any(not totals.empty for totals in request.__dict__.get("_reporting_totals", {}).values()):
        return True
    return selectors.has_activity(account=request.account, livemode=request.livemode)


def register() -> None:
    for order, (measure, title) in enumerate(
        [("gross_volume", "Gross volume"), ("net_volume", "Net volume")], start=1
    ):
        register_widget(
            measure,
            title=title,
            permission="payments.view",
            render=money_widget(measure, title),
            order=order * 10,
        )
    for order, (measure, title) in enumerate(
        [
            ("successful_payments", "Successful payments"),
            ("new_customers", "New customers"),
            ("failed_payments", "Failed payments"),
        ],
        start=3,
    ):
        register_widget(
            measure,
            title=title,
            permission="payments.view",
            render=count_widget(measure, title),
            order=order * 10,
        )
    register_widget(
        "disputes_needing_response",
        title="Disputes needing response",
        permission="disputes.view",
        render=render_disputes,
        order=60,
    )
    register_widget(
        "top_customers",
        title="Top customers by spend",
        permission="customers.view",
        render=render_top_customers,
        order=70,
    )
    register_widget(
        "balances",
        title="Balances",
        permission="balances.view",
        render=render_balances,
        order=80,
    )
    register_activity_probe(has_activity)
