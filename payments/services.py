"""Actions on payments and customers: call Stripe, mirror the answer at once, audit.

Every service calls Stripe through the workbench client with an idempotency key (callers
may pass their own, e.g. one per submitted form, so a double submit cannot charge twice),
then stores what Stripe answered through `payments.mirroring` with the time of the call
(write-through) and writes an audit entry, both in one transaction. The webhook for the same
change arrives later with an older `created` and leaves the row as it is.

Stripe's own errors are raised as `PaymentError` carrying Stripe's message and codes; when
Stripe refuses, nothing is written except what Stripe reports as having happened (a
declined off-session payment leaves a real, failed PaymentIntent behind, and we mirror it).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import stripe
from django.db import transaction
from django_scopes import scope

from dashboard.models import Account, User
from dashboard.services import RequestContext, audit_record
from payments import mirroring
from payments.mirroring import Source, as_dict
from payments.models import Charge, Customer, PaymentIntent, PaymentMethod, Refund
from workbench import client as workbench_client

REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})
CANCELLATION_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer", "abandoned"})
# Expanded on writes so the answer carries the charge and its fee: one round trip mirrors
# the intent, its charge and the charge's balance transaction.
EXPAND_CHARGE = ["latest_charge.balance_transaction"]


class PaymentError(Exception):
    """A refused action, with Stripe's message and codes when Stripe refused it."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        decline_code: str = "",
        param: str = "",
        error_type: str = "",
        payment_intent: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.decline_code = decline_code
        self.param = param
        self.error_type = error_type
        self.payment_intent = payment_intent

    @classmethod
    def from_stripe(cls, error: stripe.StripeError) -> PaymentError:
        body = (error.json_body or {}).get("error") or {}
        return cls(
            str(body.get("message") or error.user_message or "Stripe refused the request."),
            code=str(body.get("code") or error.code or ""),
            decline_code=str(body.get("decline_code") or ""),
            param=str(body.get("param") or ""),
            error_type=str(body.get("type") or ""),
            payment_intent=body.get("payment_intent") or None,
        )


@contextlib.contextmanager
def stripe_errors() -> Iterator[None]:
    try:
        yield
    except stripe.StripeError as error:
        raise PaymentError.from_stripe(error) from error
    except workbench_client.StripeNotConnected as error:
        raise PaymentError(str(error), code="not_connected") from error


def new_idempotency_key() -> str:
    return f"paydesk-{uuid.uuid4()}"


def client_for(account: Account, livemode: bool) -> stripe.StripeClient:
    with stripe_errors():
        return workbench_client.stripe_client(account=account, livemode=livemode)


def request_options(idempotency_key: str | None, stripe_account: str = "") -> dict[str, str]:
    options = {"idempotency_key": idempotency_key or new_idempotency_key()}
    if stripe_account:
        options["stripe_account"] = stripe_account
    return options


def _source(account: Account, livemode: bool, stripe_account: str = "") -> Source:
    return Source.api_read(account=account, livemode=livemode, stripe_account=stripe_account)


def without_blanks(params: dict[str, Any]) -> dict[str, Any]:
    """Optional parameters are left out rather than sent empty (Stripe would clear them)."""
    return {name: value for name, value in params.items() if value not in ("", None)}


# --- Customers --------------------------------------------------------------------------


