"""The REST API's plumbing, shared by every app's `api.py`: API-key authentication, the
tenant scope around the whole request, Stripe-like errors, idempotency, the per-key rate
limit, cursor pagination and the incoming request log.

Every endpoint subclasses `ApiView` and names its `api_resource` (what a restricted key
may be limited to). The view finds the key by its hash, then runs authentication,
permissions, the handler and the rendering of the response inside
`scope(account=key.account)`, so a forgotten filter fails loudly instead of leaking.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django_scopes import scope
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard.permissions import PUBLIC, SELF_AUTHENTICATED, public
from dashboard.services import RequestContext
from workbench import api_keys
from workbench.models import ApiIdempotencyRecord, ApiKey

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
_KEY_CACHE = "_paydesk_api_key"


# --- Errors -----------------------------------------------------------------------------


class ApiError(exceptions.APIException):
    """An error answered as Stripe does: {"error": {"type", "code", "message", "param"}}."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 400,
        type: str = "invalid_request_error",
        code: str = "",
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = dict(headers or {})


def not_found(resource: str, object_id: str, param: str = "id") -> ApiError:
    return ApiError(
        f"No such {resource}: '{object_id}'",
        status_code=404,
        code="resource_missing",
        param=param,
    )


def _first_validation_error(detail: Any, prefix: str = "") -> tuple[str, str, str]:
    """(param, message, code) of the first field error, with Stripe's nested-param names."""
    if isinstance(detail, Mapping):
        for name, value in detail.items():
            name = "" if name == "non_field_errors" else str(name)
            param = f"{prefix}[{name}]" if prefix and name else (name or prefix)
            return _first_validation_error(value, param)
    if isinstance(detail, list) and detail:
        return _first_validation_error(detail[0], prefix)
    code = getattr(detail, "code", "invalid")
    return prefix, str(detail), code


def _validation_error(exc: exceptions.ValidationError) -> ApiError:
    param, message, code = _first_validation_error(exc.detail)
    if code == "required":
        return ApiError(f"Missing required param: {param}.", code="parameter_missing", param=param)
    if not param:
        return ApiError(message, code="parameter_invalid")
    if code in {"invalid", "null", "blank"} and message.startswith("Unknown"):
        return ApiError(message, code="parameter_unknown", param=param)
    return ApiError(f"Invalid {param}: {message}", code="parameter_invalid", param=param)


def _as_api_error(exc: Exception) -> ApiError | None:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, exceptions.ValidationError):
        return _validation_error(exc)
    if isinstance(exc, exceptions.ParseError):
        return ApiError(f"Invalid JSON body: {exc.detail}", code="parameter_invalid")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return ApiError(
            "Send the request body as JSON (Content-Type: application/json).",
            status_code=415,
            code="unsupported_media_type",
        )
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return ApiError(
            str(exc.detail), status_code=401, code=getattr(exc, "paydesk_code", "api_key_invalid")
        )
    if isinstance(exc, exceptions.PermissionDenied):
        return ApiError(str(exc.detail), status_code=403, code="permission_denied")
    if isinstance(exc, exceptions.NotFound):
        return ApiError(str(exc.detail), status_code=404, code="resource_missing")
    if isinstance(exc, exceptions.MethodNotAllowed):
        return ApiError(str(exc.detail), status_code=405, code="method_not_allowed")
    if isinstance(exc, exceptions.Throttled):
        wait = max(1, int(exc.wait or 1))
        return ApiError(
            "Too many requests hit the API too quickly. Retry after the Retry-After seconds.",
            status_code=429,
            type="rate_limit_error",
            code="rate_limit",
            headers={"Retry-After": str(wait)},
        )
    if isinstance(exc, exceptions.APIException):
        return ApiError(str(exc.detail), status_code=exc.status_code, code=exc.default_code)
    return None


