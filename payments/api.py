"""The payments resources of the REST API (/api/v1/): customers, payment methods, payment
intents, refunds, balance, balance transactions, payouts and disputes.

Thin views over the same services the pages call (one code path): validate, call one
service or selector, serialise. Lists and lookups read the mirror of the key's account
and mode; another account's id is simply not found.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from payments import selectors_api, services, services_balances
from payments.models import Customer, PaymentIntent, PaymentMethod
from payments.selectors_balances import BALANCE_TRANSACTION_TYPES, balance_summary
from payments.services import (
    CANCELLATION_REASONS,
    DISPUTE_EVIDENCE_FILES,
    DISPUTE_EVIDENCE_TEXT,
    REFUND_REASONS,
    PaymentError,
)
from workbench.api_auth import (
    IDEMPOTENCY_HEADER,
    ApiError,
    ApiView,
    ListParams,
    NullableText,
    UnixTimeField,
    get_or_404,
    list_of,
    list_params,
    list_response,
    responses,
)

CURRENCY = {"regex": r"^[A-Za-z]{3}$", "max_length": 3, "help_text": "ISO code, e.g. usd."}
MAX_AMOUNT = 99_999_999


class PaymentsApiView(ApiView):
    """Stripe's refusals (PaymentError) become Stripe-like error objects."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, PaymentError):
            exc = payment_api_error(exc)
        return super().handle_exception(exc)


def payment_api_error(error: PaymentError) -> ApiError:
    if error.error_type == "card_error":
        return ApiError(
            error.message,
            status_code=402,
            type="card_error",
            code=error.decline_code or error.code or "card_declined",
            param=error.param or None,
        )
    if error.error_type == "rate_limit_error":
        return ApiError(
            error.message,
            status_code=429,
            type="rate_limit_error",
            code="rate_limit",
            headers={"Retry-After": "1"},
        )
    if error.error_type in {"api_error", "api_connection_error", "authentication_error"}:
        return ApiError(error.message, status_code=502, type="api_error", code="stripe_error")
    return ApiError(error.message, code=error.code or "invalid_request", param=error.param or None)


def _data(row: Any, name: str, default: Any = None) -> Any:
    value = (row.data or {}).get(name)
    return default if value is None else value