def customer_create(
    *,
    account: Account,
    livemode: bool,
    actor: User | None,
    email: str = "",
    name: str = "",
    phone: str = "",
    description: str = "",
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> Customer:
    params = without_blanks(
        {"email": email, "name": name, "phone": phone, "description": description}
    )
    client = client_for(account, livemode)
    with stripe_errors():
        created = client.v1.customers.create(
            params=params, options=request_options(idempotency_key)
        )
    with scope(account=account), transaction.atomic():
        customer = mirroring.store_customer(_source(account, livemode), created)
        audit_record(
            account=account,
            actor=actor,
            action="customer.created",
            target=customer,
            target_repr=customer.email or customer.name or customer.stripe_id,
            context=context,
        )
    return customer


CUSTOMER_FIELDS = ("email", "name", "phone", "description")


def customer_update(
    *,
    account: Account,
    livemode: bool,
    customer: Customer,
    changes: dict[str, str],
    actor: User | None,
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> Customer:
    unknown = set(changes) - set(CUSTOMER_FIELDS)
    if unknown:
        raise PaymentError(f"Customers have no field {', '.join(sorted(unknown))}.")
    changed = {
        name: {"from": getattr(customer, name), "to": value}
        for name, value in changes.items()
        if getattr(customer, name) != value
    }
    if not changed:
        return customer
    client = client_for(account, livemode)
    # An empty string clears the field at Stripe, as in its API.
    params = {name: changes[name] for name in changed}
    with stripe_errors():
        updated = client.v1.customers.update(
            customer.stripe_id,
            params=params,
            options=request_options(idempotency_key, customer.stripe_account),
        )
    with scope(account=account), transaction.atomic():
        customer = mirroring.store_customer(
            _source(account, livemode, customer.stripe_account), updated
        )
        audit_record(
            account=account,
            actor=actor,
            action="customer.updated",
            target=customer,
            metadata={"changes": changed},
            context=context,
        )
    return customer


# --- Payment methods --------------------------------------------------------------------


def payment_method_attach(
    *,
    account: Account,
    livemode: bool,
    customer: Customer,
    payment_method: str,
    actor: User | None,
    make_default: bool = False,
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> PaymentMethod:
    """Saves a card on a customer, given a PaymentMethod id (`pm_…`, including Stripe's
    test ids like `pm_card_visa`) or a card token (`tok_…`). Never a card number."""
    payment_method = payment_method.strip()
    if not payment_method.startswith(("pm_", "tok_")):
        raise PaymentError("Give a PaymentMethod id (pm_…) or a card token (tok_…).")
    client = client_for(account, livemode)
    key = idempotency_key or new_idempotency_key()
    options = request_options(key, customer.stripe_account)
    with stripe_errors():
        if payment_method.startswith("tok_"):
            created = client.v1.payment_methods.create(
                params={"type": "card", "card": {"token": payment_method}},
                options={**options, "idempotency_key": f"{key}-create"},
            )
            payment_method = created.id
        attached = client.v1.payment_methods.attach(
            payment_method, params={"customer": customer.stripe_id}, options=options
        )
        updated_customer = None
        if make_default:
            updated_customer = client.v1.customers.update(
                customer.stripe_id,
                params={"invoice_settings": {"default_payment_method": attached.id}},
                options={**options, "idempotency_key": f"{key}-default"},
            )
    source = _source(account, livemode, customer.stripe_account)
    with scope(account=account), transaction.atomic():
        if updated_customer is not None:
            mirroring.store_customer(source, updated_customer)
        method = mirroring.store_payment_method(source, attached)
        audit_record(
            account=account,
            actor=actor,
            action="payment_method.attached",
            target=method,
            target_repr=f"{method.card_brand} •••• {method.card_last4}".strip(),
            metadata={"customer": customer.stripe_id, "default": make_default},
            context=context,
        )
    return method


def payment_method_detach(
    *,
    account: Account,
    livemode: bool,
    payment_method: PaymentMethod,
    actor: User | None,
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> PaymentMethod:
    previous_customer = payment_method.customer_stripe_id
    client = client_for(account, livemode)
    with stripe_errors():
        detached = client.v1.payment_methods.detach(
            payment_method.stripe_id,
            options=request_options(idempotency_key, payment_method.stripe_account),
        )
    with scope(account=account), transaction.atomic():
        method = mirroring.store_payment_method(
            _source(account, livemode, payment_method.stripe_account), detached
        )
        audit_record(
            account=account,
            actor=actor,
            action="payment_method.detached",
            target=method,
            metadata={"customer": previous_customer},
            context=context,
        )
    return method


def default_payment_method(*, account: Account, customer: Customer) -> str:
    """The card an off-session charge uses: the customer's default, else the newest saved."""
    default = mirroring.stripe_id_of(
        (customer.data.get("invoice_settings") or {}).get("default_payment_method")
    )
    if default:
        return default
    with scope(account=account):
        newest = (
            PaymentMethod.objects.filter(
                account=account, customer_stripe_id=customer.stripe_id, type="card"
            )
            .order_by("-created", "-id")
            .values_list("stripe_id", flat=True)
            .first()
        )
    return newest or ""


# --- Payments ---------------------------------------------------------------------------


def _store_intent(
    *,
    account: Account,
    livemode: bool,
    intent: Any,
    actor: User | None,
    action: str,
    metadata: dict[str, Any],
    context: RequestContext | None,
    stripe_account: str = "",
) -> PaymentIntent:
    with scope(account=account), transaction.atomic():
        row = mirroring.store_payment_intent(_source(account, livemode, stripe_account), intent)
        audit_record(
            account=account,
            actor=actor,
            action=action,
            target=row,
            metadata=metadata,
            context=context,
        )
    return row


def _intent_create(
    *,
    client,
    account: Account,
    livemode: bool,
    customer: Customer,
    params: dict[str, Any],
    audit: dict[str, Any],
    actor: User | None,
    context: RequestContext | None,
    idempotency_key: str | None,
) -> PaymentIntent:
    """Creates (and confirms) a payment intent; a decline still mirrors the failed intent
    Stripe keeps, with its codes in the audit entry, before the error goes up."""
    try:
        with stripe_errors():
            intent = client.v1.payment_intents.create(
                params=params, options=request_options(idempotency_key, customer.stripe_account)
            )
    except PaymentError as error:
        if error.payment_intent:
            _store_intent(
                account=account,
                livemode=livemode,
                intent=error.payment_intent,
                actor=actor,
                action="payment.declined",
                metadata={**audit, "code": error.code, "decline_code": error.decline_code},
                context=context,
                stripe_account=customer.stripe_account,
            )
        raise
    return _store_intent(
        account=account,
        livemode=livemode,
        intent=intent,
        actor=actor,
        action="payment.created",
        metadata=audit,
        context=context,
        stripe_account=customer.stripe_account,
    )


def payment_charge_saved_card(
    *,
    account: Account,
    livemode: bool,
    customer: Customer,
    amount: int,
    currency: str,
    actor: User | None,
    payment_method: str = "",
    description: str = "",
    capture: bool = True,
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> PaymentIntent:
    """Charges a customer's saved card with the customer not present (off-session).

    Returns the PaymentIntent. A decline raises PaymentError with Stripe's message and
    decline code; the failed intent Stripe keeps is mirrored and the attempt audited.
    """
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise PaymentError("The amount must be a positive whole number of minor units.")
    currency = currency.lower()
    if len(currency) != 3:
        raise PaymentError("Give a three-letter currency code.")
    payment_method = payment_method or default_payment_method(account=account, customer=customer)
    if not payment_method:
        raise PaymentError(f"{customer.stripe_id} has no saved card to charge.")
    params = without_blanks(
        {
            "amount": amount,
            "currency": currency,
            "customer": customer.stripe_id,
            "payment_method": payment_method,
            "payment_method_types": ["card"],
            "off_session": True,
            "confirm": True,
            "capture_method": None if capture else "manual",
            "description": description,
            "expand": EXPAND_CHARGE,
        }
    )
    client = client_for(account, livemode)
    audit = {"amount": amount, "currency": currency, "customer": customer.stripe_id}
    return _intent_create(
        client=client,
        account=account,
        livemode=livemode,
        customer=customer,
        params=params,
        audit=audit,
        actor=actor,
        context=context,
        idempotency_key=idempotency_key,
    )


def payment_capture(
    *,
    account: Account,
    livemode: bool,
    payment_intent: PaymentIntent,
    actor: User | None,
    amount: int | None = None,
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> PaymentIntent:
    """Captures an authorised payment, in full or (with `amount`) in part."""
    params: dict[str, Any] = {"expand": EXPAND_CHARGE}
    if amount is not None:
        params["amount_to_capture"] = amount
    client = client_for(account, livemode)
    with stripe_errors():
        intent = client.v1.payment_intents.capture(
            payment_intent.stripe_id,
            params=params,
            options=request_options(idempotency_key, payment_intent.stripe_account),
        )
    return _store_intent(
        account=account,
        livemode=livemode,
        intent=intent,
        actor=actor,
        action="payment.captured",
        metadata={"amount": amount if amount is not None else payment_intent.amount_capturable},
        context=context,
        stripe_account=payment_intent.stripe_account,
    )


def payment_cancel(
    *,
    account: Account,
    livemode: bool,
    payment_intent: PaymentIntent,
    actor: User | None,
    reason: str = "",
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> PaymentIntent:
    if reason and reason not in CANCELLATION_REASONS:
        raise PaymentError(f"Unknown cancellation reason {reason!r}.")
    client = client_for(account, livemode)
    with stripe_errors():
        intent = client.v1.payment_intents.cancel(
            payment_intent.stripe_id,
            params=without_blanks({"cancellation_reason": reason}),
            options=request_options(idempotency_key, payment_intent.stripe_account),
        )
    return _store_intent(
        account=account,
        livemode=livemode,
        intent=intent,
        actor=actor,
        action="payment.canceled",
        metadata={"reason": reason},
        context=context,
        stripe_account=payment_intent.stripe_account,
    )


def payment_refund(
    *,
    account: Account,
    livemode: bool,
    charge: Charge,
    actor: User | None,
    amount: int | None = None,
    reason: str = "",
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> Refund:
    """Refunds a charge in full (amount=None) or in part.

    Stripe decides what may still be refunded: the mirror can lag behind, so asking for
    more than remains is refused with Stripe's own message and nothing is written.
    """
    if reason and reason not in REFUND_REASONS:
        raise PaymentError(f"Unknown refund reason {reason!r}.")
    if amount is not None and (not isinstance(amount, int) or amount <= 0):
        raise PaymentError("The refund amount must be a positive whole number of minor units.")
    params = without_blanks(
        {"charge": charge.stripe_id, "amount": amount, "reason": reason, "expand": ["charge"]}
    )
    client = client_for(account, livemode)
    with stripe_errors():
        refund = as_dict(
            client.v1.refunds.create(
                params=params, options=request_options(idempotency_key, charge.stripe_account)
            )
        )
    source = _source(account, livemode, charge.stripe_account)
    with scope(account=account), transaction.atomic():
        row = mirroring.store_refund(source, refund)
        audit_record(
            account=account,
            actor=actor,
            action="payment.refunded",
            target=row,
            metadata={
                "charge": charge.stripe_id,
                "amount": row.amount,
                "currency": row.currency,
                "reason": reason,
            },
            context=context,
        )
    return row


# --- Customer address and metadata (the customer pages' edit form) ----------------------

ADDRESS_FIELDS = ("line1", "line2", "city", "state", "postal_code", "country")


def customer_details_update(
    *,
    account: Account,
    livemode: bool,
    customer: Customer,
    address: dict[str, str],
    metadata: dict[str, str],
    actor: User | None,
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> Customer:
    """Sets a customer's address and metadata (what `customer_update` does not cover).

    Stripe merges metadata on update: keys the form no longer has are sent empty, which is
    how Stripe deletes a key.
    """
    unknown = set(address) - set(ADDRESS_FIELDS)
    if unknown:
        raise PaymentError(f"Addresses have no field {', '.join(sorted(unknown))}.")
    current_address = {
        name: value or "" for name, value in (customer.data.get("address") or {}).items()
    }
    current_metadata = customer.data.get("metadata") or {}
    new_address = {name: address.get(name, "") for name in ADDRESS_FIELDS}
    params: dict[str, Any] = {}
    if any(current_address.get(name, "") != value for name, value in new_address.items()):
        params["address"] = new_address
    metadata_changes = {
        **{key: "" for key in current_metadata if key not in metadata},
        **{key: value for key, value in metadata.items() if current_metadata.get(key) != value},
    }
    if metadata_changes:
        params["metadata"] = metadata_changes
    if not params:
        return customer
    client = client_for(account, livemode)
    with stripe_errors():
        updated = client.v1.customers.update(
            customer.stripe_id,
            params=params,
            options=request_options(idempotency_key, customer.stripe_account),
        )
    with scope(account=account), transaction.atomic():
        customer = mirroring.store_customer(
            _source(account, livemode, customer.stripe_account), updated
        )
        audit_record(
            account=account,
            actor=actor,
            action="customer.updated",
            target=customer,
            metadata={"changes": {name: params[name] for name in params}},
            context=context,
        )
    return customer


# --- Disputes ---------------------------------------------------------------------------
# This block's imports sit here so the blocks above stay as their authors wrote them.

from django.core.files.storage import default_storage  # noqa: E402
from django.core.files.uploadedfile import UploadedFile  # noqa: E402

from payments import models as payment_models  # noqa: E402
from payments.selectors import DISPUTE_OPEN_STATUSES, dispute_evidence_folder  # noqa: E402
from workbench.selectors import stripe_connection_for  # noqa: E402

# Evidence the dispute page edits. Stripe takes these as text...
DISPUTE_EVIDENCE_TEXT = (
    "product_description",
    "customer_name",
    "customer_email_address",
    "service_date",
    "refund_policy_disclosure",
    "uncategorized_text",
)
# ...and these as File ids (uploads with purpose=dispute_evidence).
DISPUTE_EVIDENCE_FILES = ("customer_communication", "refund_policy", "uncategorized_file")


def _dispute_store(
    *,
    account: Account,
    livemode: bool,
    dispute: Any,
    stripe_account: str,
    actor: User | None,
    action: str,
    metadata: dict[str, Any],
    context: RequestContext | None,
) -> payment_models.Dispute:
    with scope(account=account), transaction.atomic():
        row = mirroring.store_dispute(_source(account, livemode, stripe_account), dispute)
        audit_record(
            account=account,
            actor=actor,
            action=action,
            target=row,
            metadata=metadata,
            context=context,
        )
    return row


def _evidence_uploads(
    *,
    account: Account,
    livemode: bool,
    dispute: payment_models.Dispute,
    files: dict[str, UploadedFile],
    key: str,
) -> tuple[dict[str, str], list[str]]:
    """Uploads go to Stripe's Files API (purpose=dispute_evidence) and their ids into the
    evidence. The built-in sandbox has no Files API: there Paydesk keeps the upload in its
    own storage, next to the dispute, and sends only the text evidence."""
    with scope(account=account):
        connection = stripe_connection_for(account=account)
    sent: dict[str, str] = {}
    kept: list[str] = []
    for name, upload in files.items():
        if connection is not None and connection.is_sandbox:
            folder = dispute_evidence_folder(account=account, dispute=dispute)
            kept.append(default_storage.save(f"{folder}/{name}-{upload.name}", upload))
            continue
        client = client_for(account, livemode)
        with stripe_errors():
            created = client.v1.files.create(
                params={
                    "purpose": "dispute_evidence",
                    # The SDK sends any object with .read() and .name as a multipart file.
                    "file": upload,
                },
                options=request_options(f"{key}-file-{name}", dispute.stripe_account),
            )
        sent[name] = created.id
    return sent, kept


def dispute_evidence_update(
    *,
    account: Account,
    livemode: bool,
    dispute: payment_models.Dispute,
    evidence: dict[str, str],
    actor: User | None,
    files: dict[str, UploadedFile] | None = None,
    submit: bool = False,
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> payment_models.Dispute:
    """Saves evidence on an open dispute (staged, as Stripe's `submit=false`), or saves and
    submits it to the card network (`submit=True`), after which it can no longer change."""
    unknown = (set(evidence) - set(DISPUTE_EVIDENCE_TEXT)) | (
        set(files or {}) - set(DISPUTE_EVIDENCE_FILES)
    )
    if unknown:
        raise PaymentError(f"Disputes take no evidence named {', '.join(sorted(unknown))}.")
    if dispute.status not in DISPUTE_OPEN_STATUSES:
        raise PaymentError("This dispute no longer takes evidence.")
    current = dispute.data.get("evidence") or {}
    params_evidence = {
        name: value.strip()
        for name, value in evidence.items()
        if value.strip() != (current.get(name) or "")
    }
    key = idempotency_key or new_idempotency_key()
    sent, kept = _evidence_uploads(
        account=account, livemode=livemode, dispute=dispute, files=files or {}, key=key
    )
    params_evidence.update(sent)
    if submit:
        # Stripe submits what the dispute holds plus this request's changes.
        held = {name: current[name] for name in DISPUTE_EVIDENCE_TEXT if current.get(name)}
        params_evidence = {**held, **params_evidence}
        if not any(params_evidence.values()) and not kept:
            raise PaymentError("Add some evidence before submitting it.")
    elif not params_evidence:
        return dispute
    client = client_for(account, livemode)
    with stripe_errors():
        updated = client.v1.disputes.update(
            dispute.stripe_id,
            params={"evidence": params_evidence, "submit": submit},
            options=request_options(key, dispute.stripe_account),
        )
    return _dispute_store(
        account=account,
        livemode=livemode,
        dispute=updated,
        stripe_account=dispute.stripe_account,
        actor=actor,
        action="dispute.evidence_submitted" if submit else "dispute.evidence_saved",
        metadata={
            "fields": sorted(name for name in params_evidence if name not in sent),
            "files": sorted(sent),
            "files_kept_by_paydesk": kept,
        },
        context=context,
    )


def dispute_close(
    *,
    account: Account,
    livemode: bool,
    dispute: payment_models.Dispute,
    actor: User | None,
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> payment_models.Dispute:
    """Accepts the dispute: the business gives up and the amount stays with the customer."""
    client = client_for(account, livemode)
    with stripe_errors():
        closed = client.v1.disputes.close(
            dispute.stripe_id, options=request_options(idempotency_key, dispute.stripe_account)
        )
    return _dispute_store(
        account=account,
        livemode=livemode,
        dispute=closed,
        stripe_account=dispute.stripe_account,
        actor=actor,
        action="dispute.accepted",
        metadata={"amount": dispute.amount, "currency": dispute.currency},
        context=context,
    )


# --- For the REST API: deleting a customer, charging a saved card with the customer present


def customer_delete(
    *,
    account: Account,
    livemode: bool,
    customer: Customer,
    actor: User | None,
    context: RequestContext | None = None,
) -> Customer:
    """Deletes the customer at Stripe (its saved cards go with it); the mirror row stays,
    marked deleted, so past payments still name who paid."""
    client = client_for(account, livemode)
    options = {"stripe_account": customer.stripe_account} if customer.stripe_account else {}
    with stripe_errors():
        deleted = client.v1.customers.delete(customer.stripe_id, options=options)
    with scope(account=account), transaction.atomic():
        row = mirroring.store_customer(_source(account, livemode, customer.stripe_account), deleted)
        audit_record(
            account=account,
            actor=actor,
            action="customer.deleted",
            target=row,
            target_repr=customer.email or customer.name or customer.stripe_id,
            context=context,
        )
    return row


def payment_create(
    *,
    account: Account,
    livemode: bool,
    customer: Customer,
    amount: int,
    currency: str,
    actor: User | None,
    off_session: bool = True,
    payment_method: str = "",
    description: str = "",
    capture: bool = True,
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
) -> PaymentIntent:
    """Charges a customer's saved card. Off session (the customer is away) is
    `payment_charge_saved_card`; on session, a card that asks for authentication (3D
    Secure) is not a decline: the intent comes back `requires_action` with its
    `next_action` and `client_secret`, for the platform's front end to finish."""
    if off_session:
        return payment_charge_saved_card(
            account=account,
            livemode=livemode,
            customer=customer,
            amount=amount,
            currency=currency,
            actor=actor,
            payment_method=payment_method,
            description=description,
            capture=capture,
            context=context,
            idempotency_key=idempotency_key,
        )
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise PaymentError("The amount must be a positive whole number of minor units.")
    currency = currency.lower()
    if len(currency) != 3:
        raise PaymentError("Give a three-letter currency code.")
    payment_method = payment_method or default_payment_method(account=account, customer=customer)
    if not payment_method:
        raise PaymentError(f"{customer.stripe_id} has no saved card to charge.")
    params = without_blanks(
        {
            "amount": amount,
            "currency": currency,
            "customer": customer.stripe_id,
            "payment_method": payment_method,
            "payment_method_types": ["card"],
            "confirm": True,
            "capture_method": None if capture else "manual",
            "description": description,
            "expand": EXPAND_CHARGE,
        }
    )
    client = client_for(account, livemode)
    audit = {
        "amount": amount,
        "currency": currency,
        "customer": customer.stripe_id,
        "on_session": True,
    }
    return _intent_create(
        client=client,
        account=account,
        livemode=livemode,
        customer=customer,
        params=params,
        audit=audit,
        actor=actor,
        context=context,
        idempotency_key=idempotency_key,
    )
