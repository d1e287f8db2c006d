"""The header search box: live results (htmx dropdown) and the full results page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from dashboard import search
from dashboard.permissions import requires

DROPDOWN_LIMIT = 5
PAGE_LIMIT = 25


@requires("dashboard.view", title="Search")
def search_results(request: HttpRequest, account_slug: str) -> HttpResponse:
    query = search.parse_query(request.GET.get("q", ""), tz=request.account.timezone)
    groups = search.search(
        account=request.account,
        livemode=request.livemode,
        role=request.membership.role,
        query=query,
        limit=DROPDOWN_LIMIT if request.htmx else PAGE_LIMIT,
    )
    jump = search.single_match(groups) if query.stripe_id else None
    if jump is not None and not request.htmx:
        # A pasted id opens the object, as in the Stripe Dashboard.
        return redirect(jump.url)
    template = "dashboard/search.html#dropdown" if request.htmx else "dashboard/search.html"
    return render(request, template, {"query": query, "groups": groups})
