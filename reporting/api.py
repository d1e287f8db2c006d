"""Exports in the REST API (/api/v1/exports): ask for a list as CSV or XLSX, follow its
status, download the file with the same key. Same services as the Reports pages."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from payments.api import PaymentsApiView, StrictSerializer, body
from reporting import exports
from reporting.models import ReportFormat, ReportRun
from workbench.api_auth import (
    IDEMPOTENCY_HEADER,
    ApiError,
    NullableText,
    UnixTimeField,
    not_found,
    responses,
)

# Which API resource a restricted key needs to read to export each list.
SOURCE_RESOURCES = {
    "payments": "payments",
    "balance_transactions": "balance",
    "customers": "customers",
    "payouts": "payouts",
    "disputes": "disputes",
}


class ExportSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    object = serializers.SerializerMethodField()
    created = UnixTimeField()
    livemode = serializers.BooleanField()
    source = serializers.CharField()
    format = serializers.CharField()
    status = serializers.ChoiceField(choices=ReportRun.Status.values)
    rows_done = serializers.IntegerField()
    rows_total = serializers.IntegerField(allow_null=True)
    row_count = serializers.IntegerField(allow_null=True)
    error = NullableText()
    finished_at = UnixTimeField(allow_null=True)
    url = serializers.SerializerMethodField()

    def get_object(self, run) -> str:
        return "export"

    def get_url(self, run) -> str | None:
        """Where the finished file is downloaded, with the same API key."""
        if run.status != ReportRun.Status.SUCCEEDED:
            return None
        return self.context["request"].build_absolute_uri(f"/api/v1/exports/{run.public_id}/file")


class ExportIn(StrictSerializer):
    source = serializers.ChoiceField(choices=sorted(SOURCE_RESOURCES))
    format = serializers.ChoiceField(choices=ReportFormat.values, default=ReportFormat.CSV)
    filters = serializers.DictField(
        child=serializers.CharField(max_length=200, allow_blank=True),
        required=False,
        help_text='The list page\'s filters, e.g. {"status": "refunded"}.',
    )
    columns = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=50
    )
    metadata_keys = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=10
    )


class ExportApiView(PaymentsApiView):
    api_resource = "exports"

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, exports.ExportError):
            exc = ApiError(str(exc), code="parameter_invalid")
        return super().handle_exception(exc)

    def run(self, export_id: str) -> ReportRun:
        run = exports.report_run_get(account=self.account, public_id=export_id[:32])
        if run is None or run.livemode != self.livemode:
            raise not_found("export", export_id)
        return run

    def serialize(self, run: ReportRun) -> dict:
        return ExportSerializer(run, context={"request": self.request}).data


class ExportCreateView(ExportApiView):
    @extend_schema(
        operation_id="exports_create",
        tags=["Exports"],
        description="Queues an export of a list (what its page shows with these filters). "
        "Poll the export until `status` is `succeeded`, then download `url`.",
        request=ExportIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses=responses(ExportSerializer, write=True),
    )
    def post(self, request: Request) -> Response:
        params = body(request, ExportIn)
        resource = SOURCE_RESOURCES[params["source"]]
        if not self.api_key.allows(resource=resource, write=False):
            raise ApiError(
                f"This restricted key cannot read {resource}, so it cannot export them.",
                status_code=403,
                code="permission_denied",
            )
        source = exports.export_source(params["source"])
        run = exports.export_create(
            account=self.account,
            livemode=self.livemode,
            actor=None,
            source_key=params["source"],
            filters=params.get("filters") or {},
            columns=params.get("columns") or source.default_columns,
            metadata_keys=params.get("metadata_keys") or [],
            format=params["format"],
            context=self.context(),
        )
        return Response(self.serialize(run))


class ExportDetailView(ExportApiView):
    @extend_schema(
        operation_id="exports_retrieve", tags=["Exports"], responses=responses(ExportSerializer)
    )
    def get(self, request: Request, export_id: str) -> Response:
        return Response(self.serialize(self.run(export_id)))


class ExportFileView(ExportApiView):
    @extend_schema(
        operation_id="exports_file",
        tags=["Exports"],
        description="The finished file (CSV or XLSX).",
        responses=responses(OpenApiResponse(OpenApiTypes.BINARY, description="The export file.")),
    )
    def get(self, request: Request, export_id: str) -> HttpResponse:
        run = self.run(export_id)
        if run.status != ReportRun.Status.SUCCEEDED or not run.file:
            raise ApiError(
                f"Export {run.public_id} is {run.status}; download it once it has succeeded.",
                code="export_not_ready",
                param="id",
            )
        return exports.download_response(run=run)