def error_body(error: ApiError) -> dict[str, Any]:
    return {
        "error": {
            "type": error.type,
            "code": error.code,
            "message": error.message,
            "param": error.param,
        }
    }


def api_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    error = _as_api_error(exc)
    if error is None:
        logger.exception("API request failed", exc_info=exc)
        error = ApiError(
            "Something went wrong on our side; nothing may have been done. Retry later.",
            status_code=500,
            type="api_error",
            code="internal_error",
        )
    return Response(error_body(error), status=error.status_code, headers=error.headers)


# --- Authentication ---------------------------------------------------------------------


class _Unauthenticated(exceptions.AuthenticationFailed):
    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.paydesk_code = code


def _secret_from(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, secret = header.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def find_api_key(secret: str) -> ApiKey | None:
    """The key whose hash matches `secret`, whatever its account, or None.

    The one query on a tenant model outside a scope, on purpose: the key *is* the
    credential that names the tenant, so there is no account to scope by until it is found.
    Everything after this runs inside `scope(account=key.account)`.
    """
    if not secret.startswith(api_keys.KEY_PREFIXES):
        return None
    return (
        ApiKey.objects.with_scopes_disabled()
        .select_related("account")
        .filter(key_hash=api_keys.key_hash(secret))
        .first()
    )


def _resolve(request: HttpRequest) -> tuple[ApiKey | None, exceptions.APIException | None]:
    """The request's key, or why there is none; computed once per request."""
    cached = getattr(request, _KEY_CACHE, None)
    if cached is not None:
        return cached
    secret = _secret_from(request)
    if not secret:
        result = (
            None,
            _Unauthenticated(
                "You did not provide an API key. Send it as `Authorization: Bearer pd_sk_…`.",
                "api_key_missing",
            ),
        )
    else:
        key = find_api_key(secret)
        if key is None:
            result = (None, _Unauthenticated("Invalid API key provided.", "api_key_invalid"))
        elif key.revoked_at is not None:
            result = (None, _Unauthenticated("This API key was revoked.", "api_key_revoked"))
        elif not key.is_active():
            result = (
                None,
                _Unauthenticated(
                    "This API key expired (it was rolled). Use its replacement.",
                    "api_key_expired",
                ),
            )
        else:
            result = (key, None)
    setattr(request, _KEY_CACHE, result)
    return result


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer pd_sk_…` (or a restricted `pd_rk_…`)."""

    def authenticate(self, request: Request) -> tuple[Any, ApiKey]:
        key, problem = _resolve(request._request)
        if problem is not None:
            raise problem
        api_keys.api_key_touch(api_key=key)
        # No team member acts through the API: the key itself is the credential.
        return (AnonymousUser(), key)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="Paydesk API"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "workbench.api_auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A secret key (`pd_sk_test_…`) or restricted key (`pd_rk_test_…`) "
            "from Workbench → API keys.",
        }


class ApiKeyPermission(BasePermission):
    """A restricted key reaches only the resources it was given, reading or writing."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return False
        resource = view.api_resource
        write = request.method not in SAFE_METHODS
        if key.allows(resource=resource, write=write):
            return True
        raise ApiError(
            f"This restricted key has no {'write' if write else 'read'} access to {resource}.",
            status_code=403,
            code="permission_denied",
        )


class JSONOnlyNegotiation(BaseContentNegotiation):
    """Answers JSON whatever the Accept header says, as Stripe does."""

    def select_parser(self, request, parsers):
        for parser in parsers:
            if parser.media_type == request.content_type.split(";")[0].strip():
                return parser
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


# --- The base view ----------------------------------------------------------------------


def _valid_idempotency_key(key: str) -> bool:
    # It is stored, logged and sent on to Stripe as a header: plain printable ASCII only.
    return len(key) <= 255 and key.isascii() and key.isprintable()


def _loggable_idempotency_key(request: HttpRequest) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    return key if request.method == "POST" and _valid_idempotency_key(key) else ""


class _Replay(Exception):
    def __init__(self, record: ApiIdempotencyRecord):
        self.record = record


class ApiView(APIView):
    """The base of every `/api/v1/` endpoint."""

    paydesk_permission = SELF_AUTHENTICATED
    api_resource: str = ""
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [ApiKeyPermission]
    throttle_classes: list = []
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONOnlyNegotiation

    def dispatch(self, request: HttpRequest, *args, **kwargs):
        started = time.monotonic()
        self.request_id = f"req_{secrets.token_urlsafe(12)}"
        self.idempotency_record: ApiIdempotencyRecord | None = None
        self.replayed = False
        key, _ = _resolve(request)
        if key is None:
            response = super().dispatch(request, *args, **kwargs)
            response.render()
        else:
            with scope(account=key.account):
                response = super().dispatch(request, *args, **kwargs)
                # A file download streams and has nothing to render.
                if hasattr(response, "render"):
                    response.render()
                self._keep_for_replay(response)
        response["Request-Id"] = self.request_id
        if key is not None:
            self._log(request, key, response, started)
        return response

    def get_exception_handler(self):
        return api_exception_handler

    @property
    def api_key(self) -> ApiKey:
        return self.request.auth

    @property
    def livemode(self) -> bool:
        return self.api_key.livemode

    @property
    def account(self):
        return self.api_key.account

    def context(self) -> RequestContext:
        """Who acted, for the audit log: the key (no team member acts through the API)."""
        base = RequestContext.from_request(self.request._request)
        agent = f"API key {self.api_key.public_id} ({self.api_key.hint}); {base.user_agent}"
        return RequestContext(ip_address=base.ip_address, user_agent=agent[:512])

    def idempotency_key(self) -> str | None:
        """The client's Idempotency-Key, scoped to the key, for the Stripe call too."""
        key = self.request.headers.get("Idempotency-Key", "").strip()
        return f"paydesk-api-{self.api_key.public_id}-{key}" if key else None

    # DRF calls this after authentication and permissions: the rate limit comes next.
    def check_throttles(self, request: Request) -> None:
        key = request.auth
        if isinstance(key, ApiKey):
            wait = api_keys.rate_limit_hit(api_key=key, write=request.method not in SAFE_METHODS)
            if wait:
                raise exceptions.Throttled(wait=wait)

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or request.method != "POST":
            return
        if not _valid_idempotency_key(key):
            raise ApiError(
                "Idempotency-Key takes up to 255 printable ASCII characters.",
                type="idempotency_error",
                code="idempotency_key_invalid",
            )
        outcome = api_keys.idempotency_begin(
            api_key=request.auth,
            key=key,
            fingerprint=api_keys.request_fingerprint(
                method=request.method, path=request.path, body=request._request.body
            ),
        )
        if outcome.conflict == "mismatch":
            raise ApiError(
                "Keys for idempotent requests can only be used with the same parameters "
                "they were first used with. Try a new key for a different request.",
                type="idempotency_error",
                code="idempotency_key_in_use",
            )
        if outcome.conflict == "in_progress":
            raise ApiError(
                "A request with this Idempotency-Key is still running. Retry shortly.",
                status_code=409,
                type="idempotency_error",
                code="idempotency_key_in_progress",
            )
        if outcome.replay is not None:
            raise _Replay(outcome.replay)
        self.idempotency_record = outcome.record

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replay):
            self.replayed = True
            return Response(
                json.loads(exc.record.body),
                status=exc.record.status,
                headers={"Idempotent-Replayed": "true"},
            )
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            # DRF would add WWW-Authenticate itself; the status stays 401 either way.
            response = api_exception_handler(exc, {"view": self})
            response["WWW-Authenticate"] = ApiKeyAuthentication().authenticate_header(self.request)
            return response
        return super().handle_exception(exc)

    def _keep_for_replay(self, response) -> None:
        if self.idempotency_record is not None:
            api_keys.idempotency_finish(
                record=self.idempotency_record,
                status=response.status_code,
                body=response.content.decode(),
            )
            self.idempotency_record = None

    def _log(self, request: HttpRequest, key: ApiKey, response, started: float) -> None:
        match = request.resolver_match
        route = "/" + (match.route if match else request.path.lstrip("/"))
        for converter in ("<str:", "<slug:", "<int:"):
            route = route.replace(converter, "{")
        route = route.replace(">", "}")
        error = getattr(response, "data", None)
        error = error.get("error") if isinstance(error, dict) else None
        api_keys.incoming_log_record(
            api_key=key,
            method=request.method,
            endpoint=route,
            status=response.status_code,
            duration_ms=round((time.monotonic() - started) * 1000),
            request_id=self.request_id,
            idempotency_key=_loggable_idempotency_key(request),
            idempotent_replayed=self.replayed,
            error_type=str(error.get("type") or "") if isinstance(error, dict) else "",
            error_code=str(error.get("code") or "") if isinstance(error, dict) else "",
        )


# --- Lists ------------------------------------------------------------------------------


class ListParams(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT, help_text="1 to 100."
    )
    starting_after = serializers.CharField(
        required=False, help_text="An object id: the page after it (newer to older)."
    )
    ending_before = serializers.CharField(
        required=False, help_text="An object id: the page before it."
    )

    def validate(self, data):
        if data.get("starting_after") and data.get("ending_before"):
            raise serializers.ValidationError(
                {"ending_before": "Give starting_after or ending_before, not both."}
            )
        return data


def list_params(request: Request, serializer_class: type[serializers.Serializer] = ListParams):
    params = serializer_class(data=request.query_params)
    params.is_valid(raise_exception=True)
    return params.validated_data


def _cursor_row(queryset: QuerySet, object_id: str, param: str) -> Model:
    row = queryset.filter(stripe_id=object_id[:255]).only("id", "created").first()
    if row is None:
        raise ApiError(f"No such object: '{object_id}'", code="resource_missing", param=param)
    return row


def cursor_page(
    queryset: QuerySet, *, limit: int, starting_after: str = "", ending_before: str = ""
) -> tuple[list[Model], bool]:
    """Newest first by (created, id); cursors are object ids as at Stripe. Returns the rows
    and whether more exist beyond them in the direction of travel."""
    if ending_before:
        pivot = _cursor_row(queryset, ending_before, "ending_before")
        rows = list(
            queryset.filter(
                Q(created__gt=pivot.created) | Q(created=pivot.created, id__gt=pivot.id)
            ).order_by("created", "id")[: limit + 1]
        )
        return list(reversed(rows[:limit])), len(rows) > limit
    ordered = queryset.order_by("-created", "-id")
    if starting_after:
        pivot = _cursor_row(queryset, starting_after, "starting_after")
        ordered = ordered.filter(
            Q(created__lt=pivot.created) | Q(created=pivot.created, id__lt=pivot.id)
        )
    rows = list(ordered[: limit + 1])
    return rows[:limit], len(rows) > limit


def list_response(
    request: Request,
    queryset: QuerySet,
    serializer_class: type[serializers.Serializer],
    params: Mapping[str, Any],
) -> Response:
    rows, has_more = cursor_page(
        queryset,
        limit=params["limit"],
        starting_after=params.get("starting_after", ""),
        ending_before=params.get("ending_before", ""),
    )
    return Response(
        {
            "object": "list",
            "url": request.path,
            "has_more": has_more,
            "data": serializer_class(rows, many=True).data,
        }
    )


def get_or_404(queryset: QuerySet, object_id: str, resource: str, param: str = "id") -> Model:
    # Postgres refuses NUL in text: such an id cannot exist, so it is simply not found.
    if "\x00" in object_id or len(object_id) > 255:
        raise not_found(resource, object_id[:255].replace("\x00", ""), param)
    row = queryset.filter(stripe_id=object_id).first()
    if row is None:
        raise not_found(resource, object_id, param)
    return row


# --- Serializer pieces and schema helpers -----------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class UnixTimeField(serializers.Field):
    """Times as Stripe gives them: seconds since the epoch."""

    def to_representation(self, value):
        return int(value.timestamp()) if value else None


@extend_schema_field({"type": "string", "nullable": True})
class NullableText(serializers.Field):
    """A mirror column that holds "" for Stripe's null."""

    def to_representation(self, value):
        return value or None


class ErrorDetail(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=[
            "api_error",
            "card_error",
            "idempotency_error",
            "invalid_request_error",
            "rate_limit_error",
        ]
    )
    code = serializers.CharField()
    message = serializers.CharField()
    param = serializers.CharField(allow_null=True)


class ErrorObject(serializers.Serializer):
    error = ErrorDetail()


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorObject, description=description)


COMMON_ERRORS = {
    400: _error("Invalid request: a missing or invalid parameter, or an idempotency error."),
    401: _error("No API key, or an invalid, revoked or expired key."),
    403: _error("A restricted key without access to this resource."),
    404: _error("No such object in this account (and mode)."),
    429: _error("Too many requests: retry after the `Retry-After` seconds."),
}
WRITE_ERRORS = {
    **COMMON_ERRORS,
    402: _error("Stripe refused the card (card_error)."),
    409: _error("The same Idempotency-Key is still being processed."),
    415: _error("The body is not JSON."),
    502: _error("Stripe could not be reached or answered with an error."),
}
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Makes a retry safe: the same key and body within 24 hours answer the same "
    "response (with `Idempotent-Replayed: true`), without doing the action twice.",
)


def responses(ok: Any, *, write: bool = False, status_code: int = 200) -> dict:
    return {status_code: ok, **(WRITE_ERRORS if write else COMMON_ERRORS)}


def list_of(item: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    """The schema of a Stripe list of `item`."""
    return type(
        f"{name}List",
        (serializers.Serializer,),
        {
            "object": serializers.CharField(help_text='Always "list".'),
            "url": serializers.CharField(),
            "has_more": serializers.BooleanField(),
            "data": item(many=True),
        },
    )


# --- The schema, the docs page, and unknown endpoints -----------------------------------

SCHEMA_SETTINGS = {
    "TITLE": "Paydesk API",
    "DESCRIPTION": (
        "The REST API of Paydesk, for the platform's own backend. Authenticate with an API "
        "key from Workbench → API keys: `Authorization: Bearer pd_sk_test_…`. The key's mode "
        "(test or live) decides which data you see. Conventions follow Stripe's: amounts in "
        "minor units with a currency, Stripe ids, cursor lists (`limit`, `starting_after`, "
        "`ending_before`, `has_more`), `Idempotency-Key` on POSTs (kept 24 hours), errors as "
        '`{"error": {"type", "code", "message", "param"}}` and a per-key rate limit (429 '
        "with `Retry-After`)."
    ),
    "VERSION": "1.0.0",
    "COMPONENT_SPLIT_REQUEST": True,
    "SECURITY": [{"ApiKey": []}],
}


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 schema of /api/v1/ (public: it describes, it gives no access)."""

    paydesk_permission = PUBLIC
    authentication_classes: list = []
    permission_classes = [AllowAny]
    custom_settings = SCHEMA_SETTINGS


@public
def docs(request: HttpRequest) -> HttpResponse:
    """Swagger UI over the schema, from files vendored under static/vendor/swagger-ui/."""
    return render(request, "api/docs.html", {"schema_url": "/api/schema/?format=json"})


@public
@csrf_exempt
def unknown_endpoint(request: HttpRequest) -> JsonResponse:
    error = ApiError(
        f"Unrecognized request URL ({request.method}: {request.path}).",
        status_code=404,
        code="resource_missing",
    )
    return JsonResponse(error_body(error), status=404)
