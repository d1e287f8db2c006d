"""Keeps Express sessions out of the console.

The Express cookie is scoped to `/express/`, so browsers never send it elsewhere; should a
request to a console account page (`/a/…`) carry it anyway, it gets a 404, whatever team
session it may also carry (fail closed).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

EXPRESS_COOKIE = "paydesk_express"


class ExpressIsolationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if EXPRESS_COOKIE in request.COOKIES and request.path_info.startswith("/a/"):
            raise Http404("No such page.")
        return self.get_response(request)
