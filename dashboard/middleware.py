from __future__ import annotations

import logging

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django_scopes import scope

from dashboard.models import Account, Membership
from dashboard.permissions import AUTHENTICATED, MARKERS, declared_permission, declared_title
from dashboard.roles import role_can

logger = logging.getLogger(__name__)


class TenantMiddleware:
    """Resolves `/a/<account_slug>/…`, checks membership and role, and runs the whole
    response (template rendering included) inside that account's scope.

    Outside an account URL no scope is active, so any query on a tenant-owned model raises:
    a forgotten check fails loudly instead of leaking another tenant's rows.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.account = None
        request.membership = None
        request.livemode = True
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)

        action = declared_permission(match.func)
        if action is None:
            logger.error("view %s declares no permission; refusing", match.view_name)
            raise PermissionDenied("This page declares no permission.")

        slug = match.kwargs.get("account_slug")
        if slug is None:
            if action == AUTHENTICATED and not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            return self.get_response(request)

        if action in MARKERS - {AUTHENTICATED}:
            # An account page must name a real action from the role matrix.
            raise PermissionDenied("This page declares no account permission.")
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())

        account = Account.objects.filter(slug=slug).first()
        if account is None:
            raise Http404("No such account.")
        with scope(account=account):
            membership = Membership.objects.filter(user=request.user).first()
            # Not a member: the account does not exist as far as this user can tell.
            if membership is None:
                raise Http404("No such account.")
            if action != AUTHENTICATED and not role_can(membership.role, action):
                raise PermissionDenied("Your role does not allow this.")
            request.account = account
            request.membership = membership
            request.livemode = membership.livemode
            request.page_title = declared_title(match.func)
            response = self.get_response(request)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            self._remember_visit(request, response)
        return response

    @staticmethod
    def _remember_visit(request: HttpRequest, response: HttpResponse) -> None:
        from dashboard.services import recent_page_record

        if (
            request.method == "GET"
            and response.status_code == 200
            and not request.htmx
            and getattr(request, "page_title", None)
        ):
            recent_page_record(
                account=request.account,
                user=request.user,
                path=request.get_full_path(),
                title=request.page_title,
            )
