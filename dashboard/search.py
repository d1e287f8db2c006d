"""Global search: a query parser and a registry of search providers.

`dashboard` imports none of the apps that own the searchable objects (imports point one
way), so each app registers what it can find from its `AppConfig.ready`:

    register_search_provider(
        "payments", title="Payments", permission="payments.view", search=search_payments
    )

`search(account, livemode, query, limit)` returns `SearchResult` rows for one account and
mode. The parser reads the box once: a pasted Stripe id, an email, four digits (last4),
an amount ("$25.00", "25", "€10", "10 EUR") and a date ("2026-07-12", "today",
"last week"); providers match whichever of these their objects carry, plus the plain words
against names. Connected accounts (`acct_…`) register their provider with Connect.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from dashboard.models import Account
from dashboard.money import SYMBOLS, THREE_DECIMAL, ZERO_DECIMAL
from dashboard.roles import role_can

# Stripe id prefixes the box recognises, and what they name.
ID_PREFIXES = {
    "pi": "payment_intent",
    "ch": "charge",
    "py": "charge",
    "re": "refund",
    "txn": "balance_transaction",
    "cus": "customer",
    "prod": "product",
    "price": "price",
    "po": "payout",
    "dp": "dispute",
    "du": "dispute",
    "acct": "account",
}
STRIPE_ID = re.compile(r"^(?P<prefix>[a-z]+)_[A-Za-z0-9]{3,}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LAST4 = re.compile(r"^\d{4}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# "$25.00", "CA$5", "€10", "25", "1,234.56", "EUR 10", "10 eur": a currency code needs a
# space, so "abc123" stays a word rather than an amount in currency "abc".
AMOUNT = re.compile(
    r"^(?:(?P<code_before>[A-Za-z]{3})\s+|(?P<symbol>[A-Z]{0,2}[^\w\s.,-]))?"
    r"(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s+(?P<code_after>[A-Za-z]{3}))?$"
)
CURRENCY_FOR_SYMBOL = {symbol: code for code, symbol in SYMBOLS.items()}
# "$" is the US dollar unless written as CA$ or A$, as the Stripe Dashboard reads it.
CURRENCY_FOR_SYMBOL["$"] = "usd"


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    stripe_id: str = ""
    id_kind: str = ""
    email: str = ""
    last4: str = ""
    amount: Decimal | None = None  # major units, as typed
    amount_currency: str = ""  # "" when typed without a currency
    created_from: datetime | None = None
    created_to: datetime | None = None  # exclusive
    words: str = ""  # what names and descriptions are matched against

    @property
    def is_empty(self) -> bool:
        return not self.text

    def minor_units(self, currency: str) -> int | None:
        """The typed amount in `currency`'s minor units, or None when it cannot be one
        (another currency was typed, or "25.5" for yen)."""
        if self.amount is None:
            return None
        if self.amount_currency and self.amount_currency != currency.lower():
            return None
        minor = self.amount.scaleb(_decimals(currency))
        return int(minor) if minor == minor.to_integral_value() else None

    def amount_filter(self, amount_field: str = "amount", currency_field: str = "currency") -> Q:
        """Rows whose amount is the typed one, in each currency's own minor units."""
        if self.amount is None:
            return Q(pk__in=[])
        if self.amount_currency:
            minor = self.minor_units(self.amount_currency)
            if minor is None:
                return Q(pk__in=[])
            return Q(**{currency_field: self.amount_currency, amount_field: minor})
        special = ZERO_DECIMAL | THREE_DECIMAL
        # Any two-decimal currency: the most common case and the only one Stripe has many of.
        condition = Q(**{amount_field: int(self.amount.scaleb(2))}) & ~Q(
            **{f"{currency_field}__in": special}
        )
        if self.amount.scaleb(2) != self.amount.scaleb(2).to_integral_value():
            condition = Q(pk__in=[])
        for group, places in ((ZERO_DECIMAL, 0), (THREE_DECIMAL, 3)):
            minor = self.amount.scaleb(places)
            if minor == minor.to_integral_value():
                condition |= Q(**{amount_field: int(minor), f"{currency_field}__in": group})
        return condition

    def created_filter(self, created_field: str = "created") -> Q:
        if self.created_from is None:
            return Q(pk__in=[])
        return Q(
            **{f"{created_field}__gte": self.created_from, f"{created_field}__lt": self.created_to}
        )


