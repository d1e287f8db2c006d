"""The list pages that can be exported, each with its columns and its page's filters.

Rows come in the list's own order (newest first by created, id) and through the list's
own filter form, so an export holds exactly what the page shows, page after page.
Registered from ReportingConfig.ready (reporting may import every app; none imports it).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.db.models.fields.json import KT

from dashboard.models import Account
from reporting.exports import BOOLEAN, DATETIME, MONEY, Column, register_export_source

NEWEST_FIRST = ("-created", "-id")


def _query(filters: dict) -> dict:
    return {name: value for name, value in filters.items() if value not in ("", None)}


# --- Payments ---------------------------------------------------------------------------


def payment_rows(account: Account, livemode: bool, filters: dict) -> QuerySet:
    from payments.forms import PaymentFilterForm
    from payments.selectors import payment_queryset

    chosen = PaymentFilterForm(_query(filters), account=account).filters()
    queryset = payment_queryset(account=account, livemode=livemode, filters=chosen)
    return queryset.order_by(*NEWEST_FIRST)


PAYMENT_COLUMNS = (
    Column("id", "ID", "stripe_id"),
    Column("created", "Created", "created", DATETIME),
    Column("amount", "Amount", "amount", MONEY),
    Column("amount_refunded", "Amount refunded", "amount_refunded", MONEY),
    Column("fee", "Fee", "fee", MONEY),
    Column("currency", "Currency", "currency"),
    Column("status", "Status", "status"),
    Column("captured", "Captured", "captured", BOOLEAN, default=False),
    Column("description", "Description", "description"),
    Column("customer_id", "Customer ID", "customer_stripe_id"),
    Column("customer_email", "Customer email", "customer__email"),
    Column("payment_intent", "Payment intent", "payment_intent_stripe_id", default=False),
    Column("card_brand", "Card brand", "card_brand"),
    Column("card_last4", "Card last 4", "card_last4"),
    Column("failure_code", "Failure code", "failure_code", default=False),
)


# --- Balance transactions -----------------------------------------------------------------


def balance_transaction_rows(account: Account, livemode: bool, filters: dict) -> QuerySet:
    from payments.models import BalanceTransaction

    queryset = BalanceTransaction.objects.filter(
        account=account, livemode=livemode, stripe_account=""
    )
    if filters.get("type"):
        queryset = queryset.filter(type=filters["type"])
    if filters.get("currency"):
        queryset = queryset.filter(currency=filters["currency"].lower())
    if filters.get("payout"):
        queryset = queryset.filter(payout_stripe_id=filters["payout"])
    return queryset.order_by(*NEWEST_FIRST)


BALANCE_TRANSACTION_COLUMNS = (
    Column("id", "ID", "stripe_id"),
    Column("created", "Created", "created", DATETIME),
    Column("available_on", "Available on", "available_on", DATETIME),
    Column("type", "Type", "type"),
    Column("reporting_category", "Reporting category", "reporting_category"),
    Column("status", "Status", "status"),
    Column("amount", "Amount", "amount", MONEY),
    Column("fee", "Fee", "fee", MONEY),
    Column("net", "Net", "net", MONEY),
    Column("currency", "Currency", "currency"),
    Column("description", "Description", KT("data__description")),
    Column("source", "Source", "source_stripe_id"),
    Column("payout", "Payout", "payout_stripe_id", default=False),
)


# --- Customers ----------------------------------------------------------------------------


def customer_rows(account: Account, livemode: bool, filters: dict) -> QuerySet:
    from django.db.models import Exists, OuterRef

    from payments.forms import CustomerFilterForm
    from payments.models import Customer, PaymentMethod

    chosen = CustomerFilterForm(_query(filters), account=account).filters()
    queryset = Customer.objects.filter(
        account=account, livemode=livemode, stripe_account="", deleted=False
    )
    if chosen.email:
        queryset = queryset.filter(email__icontains=chosen.email.strip())
    if chosen.name:
        queryset = queryset.filter(name__icontains=chosen.name.strip())
    if chosen.created_from is not None:
        queryset = queryset.filter(created__gte=chosen.created_from)
    if chosen.created_to is not None:
        queryset = queryset.filter(created__lt=chosen.created_to)
    if chosen.has_payment_method is not None:
        with_method = Exists(
            PaymentMethod.objects.filter(account=account, customer_stripe_id=OuterRef("stripe_id"))
        )
        queryset = queryset.filter(with_method if chosen.has_payment_method else ~with_method)
    if chosen.delinquent is not None:
        queryset = queryset.filter(delinquent=chosen.delinquent)
    return queryset.order_by(*NEWEST_FIRST)


CUSTOMER_COLUMNS = (
    Column("id", "ID", "stripe_id"),
    Column("created", "Created", "created", DATETIME),
    Column("email", "Email", "email"),
    Column("name", "Name", "name"),
    Column("phone", "Phone", "phone", default=False),
    Column("description", "Description", "description"),
    Column("delinquent", "Delinquent", "delinquent", BOOLEAN),
)


# --- Payouts ------------------------------------------------------------------------------


def payout_rows(account: Account, livemode: bool, filters: dict) -> QuerySet:
    from payments.models import Payout

    queryset = Payout.objects.filter(account=account, livemode=livemode, stripe_account="")
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    return queryset.order_by(*NEWEST_FIRST)


PAYOUT_COLUMNS = (
    Column("id", "ID", "stripe_id"),
    Column("created", "Created", "created", DATETIME),
    Column("arrival_date", "Arrival date", "arrival_date", DATETIME),
    Column("amount", "Amount", "amount", MONEY),
    Column("currency", "Currency", "currency"),
    Column("status", "Status", "status"),
    Column("method", "Method", "method"),
    Column("automatic", "Automatic", "automatic", BOOLEAN),
    Column("failure_code", "Failure code", "failure_code", default=False),
)


# --- Disputes -----------------------------------------------------------------------------


def dispute_rows(account: Account, livemode: bool, filters: dict) -> QuerySet:
    from payments.models import Dispute
    from payments.selectors import DisputeTab

    queryset = Dispute.objects.filter(account=account, livemode=livemode, stripe_account="")
    # The list's tabs: `status` names a tab (needs_response by default, as on the page).
    tab = filters.get("status") or DisputeTab.NEEDS_RESPONSE
    if tab not in dict(DisputeTab.CHOICES):
        tab = DisputeTab.NEEDS_RESPONSE
    if tab != DisputeTab.ALL:
        queryset = queryset.filter(status__in=DisputeTab.STATUSES[tab])
    return queryset.order_by(*NEWEST_FIRST)


DISPUTE_COLUMNS = (
    Column("id", "ID", "stripe_id"),
    Column("created", "Created", "created", DATETIME),
    Column("amount", "Amount", "amount", MONEY),
    Column("currency", "Currency", "currency"),
    Column("status", "Status", "status"),
    Column("reason", "Reason", "reason"),
    Column("evidence_due_by", "Evidence due by", "evidence_due_by", DATETIME),
    Column("charge", "Charge", "charge_stripe_id"),
    Column("customer_email", "Customer email", "charge__customer__email", default=False),
)


# --- Connected accounts ---------------------------------------------------------------


def connected_account_rows(account: Account, livemode: bool, filters: dict) -> QuerySet:
    from django.db.models import Q

    from connect.forms import AccountFilterForm
    from connect.models import AccountStatus, ConnectedAccount

    chosen = AccountFilterForm(_query(filters)).filters()
    queryset = ConnectedAccount.objects.filter(
        account=account, livemode=livemode, deauthorized=False
    )
    if filters.get("tab") in AccountStatus.values:
        queryset = queryset.filter(status=filters["tab"])
    if chosen.query:
        queryset = queryset.filter(
            Q(stripe_id=chosen.query)
            | Q(email__icontains=chosen.query)
            | Q(business_name__icontains=chosen.query)
        )
    if chosen.country:
        queryset = queryset.filter(country=chosen.country.upper())
    if chosen.type:
        queryset = queryset.filter(type=chosen.type)
    return queryset.order_by(*NEWEST_FIRST)


CONNECTED_ACCOUNT_COLUMNS = (
    Column("id", "ID", "stripe_id"),
    Column("created", "Created", "created", DATETIME),
    Column("business_name", "Business name", "business_name"),
    Column("email", "Email", "email"),
    Column("type", "Type", "type"),
    Column("status", "Status", "status"),
    Column("country", "Country", "country"),
    Column("default_currency", "Default currency", "default_currency"),
    Column("charges_enabled", "Charges enabled", "charges_enabled", BOOLEAN),
    Column("payouts_enabled", "Payouts enabled", "payouts_enabled", BOOLEAN),
    Column("details_submitted", "Details submitted", "details_submitted", BOOLEAN, default=False),
)


def register() -> None:
    register_export_source(
        "payments",
        title="Payments",
        permission="payments.view",
        columns=PAYMENT_COLUMNS,
        rows=payment_rows,
        list_url_name="payments:payment_list",
    )
    register_export_source(
        "balance_transactions",
        title="Balance transactions",
        permission="balances.view",
        columns=BALANCE_TRANSACTION_COLUMNS,
        rows=balance_transaction_rows,
        list_url_name="payments:balance_history",
    )
    register_export_source(
        "customers",
        title="Customers",
        permission="customers.view",
        columns=CUSTOMER_COLUMNS,
        rows=customer_rows,
        list_url_name="payments:customer_list",
    )
    register_export_source(
        "payouts",
        title="Payouts",
        permission="balances.view",
        columns=PAYOUT_COLUMNS,
        rows=payout_rows,
        list_url_name="payments:payouts",
    )
    register_export_source(
        "disputes",
        title="Disputes",
        permission="disputes.view",
        columns=DISPUTE_COLUMNS,
        rows=dispute_rows,
        list_url_name="payments:dispute_list",
    )
    register_export_source(
        "connected_accounts",
        title="Connected accounts",
        permission="connect.view",
        columns=CONNECTED_ACCOUNT_COLUMNS,
        rows=connected_account_rows,
        list_url_name="connect:account_list",
    )
