"""The Connect resources of the REST API (/api/v1/): connected accounts, login links to
their Express dashboards, and transfers to them. Same services as the Connect pages."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from connect import selectors_api, services
from connect.models import AccountStatus, ConnectedAccount
from payments.api import (
    CURRENCY,
    MAX_AMOUNT,
    MetadataMixin,
    PaymentsApiView,
    StrictSerializer,
    StripeObjectSerializer,
    body,
)
from workbench.api_auth import (
    IDEMPOTENCY_HEADER,
    ListParams,
    NullableText,
    get_or_404,
    list_of,
    list_params,
    list_response,
    responses,
)

# --- Serializers ------------------------------------------------------------------------


class ConnectedAccountSerializer(StripeObjectSerializer):
    object_name = "account"
    type = serializers.CharField()
    status = serializers.ChoiceField(
        choices=AccountStatus.values, help_text="As Stripe's dashboard shows it."
    )
    country = NullableText()
    email = NullableText()
    business_name = NullableText()
    default_currency = NullableText()
    charges_enabled = serializers.BooleanField()
    payouts_enabled = serializers.BooleanField()
    details_submitted = serializers.BooleanField()
    requirements = serializers.SerializerMethodField()

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_requirements(self, row) -> dict[str, Any]:
        return row.requirements or {}


class LoginLinkSerializer(serializers.Serializer):
    object = serializers.CharField(help_text='Always "login_link".')
    created = serializers.IntegerField()
    expires_at = serializers.IntegerField()
    url = serializers.URLField(help_text="Single use; open it within five minutes.")


class TransferSerializer(StripeObjectSerializer, MetadataMixin):
    object_name = "transfer"
    amount = serializers.IntegerField()
    amount_reversed = serializers.IntegerField()
    currency = serializers.CharField()
    destination = NullableText(source="destination_stripe_id")
    destination_payment = NullableText(source="destination_payment_stripe_id")
    source_transaction = NullableText(source="source_transaction_stripe_id")
    transfer_group = NullableText()
    description = NullableText()
    reversed = serializers.BooleanField()


class ConnectedAccountListParams(ListParams):
    status = serializers.ChoiceField(choices=AccountStatus.values, required=False)


class TransferIn(StrictSerializer):
    amount = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT)
    currency = serializers.RegexField(**CURRENCY)
    destination = serializers.CharField(max_length=255, help_text="A connected account (acct_…).")
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    transfer_group = serializers.CharField(max_length=255, required=False, allow_blank=True)


class TransferListParams(ListParams):
    destination = serializers.CharField(required=False, max_length=255)


# --- Views ------------------------------------------------------------------------------


class ConnectedAccountApiView(PaymentsApiView):
    api_resource = "connected_accounts"

    def connected(self, account_id: str) -> ConnectedAccount:
        queryset = selectors_api.connected_accounts(account=self.account, livemode=self.livemode)
        return get_or_404(queryset, account_id, "account")


class ConnectedAccountListView(ConnectedAccountApiView):
    @extend_schema(
        operation_id="accounts_list",
        tags=["Connect"],
        parameters=[ConnectedAccountListParams],
        responses=responses(list_of(ConnectedAccountSerializer, "ConnectedAccount")),
    )
    def get(self, request: Request) -> Response:
        params = list_params(request, ConnectedAccountListParams)
        queryset = selectors_api.connected_accounts(
            account=self.account, livemode=self.livemode, status=params.get("status", "")
        )
        return list_response(request, queryset, ConnectedAccountSerializer, params)


class ConnectedAccountDetailView(ConnectedAccountApiView):
    @extend_schema(
        operation_id="accounts_retrieve",
        tags=["Connect"],
        responses=responses(ConnectedAccountSerializer),
    )
    def get(self, request: Request, account_id: str) -> Response:
        return Response(ConnectedAccountSerializer(self.connected(account_id)).data)


class LoginLinkCreateView(ConnectedAccountApiView):
    @extend_schema(
        operation_id="accounts_login_links_create",
        tags=["Connect"],
        description="A single-use link, valid for five minutes, that signs the connected "
        "account's owner in to its Express dashboard. Hand it over at once; never store it.",
        request=None,
        parameters=[IDEMPOTENCY_HEADER],
        responses=responses(LoginLinkSerializer, write=True),
    )
    def post(self, request: Request, account_id: str) -> Response:
        link, path = services.login_link_create(
            account=self.account,
            connected_account=self.connected(account_id),
            actor=None,
            context=self.context(),
        )
        return Response(
            {
                "object": "login_link",
                "created": int(link.created.timestamp()),
                "expires_at": int(link.expires_at.timestamp()),
                "url": request.build_absolute_uri(path),
            }
        )


class TransferListView(PaymentsApiView):
    api_resource = "transfers"

    @extend_schema(
        operation_id="transfers_list",
        tags=["Connect"],
        parameters=[TransferListParams],
        responses=responses(list_of(TransferSerializer, "Transfer")),
    )
    def get(self, request: Request) -> Response:
        params = list_params(request, TransferListParams)
        queryset = selectors_api.transfers(
            account=self.account, livemode=self.livemode, destination=params.get("destination", "")
        )
        return list_response(request, queryset, TransferSerializer, params)

    @extend_schema(
        operation_id="transfers_create",
        tags=["Connect"],
        description="Moves funds from the platform's balance to a connected account.",
        request=TransferIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses=responses(TransferSerializer, write=True),
    )
    def post(self, request: Request) -> Response:
        params = body(request, TransferIn)
        destination = get_or_404(
            selectors_api.connected_accounts(account=self.account, livemode=self.livemode),
            params["destination"],
            "account",
            param="destination",
        )
        transfer = services.transfer_create(
            account=self.account,
            connected_account=destination,
            amount=params["amount"],
            currency=params["currency"],
            description=params.get("description", ""),
            transfer_group=params.get("transfer_group", ""),
            actor=None,
            context=self.context(),
            idempotency_key=self.idempotency_key(),
        )
        return Response(TransferSerializer(transfer).data)


class TransferDetailView(PaymentsApiView):
    api_resource = "transfers"

    @extend_schema(
        operation_id="transfers_retrieve", tags=["Connect"], responses=responses(TransferSerializer)
    )
    def get(self, request: Request, transfer_id: str) -> Response:
        queryset = selectors_api.transfers(account=self.account, livemode=self.livemode)
        return Response(TransferSerializer(get_or_404(queryset, transfer_id, "transfer")).data)