def _reference(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value or None


# --- Serializers ------------------------------------------------------------------------


class StripeObjectSerializer(serializers.Serializer):
    id = serializers.CharField(source="stripe_id")
    object = serializers.SerializerMethodField()
    created = UnixTimeField()
    livemode = serializers.BooleanField()
    object_name = ""

    def get_object(self, row) -> str:
        return self.object_name


class MetadataMixin(serializers.Serializer):
    metadata = serializers.SerializerMethodField()

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_metadata(self, row):
        return {str(k): str(v) for k, v in (_data(row, "metadata", {}) or {}).items()}


class CustomerSerializer(StripeObjectSerializer, MetadataMixin):
    object_name = "customer"
    email = NullableText()
    name = NullableText()
    phone = NullableText()
    description = NullableText()
    delinquent = serializers.BooleanField()
    default_payment_method = serializers.SerializerMethodField()

    def get_default_payment_method(self, row) -> str | None:
        settings = _data(row, "invoice_settings", {}) or {}
        return _reference(settings.get("default_payment_method"))


class DeletedCustomerSerializer(serializers.Serializer):
    id = serializers.CharField(source="stripe_id")
    object = serializers.SerializerMethodField()
    deleted = serializers.BooleanField()

    def get_object(self, row) -> str:
        return "customer"


class CardSerializer(serializers.Serializer):
    brand = serializers.CharField(source="card_brand")
    last4 = serializers.CharField(source="card_last4")
    exp_month = serializers.IntegerField(source="card_exp_month", allow_null=True)
    exp_year = serializers.IntegerField(source="card_exp_year", allow_null=True)
    country = NullableText(source="card_country")
    fingerprint = NullableText(source="card_fingerprint")
    wallet = NullableText(source="card_wallet")


class PaymentMethodSerializer(StripeObjectSerializer):
    object_name = "payment_method"
    type = serializers.CharField()
    customer = NullableText(source="customer_stripe_id")
    card = serializers.SerializerMethodField()

    @extend_schema_field(CardSerializer(allow_null=True))
    def get_card(self, row):
        return CardSerializer(row).data if row.type == "card" else None


class LastPaymentError(serializers.Serializer):
    type = serializers.CharField(allow_null=True)
    code = serializers.CharField(allow_null=True)
    decline_code = serializers.CharField(allow_null=True)
    message = serializers.CharField(allow_null=True)
    param = serializers.CharField(allow_null=True)


class PaymentIntentSerializer(StripeObjectSerializer, MetadataMixin):
    object_name = "payment_intent"
    amount = serializers.IntegerField()
    amount_capturable = serializers.IntegerField()
    amount_received = serializers.IntegerField()
    currency = serializers.CharField()
    status = serializers.CharField()
    customer = NullableText(source="customer_stripe_id")
    payment_method = NullableText(source="payment_method_stripe_id")
    capture_method = NullableText()
    description = NullableText()
    latest_charge = NullableText(source="latest_charge_stripe_id")
    cancellation_reason = serializers.SerializerMethodField()
    client_secret = serializers.SerializerMethodField()
    next_action = serializers.SerializerMethodField()
    last_payment_error = serializers.SerializerMethodField()

    def get_cancellation_reason(self, row) -> str | None:
        return _data(row, "cancellation_reason")

    def get_client_secret(self, row) -> str | None:
        return _data(row, "client_secret")

    @extend_schema_field({"type": "object", "nullable": True, "additionalProperties": True})
    def get_next_action(self, row):
        return _data(row, "next_action")

    @extend_schema_field(LastPaymentError(allow_null=True))
    def get_last_payment_error(self, row):
        error = _data(row, "last_payment_error")
        if not isinstance(error, dict):
            return None
        # The error's copy of the payment method could hold billing details: ids only.
        keep = ("type", "code", "decline_code", "message", "param")
        return {name: error.get(name) for name in keep}


class RefundSerializer(StripeObjectSerializer, MetadataMixin):
    object_name = "refund"
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    status = NullableText()
    reason = NullableText()
    charge = NullableText(source="charge_stripe_id")
    payment_intent = serializers.SerializerMethodField()
    balance_transaction = NullableText(source="balance_transaction_stripe_id")

    def get_payment_intent(self, row) -> str | None:
        return _reference(_data(row, "payment_intent"))


class BalanceAmountSerializer(serializers.Serializer):
    amount = serializers.IntegerField()
    currency = serializers.CharField()


class BalanceSerializer(serializers.Serializer):
    object = serializers.CharField(help_text='Always "balance".')
    livemode = serializers.BooleanField()
    available = BalanceAmountSerializer(many=True)
    pending = BalanceAmountSerializer(many=True)


class BalanceTransactionSerializer(StripeObjectSerializer):
    object_name = "balance_transaction"
    amount = serializers.IntegerField()
    fee = serializers.IntegerField()
    net = serializers.IntegerField()
    currency = serializers.CharField()
    type = serializers.CharField()
    reporting_category = NullableText()
    status = serializers.CharField()
    available_on = UnixTimeField(allow_null=True)
    source = NullableText(source="source_stripe_id")
    payout = NullableText(source="payout_stripe_id")
    description = serializers.SerializerMethodField()

    def get_description(self, row) -> str | None:
        return _data(row, "description")


class PayoutSerializer(StripeObjectSerializer, MetadataMixin):
    object_name = "payout"
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    status = serializers.CharField()
    arrival_date = UnixTimeField(allow_null=True)
    method = NullableText()
    automatic = serializers.BooleanField()
    failure_code = NullableText()
    description = serializers.SerializerMethodField()

    def get_description(self, row) -> str | None:
        return _data(row, "description")


EVIDENCE_FIELDS = (*DISPUTE_EVIDENCE_TEXT, *DISPUTE_EVIDENCE_FILES)


class DisputeEvidenceOut(serializers.Serializer):
    locals().update({name: serializers.CharField(allow_null=True) for name in EVIDENCE_FIELDS})


class DisputeSerializer(StripeObjectSerializer, MetadataMixin):
    object_name = "dispute"
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    status = serializers.CharField()
    reason = NullableText()
    charge = NullableText(source="charge_stripe_id")
    evidence_due_by = UnixTimeField(allow_null=True)
    evidence = serializers.SerializerMethodField()

    @extend_schema_field(DisputeEvidenceOut)
    def get_evidence(self, row):
        evidence = _data(row, "evidence", {}) or {}
        return {name: _text_or_none(evidence.get(name)) for name in EVIDENCE_FIELDS}


def _text_or_none(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return _reference(value) if isinstance(value, dict) else str(value)


# --- Request bodies and query parameters ------------------------------------------------


def _text(max_length: int, **options) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, required=False, allow_blank=True, **options)


class StrictSerializer(serializers.Serializer):
    """Unknown parameters are an error, as at Stripe (a typo must not pass silently)."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["The body must be a JSON object."]}
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            name = unknown[0] if unknown[0].isprintable() else repr(unknown[0])
            raise serializers.ValidationError({name: [f"Unknown parameter: {name}."]})
        return super().to_internal_value(data)


class CustomerIn(StrictSerializer):
    email = _text(512)
    name = _text(256)
    phone = _text(64)
    description = _text(5000)


class CustomerListParams(ListParams):
    email = serializers.CharField(required=False, max_length=512)


class AttachIn(StrictSerializer):
    customer = serializers.CharField(max_length=255)


class PaymentMethodListParams(ListParams):
    customer = serializers.CharField(max_length=255)
    type = serializers.ChoiceField(choices=["card"], required=False)


class PaymentIntentIn(StrictSerializer):
    customer = serializers.CharField(max_length=255)
    amount = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT)
    currency = serializers.RegexField(**CURRENCY)
    payment_method = _text(255, help_text="A saved card (pm_…); default: the customer's.")
    description = _text(1000)
    capture_method = serializers.ChoiceField(
        choices=["automatic", "manual"], default="automatic", required=False
    )
    off_session = serializers.BooleanField(
        default=True,
        required=False,
        help_text="true: the customer is away (a card needing authentication declines); "
        "false: the customer is present (it answers requires_action with next_action).",
    )


class PaymentIntentListParams(ListParams):
    customer = serializers.CharField(required=False, max_length=255)


class CaptureIn(StrictSerializer):
    amount_to_capture = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT, required=False)


class CancelIn(StrictSerializer):
    cancellation_reason = serializers.ChoiceField(
        choices=sorted(CANCELLATION_REASONS), required=False
    )


class RefundIn(StrictSerializer):
    charge = _text(255)
    payment_intent = _text(255)
    amount = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT, required=False)
    reason = serializers.ChoiceField(choices=sorted(REFUND_REASONS), required=False)

    def validate(self, data):
        data = super().validate(data)
        if bool(data.get("charge")) == bool(data.get("payment_intent")):
            raise serializers.ValidationError({"charge": "Give either charge or payment_intent."})
        return data


class RefundListParams(ListParams):
    charge = serializers.CharField(required=False, max_length=255)
    payment_intent = serializers.CharField(required=False, max_length=255)


class BalanceTransactionListParams(ListParams):
    type = serializers.ChoiceField(
        choices=[code for code, _ in BALANCE_TRANSACTION_TYPES], required=False
    )
    currency = serializers.RegexField(required=False, **CURRENCY)
    payout = serializers.CharField(required=False, max_length=255)
    locals().update(
        {
            f"created[{bound}]": serializers.IntegerField(
                required=False,
                min_value=0,
                max_value=2**31,
                help_text=f"Unix time: created {bound} this.",
            )
            for bound in ("gt", "gte", "lt", "lte")
        }
    )


class PayoutIn(StrictSerializer):
    amount = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT)
    currency = serializers.RegexField(**CURRENCY)
    description = _text(1000)


class PayoutListParams(ListParams):
    status = serializers.ChoiceField(
        choices=["paid", "pending", "in_transit", "canceled", "failed"], required=False
    )


class EvidenceIn(StrictSerializer):
    locals().update({name: _text(20000) for name in DISPUTE_EVIDENCE_TEXT})


class DisputeUpdateIn(StrictSerializer):
    evidence = EvidenceIn(required=False)
    submit = serializers.BooleanField(
        default=False, required=False, help_text="true: submit the evidence (final)."
    )


class DisputeListParams(ListParams):
    charge = serializers.CharField(required=False, max_length=255)
    status = serializers.CharField(required=False, max_length=64)


def body(request: Request, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- Customers --------------------------------------------------------------------------


class CustomerApiView(PaymentsApiView):
    api_resource = "customers"

    def customer(self, customer_id: str) -> Customer:
        queryset = selectors_api.customers(account=self.account, livemode=self.livemode)
        return get_or_404(queryset, customer_id, "customer")


class CustomerListView(CustomerApiView):
    @extend_schema(
        operation_id="customers_list",
        tags=["Customers"],
        parameters=[CustomerListParams],
        responses=responses(list_of(CustomerSerializer, "Customer")),
    )
    def get(self, request: Request) -> Response:
        params = list_params(request, CustomerListParams)
        queryset = selectors_api.customers(
            account=self.account, livemode=self.livemode, email=params.get("email", "")
        )
        return list_response(request, queryset, CustomerSerializer, params)

    @extend_schema(
        operation_id="customers_create",
        tags=["Customers"],
        request=CustomerIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses=responses(CustomerSerializer, write=True),
    )
    def post(self, request: Request) -> Response:
        customer = services.customer_create(
            account=self.account,
            livemode=self.livemode,
            actor=None,
            context=self.context(),
            idempotency_key=self.idempotency_key(),
            **body(request, CustomerIn),
        )
        return Response(CustomerSerializer(customer).data)


class CustomerDetailView(CustomerApiView):
    @extend_schema(
        operation_id="customers_retrieve",
        tags=["Customers"],
        responses=responses(CustomerSerializer),
    )
    def get(self, request: Request, customer_id: str) -> Response:
        return Response(CustomerSerializer(self.customer(customer_id)).data)

    @extend_schema(
        operation_id="customers_update",
        tags=["Customers"],
        request=CustomerIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses=responses(CustomerSerializer, write=True),
    )
    def post(self, request: Request, customer_id: str) -> Response:
        customer = services.customer_update(
            account=self.account,
            livemode=self.livemode,
            customer=self.customer(customer_id),
            changes=body(request, CustomerIn),
            actor=None,
            context=self.context(),
            idempotency_key=self.idempotency_key(),
        )
        return Response(CustomerSerializer(customer).data)

    @extend_schema(
        operation_id="customers_delete",
        tags=["Customers"],
        request=None,
        responses=responses(DeletedCustomerSerializer, write=True),
    )
    def delete(self, request: Request, customer_id: str) -> Response:
        customer = services.customer_delete(
            account=self.account,
            livemode=self.livemode,
            customer=self.customer(customer_id),
            actor=None,
            context=self.context(),
        )
        return Response(DeletedCustomerSerializer(customer).data)


# --- Payment methods --------------------------------------------------------------------


class PaymentMethodApiView(PaymentsApiView):
    api_resource = "payment_methods"

    def payment_method(self, payment_method_id: str) -> PaymentMethod:
        queryset = selectors_api.payment_methods(account=self.account, livemode=self.livemode)
        return get_or_404(queryset, payment_method_id, "payment_method")


class PaymentMethodListView(PaymentMethodApiView):
    @extend_schema(
        operation_id="payment_methods_list",
        tags=["Payment methods"],
        parameters=[PaymentMethodListParams],
        responses=responses(list_of(PaymentMethodSerializer, "PaymentMethod")),
    )
    def get(self, request: Request) -> Response:
        params = list_params(request, PaymentMethodListParams)
        customer = get_or_404(
            selectors_api.customers(account=self.account, livemode=self.livemode),
            params["customer"],
            "customer",
            param="customer",
        )
        queryset = selectors_api.payment_methods(
            account=self.account,
            livemode=self.livemode,
            customer=customer.stripe_id,
            type=params.get("type", ""),
        )
        return list_response(request, queryset, PaymentMethodSerializer, params)


class PaymentMethodAttachView(PaymentMethodApiView):
    @extend_schema(
        operation_id="payment_methods_attach",
        tags=["Payment methods"],
        description="Saves a card on a customer from a Stripe PaymentMethod id (`pm_…`, made "
        "by Stripe.js or a test id such as `pm_card_visa`) or a card token (`tok_…`).",
        request=AttachIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses=responses(PaymentMethodSerializer, write=True),
    )
    def post(self, request: Request, payment_method_id: str) -> Response:
        customer = get_or_404(
            selectors_api.customers(account=self.account, livemode=self.livemode),
            body(request, AttachIn)["customer"],
            "customer",
            param="customer",
        )
        method = services.payment_method_attach(
            account=self.account,
            livemode=self.livemode,
            customer=customer,
            payment_method=payment_method_id,
            actor=None,
            context=self.context(),
            idempotency_key=self.idempotency_key(),
        )
        return Response(PaymentMethodSerializer(method).data)


class PaymentMethodDetachView(PaymentMethodApiView):
    @extend_schema(
        operation_id="payment_methods_detach",
        tags=["Payment methods"],
        request=None,
        parameters=[IDEMPOTENCY_HEADER],
        responses=responses(PaymentMethodSerializer, write=True),
    )
    def post(self, request: Request, payment_method_id: str) -> Response:
        method = services.payment_method_detach(
            account=self.account,
            livemode=self.livemode,
            payment_method=self.payment_method(payment_method_id),
            actor=None,
            context=self.context(),
            idempotency_key=self.idempotency_key(),
        )
        return Response(PaymentMethodSerializer(method).data)


# --- Payment intents --------------------------------------------------------------------


class PaymentIntentApiView(PaymentsApiView):
    api_resource = "payments"

    def intent(self, payment_intent_id: str) -> PaymentIntent:
        queryset = selectors_api.payment_intents(account=self.account, livemode=self.livemode)
        return get_or_404(queryset, payment_intent_id, "payment_intent")


class PaymentIntentListView(PaymentIntentApiView):
    @extend_schema(
        operation_id="payment_intents_list",
        tags=["Payments"],
        parameters=[PaymentIntentListParams],
        responses=responses(list_of(PaymentIntentSerializer, "PaymentIntent")),
    )
    def get(self, request: Request) -> Response:
        params = list_params(request, PaymentIntentListParams)
        queryset = selectors_api.payment_intents(
            account=self.account, livemode=self.livemode, customer=params.get("customer", "")
        )
        return list_response(request, queryset, PaymentIntentSerializer, params)

    @extend_schema(
        operation_id="payment_intents_create",
        tags=["Payments"],
        description="Charges a customer's saved card (its default, or `payment_method`).",
        request=PaymentIntentIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses=responses(PaymentIntentSerializer, write=True),
    )
    def post(self, request: Request) -> Response:
        params = body(request, PaymentIntentIn)
        customer = get_or_404(
            selectors_api.customers(account=self.account, livemode=self.livemode),
            params["customer"],
            "customer",
            param="customer",
        )
        intent = services.payment_create(
            account=self.account,
            livemode=self.livemode,
            customer=customer,
            amount=params["amount"],
            currency=params["currency"],
            payment_method=params.get("payment_method", ""),
            description=params.get("description", ""),
            capture=params["capture_method"] == "automatic",
            off_session=params["off_session"],
            actor=None,
            context=self.context(),
            idempotency_key=self.idempotency_key(),
        )
        return Response(PaymentIntentSerializer(intent).data)


class PaymentIntentDetailView(PaymentIntentApiView):
    @extend_schema(
        operation_id="payment_intents_retrieve",
        tags=["Payments"],
        responses=responses(PaymentIntentSerializer),
    )
    def get(self, request: Request, payment_intent_id: str) -> Response:
        return Response(PaymentIntentSerializer(self.intent(payment_intent_id)).data)


class PaymentIntentCaptureView(PaymentIntentApiView):
    @extend_schema(
        operation_id="payment_intents_capture",
        tags=["Payments"],
        request=CaptureIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses=responses(PaymentIntentSerializer, write=True),
    )
    def post(self, request: Request, payment_intent_id: str) -> Response:
        params = body(request, CaptureIn)
        intent = services.payment_capture(
            account=self.account,
            livemode=self.livemode,
            payment_intent=self.intent(payment_intent_id),
            amount=params.get("amount_to_capture"),
            actor=None,
            context=self.context(),
            idempotency_key=self.idempotency_key(),
        )
        return Response(PaymentIntentSerializer(intent).data)


class PaymentIntentCancelView(PaymentIntentApiView):
    @extend_schema(
        operation_id="payment_intents_cancel",
        tags=["Payments"],
        request=CancelIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses=responses(PaymentIntentSerializer, write=True),
    )
    def post(self, request: Request, payment_intent_id: str) -> Response:
        params = body(request, CancelIn)
        intent = services.payment_cancel(
            account=self.account,
            livemode=self.livemode,
            payment_intent=self.intent(payment_intent_id),
            reason=params.get("cancellation_reason", ""),
            actor=None,
            context=self.context(),
            idempotency_key=self.idempotency_key(),
        )
        return Response(PaymentIntentSerializer(intent).data)


# --- Refunds ----------------------------------------------------------------------------


class RefundListView(PaymentsApiView):
    api_resource = "refunds"

    @extend_schema(
        operation_id="refunds_list",
        tags=["Refunds"],
        parameters=[RefundListParams],
        responses=responses(list_of(RefundSerializer, "Refund")),
    )
    def get(self, request: Request) -> Response:
        params = list_params(request, RefundListParams)
        queryset = selectors_api.refunds(
            account=self.account,
            livemode=self.livemode,
            charge=params.get("charge", ""),
            payment_intent=params.get("payment_intent", ""),
        )
        return list_response(request, queryset, RefundSerializer, params)

    @extend_schema(
        operation_id="refunds_create",
        tags=["Refunds"],
        description="Refunds a charge (or a payment intent's charge) in full or in part.",
        request=RefundIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses=responses(RefundSerializer, write=True),
    )
    def post(self, request: Request) -> Response:
        params = body(request, RefundIn)
        refund = services.payment_refund(
            account=self.account,
            livemode=self.livemode,
            charge=self._charge(params),
            amount=params.get("amount"),
            reason=params.get("reason", ""),
            actor=None,
            context=self.context(),
            idempotency_key=self.idempotency_key(),
        )
        return Response(RefundSerializer(refund).data)

    def _charge(self, params: dict[str, Any]):
        if params.get("charge"):
            charges = selectors_api.charges(account=self.account, livemode=self.livemode)
            return get_or_404(charges, params["charge"], "charge", param="charge")
        intent = get_or_404(
            selectors_api.payment_intents(account=self.account, livemode=self.livemode),
            params["payment_intent"],
            "payment_intent",
            param="payment_intent",
        )
        charge = selectors_api.charge_of_intent(
            account=self.account, livemode=self.livemode, intent=intent
        )
        if charge is None:
            raise ApiError(
                f"{intent.stripe_id} has no charge to refund.",
                code="charge_missing",
                param="payment_intent",
            )
        return charge


# --- Balance, balance transactions, payouts ---------------------------------------------


class BalanceView(PaymentsApiView):
    api_resource = "balance"

    @extend_schema(
        operation_id="balance_retrieve",
        tags=["Balance"],
        description="Available and pending funds per currency, summed from the balance "
        "transactions as Stripe does.",
        responses=responses(BalanceSerializer),
    )
    def get(self, request: Request) -> Response:
        totals = balance_summary(account=self.account, livemode=self.livemode)
        return Response(
            {
                "object": "balance",
                "livemode": self.livemode,
                "available": [{"amount": t.available, "currency": t.currency} for t in totals],
                "pending": [{"amount": t.pending, "currency": t.currency} for t in totals],
            }
        )


def _unix(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value is not None else None


class BalanceTransactionListView(PaymentsApiView):
    api_resource = "balance"

    @extend_schema(
        operation_id="balance_transactions_list",
        tags=["Balance"],
        parameters=[BalanceTransactionListParams],
        responses=responses(list_of(BalanceTransactionSerializer, "BalanceTransaction")),
    )
    def get(self, request: Request) -> Response:
        params = list_params(request, BalanceTransactionListParams)
        queryset = selectors_api.balance_transactions(
            account=self.account,
            livemode=self.livemode,
            type=params.get("type", ""),
            currency=params.get("currency", ""),
            payout=params.get("payout", ""),
            **{
                f"created_{bound}": _unix(params.get(f"created[{bound}]"))
                for bound in ("gt", "gte", "lt", "lte")
            },
        )
        return list_response(request, queryset, BalanceTransactionSerializer, params)


class PayoutListView(PaymentsApiView):
    api_resource = "payouts"

    @extend_schema(
        operation_id="payouts_list",
        tags=["Payouts"],
        parameters=[PayoutListParams],
        responses=responses(list_of(PayoutSerializer, "Payout")),
    )
    def get(self, request: Request) -> Response:
        params = list_params(request, PayoutListParams)
        queryset = selectors_api.payouts(
            account=self.account, livemode=self.livemode, status=params.get("status", "")
        )
        return list_response(request, queryset, PayoutSerializer, params)

    @extend_schema(
        operation_id="payouts_create",
        tags=["Payouts"],
        description="A manual payout from the available balance to the bank account.",
        request=PayoutIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses=responses(PayoutSerializer, write=True),
    )
    def post(self, request: Request) -> Response:
        payout = services_balances.payout_create(
            account=self.account,
            livemode=self.livemode,
            actor=None,
            context=self.context(),
            idempotency_key=self.idempotency_key(),
            **body(request, PayoutIn),
        )
        return Response(PayoutSerializer(payout).data)


class PayoutDetailView(PaymentsApiView):
    api_resource = "payouts"

    @extend_schema(
        operation_id="payouts_retrieve", tags=["Payouts"], responses=responses(PayoutSerializer)
    )
    def get(self, request: Request, payout_id: str) -> Response:
        queryset = selectors_api.payouts(account=self.account, livemode=self.livemode)
        return Response(PayoutSerializer(get_or_404(queryset, payout_id, "payout")).data)


# --- Disputes ---------------------------------------------------------------------------


class DisputeApiView(PaymentsApiView):
    api_resource = "disputes"

    def dispute(self, dispute_id: str):
        queryset = selectors_api.disputes(account=self.account, livemode=self.livemode)
        return get_or_404(queryset, dispute_id, "dispute")


class DisputeListView(DisputeApiView):
    @extend_schema(
        operation_id="disputes_list",
        tags=["Disputes"],
        parameters=[DisputeListParams],
        responses=responses(list_of(DisputeSerializer, "Dispute")),
    )
    def get(self, request: Request) -> Response:
        params = list_params(request, DisputeListParams)
        queryset = selectors_api.disputes(
            account=self.account,
            livemode=self.livemode,
            charge=params.get("charge", ""),
            status=params.get("status", ""),
        )
        return list_response(request, queryset, DisputeSerializer, params)


class DisputeDetailView(DisputeApiView):
    @extend_schema(
        operation_id="disputes_retrieve", tags=["Disputes"], responses=responses(DisputeSerializer)
    )
    def get(self, request: Request, dispute_id: str) -> Response:
        return Response(DisputeSerializer(self.dispute(dispute_id)).data)

    @extend_schema(
        operation_id="disputes_update",
        tags=["Disputes"],
        description="Saves evidence (staged), or with `submit: true` submits it to the card "
        "network, after which it can no longer change.",
        request=DisputeUpdateIn,
        parameters=[IDEMPOTENCY_HEADER],
        responses=responses(DisputeSerializer, write=True),
    )
    def post(self, request: Request, dispute_id: str) -> Response:
        params = body(request, DisputeUpdateIn)
        dispute = services.dispute_evidence_update(
            account=self.account,
            livemode=self.livemode,
            dispute=self.dispute(dispute_id),
            evidence=dict(params.get("evidence") or {}),
            submit=params["submit"],
            actor=None,
            context=self.context(),
            idempotency_key=self.idempotency_key(),
        )
        return Response(DisputeSerializer(dispute).data)


class DisputeCloseView(DisputeApiView):
    @extend_schema(
        operation_id="disputes_close",
        tags=["Disputes"],
        description="Accepts the dispute: the amount stays with the cardholder.",
        request=None,
        parameters=[IDEMPOTENCY_HEADER],
        responses=responses(DisputeSerializer, write=True),
    )
    def post(self, request: Request, dispute_id: str) -> Response:
        dispute = services.dispute_close(
            account=self.account,
            livemode=self.livemode,
            dispute=self.dispute(dispute_id),
            actor=None,
            context=self.context(),
            idempotency_key=self.idempotency_key(),
        )
        return Response(DisputeSerializer(dispute).data)
