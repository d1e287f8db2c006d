"""What the header search finds in the payments mirror: payments, customers, payouts and
disputes. Registered with `dashboard.search` from `PaymentsConfig.ready`.
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.formats import date_format

from dashboard.models import Account
from dashboard.money import format_money
from dashboard.search import ParsedQuery, SearchResult, register_search_provider
from payments.models import BalanceTransaction, Charge, Customer, Dispute, Payout, Refund
from payments.selectors import dispute_status_label

NOTHING = Q(pk__in=[])


def _words(query: ParsedQuery) -> str:
    return query.words if len(query.words) >= 2 else ""


def _balance_transaction_source(account: Account, livemode: bool, txn_id: str) -> str:
    return (
        BalanceTransaction.objects.filter(
            account=account, livemode=livemode, stripe_account="", stripe_id=txn_id
        )
        .values_list("source_stripe_id", flat=True)
        .first()
        or ""
    )


def _id_condition(
    account: Account, livemode: bool, query: ParsedQuery, prefixes: tuple[str, ...]
) -> Q | None:
    """The condition for a pasted id on objects whose ids start with `prefixes`; None when
    the query is not an id; NOTHING when it names something else. A balance transaction's
    id stands for its source (the payout or dispute that moved the money)."""
    if not query.stripe_id:
        return None
    stripe_id = query.stripe_id
    if query.id_kind == "balance_transaction":
        stripe_id = _balance_transaction_source(account, livemode, stripe_id)
    return Q(stripe_id=stripe_id) if stripe_id.startswith(prefixes) else NOTHING


def _day(value) -> str:
    return date_format(value, "M j, Y") if value else ""


# --- Payments ---------------------------------------------------------------------------


def _payment_condition(account: Account, livemode: bool, query: ParsedQuery) -> Q:
    if query.stripe_id:
        kind = query.id_kind
        if kind == "payment_intent":
            return Q(payment_intent_stripe_id=query.stripe_id)
        if kind == "charge":
            return Q(stripe_id=query.stripe_id)
        if kind == "refund":
            charges = Refund.objects.filter(
                account=account, livemode=livemode, stripe_id=query.stripe_id
            ).values("charge_stripe_id")
            return Q(stripe_id__in=charges)
        if kind == "balance_transaction":
            return Q(balance_transaction_stripe_id=query.stripe_id)
        return NOTHING
    condition = query.amount_filter() | query.created_filter()
    if query.last4:
        condition |= Q(card_last4=query.last4)
    if query.email:
        condition |= Q(receipt_email__iexact=query.email) | Q(customer__email__iexact=query.email)
    if _words(query) and query.amount is None:
        condition |= Q(customer__name__icontains=query.words) | Q(
            description__icontains=query.words
        )
    return condition


def search_payments(account, livemode, query, limit) -> list[SearchResult]:
    charges = (
        Charge.objects.filter(account=account, livemode=livemode, stripe_account="")
        .filter(_payment_condition(account, livemode, query))
        .select_related("customer")
        .order_by("-created", "-id")[:limit]
    )
    return [
        SearchResult(
            title=f"{format_money(charge.amount, charge.currency)} {charge.currency.upper()}",
            subtitle=" · ".join(
                part
                for part in (
                    f"{charge.card_brand.title()} •••• {charge.card_last4}"
                    if charge.card_last4
                    else "",
                    charge.customer.email if charge.customer else charge.receipt_email,
                    charge.status,
                    _day(charge.created),
                )
                if part
            ),
            url=reverse(
                "payments:payment_detail",
                args=[account.slug, charge.payment_intent_stripe_id or charge.stripe_id],
            ),
        )
        for charge in charges
    ]


# --- Customers --------------------------------------------------------------------------


def search_customers(account, livemode, query, limit) -> list[SearchResult]:
    if query.stripe_id:
        condition = Q(stripe_id=query.stripe_id) if query.id_kind == "customer" else NOTHING
    else:
        condition = query.created_filter()
        if query.email:
            condition |= Q(email__iexact=query.email)
        if _words(query) and query.amount is None:
            condition |= Q(name__icontains=query.words) | Q(email__icontains=query.words)
    customers = (
        Customer.objects.filter(
            account=account, livemode=livemode, stripe_account="", deleted=False
        )
        .filter(condition)
        .order_by("-created", "-id")[:limit]
    )
    return [
        SearchResult(
            title=customer.name or customer.email or customer.stripe_id,
            subtitle=" · ".join(part for part in (customer.email, customer.stripe_id) if part),
            url=reverse("payments:customer_detail", args=[account.slug, customer.stripe_id]),
        )
        for customer in customers
    ]


# --- Payouts ----------------------------------------------------------------------------


def search_payouts(account, livemode, query, limit) -> list[SearchResult]:
    condition = _id_condition(account, livemode, query, ("po_",))
    if condition is None:
        condition = query.amount_filter() | query.created_filter()
        if query.created_from is not None:
            condition |= Q(arrival_date__gte=query.created_from, arrival_date__lt=query.created_to)
    payouts = (
        Payout.objects.filter(account=account, livemode=livemode, stripe_account="")
        .filter(condition)
        .order_by("-created", "-id")[:limit]
    )
    return [
        SearchResult(
            title=f"{format_money(payout.amount, payout.currency)} {payout.currency.upper()}",
            subtitle=" · ".join(
                part for part in (payout.status, f"arrives {_day(payout.arrival_date)}") if part
            ),
            url=reverse("payments:payout_detail", args=[account.slug, payout.stripe_id]),
        )
        for payout in payouts
    ]


# --- Disputes ---------------------------------------------------------------------------


def _dispute_condition(account: Account, livemode: bool, query: ParsedQuery) -> Q:
    condition = _id_condition(account, livemode, query, ("dp_", "du_"))
    if condition is not None:
        return condition
    condition = query.amount_filter() | query.created_filter()
    if query.last4:
        condition |= Q(charge__card_last4=query.last4)
    if query.email:
        condition |= Q(charge__customer__email__iexact=query.email)
    return condition


def search_disputes(account, livemode, query, limit) -> list[SearchResult]:
    disputes = (
        Dispute.objects.filter(account=account, livemode=livemode, stripe_account="")
        .filter(_dispute_condition(account, livemode, query))
        .order_by("-created", "-id")[:limit]
    )
    return [
        SearchResult(
            title=f"{format_money(dispute.amount, dispute.currency)} "
            f"{dispute.currency.upper()} · {dispute_status_label(dispute.status)}",
            subtitle=" · ".join(
                part
                for part in (
                    dispute.reason.replace("_", " "),
                    f"evidence due {_day(dispute.evidence_due_by)}"
                    if dispute.evidence_due_by
                    else "",
                )
                if part
            ),
            url=reverse("payments:dispute_detail", args=[account.slug, dispute.stripe_id]),
        )
        for dispute in disputes
    ]


def register() -> None:
    register_search_provider(
        "payments", title="Payments", permission="payments.view", search=search_payments
    )
    register_search_provider(
        "customers", title="Customers", permission="customers.view", search=search_customers
    )
    register_search_provider(
        "payouts", title="Payouts", permission="balances.view", search=search_payouts
    )
    register_search_provider(
        "disputes", title="Disputes", permission="disputes.view", search=search_disputes
    )