def _decimals(currency: str) -> int:
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def _parse_amount(text: str) -> tuple[Decimal, str] | None:
    found = AMOUNT.match(text)
    if not found:
        return None
    codes = [code for code in (found.group("code_before"), found.group("code_after")) if code]
    symbol = found.group("symbol") or ""
    if len(codes) + bool(symbol) > 1:
        return None
    currency = codes[0].lower() if codes else ""
    if symbol:
        currency = CURRENCY_FOR_SYMBOL.get(symbol, "")
        if not currency:
            return None
    try:
        amount = Decimal(found.group("number").replace(",", ""))
    except InvalidOperation:
        return None
    return amount, currency


def _date_range(text: str, today: date) -> tuple[date, date] | None:
    """[first day, day after the last) for a typed date or a named period."""
    lowered = text.lower()
    if ISO_DATE.match(lowered):
        try:
            day = date.fromisoformat(lowered)
        except ValueError:
            return None
        return day, day + timedelta(days=1)
    if lowered == "today":
        return today, today + timedelta(days=1)
    if lowered == "yesterday":
        return today - timedelta(days=1), today
    if lowered == "this week":
        monday = today - timedelta(days=today.weekday())
        return monday, today + timedelta(days=1)
    if lowered == "last week":
        monday = today - timedelta(days=today.weekday())
        return monday - timedelta(days=7), monday
    if lowered == "this month":
        return today.replace(day=1), today + timedelta(days=1)
    if lowered == "last month":
        first = today.replace(day=1)
        return (first - timedelta(days=1)).replace(day=1), first
    return None


def parse_query(text: str, *, tz: tzinfo | str | None = None, now: datetime | None = None):
    """Read the search box. Dates are days in `tz` (the account's time zone)."""
    text = " ".join((text or "").split())[:200]
    if not text:
        return ParsedQuery(text="")
    zone = ZoneInfo(tz) if isinstance(tz, str) else (tz or timezone.get_current_timezone())
    today = (now or timezone.now()).astimezone(zone).date()
    found = STRIPE_ID.match(text)
    if found and found.group("prefix") in ID_PREFIXES:
        return ParsedQuery(text=text, stripe_id=text, id_kind=ID_PREFIXES[found.group("prefix")])
    if EMAIL.match(text):
        return ParsedQuery(text=text, email=text.lower(), words=text)
    days = _date_range(text, today)
    if days is not None:
        start, end = (timezone.make_aware(datetime.combine(day, time()), zone) for day in days)
        return ParsedQuery(text=text, created_from=start, created_to=end)
    amount = _parse_amount(text)
    last4 = text if LAST4.match(text) else ""
    if amount is not None:
        return ParsedQuery(
            text=text, last4=last4, amount=amount[0], amount_currency=amount[1], words=text
        )
    return ParsedQuery(text=text, words=text)


# --- Registry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    title: str
    subtitle: str
    url: str


SearchFunction = Callable[[Account, bool, ParsedQuery, int], list[SearchResult]]


@dataclass(frozen=True)
class SearchProvider:
    kind: str
    title: str
    permission: str
    search: SearchFunction


@dataclass
class SearchGroup:
    kind: str
    title: str
    results: list[SearchResult] = field(default_factory=list)


_PROVIDERS: dict[str, SearchProvider] = {}


def register_search_provider(
    kind: str, *, title: str, permission: str, search: SearchFunction
) -> SearchProvider:
    """Called from an app's `AppConfig.ready`; registering a kind twice replaces it."""
    if not role_can("owner", permission):
        raise ValueError(f"unknown action {permission!r}: add it to dashboard/roles.py")
    provider = SearchProvider(kind=kind, title=title, permission=permission, search=search)
    _PROVIDERS[kind] = provider
    return provider


def search_providers() -> list[SearchProvider]:
    return list(_PROVIDERS.values())


def search(
    *, account: Account, livemode: bool, role: str, query: ParsedQuery, limit: int = 5
) -> list[SearchGroup]:
    """Results per kind `role` may see, in one mode; kinds without results are left out."""
    if query.is_empty:
        return []
    groups = []
    for provider in _PROVIDERS.values():
        if not role_can(role, provider.permission):
            continue
        results = provider.search(account, livemode, query, limit)
        if results:
            groups.append(SearchGroup(kind=provider.kind, title=provider.title, results=results))
    return groups


def single_match(groups: list[SearchGroup]) -> SearchResult | None:
    results = [result for group in groups for result in group.results]
    return results[0] if len(results) == 1 else None
