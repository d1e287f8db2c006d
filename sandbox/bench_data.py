"""Benchmark datasets: one large tenant and a few small neighbours, written in bulk.

The demo goes through the sandbox and the webhook path (`sandbox.demo_history`), which is
right for a year of one business but far too slow for a million balance transactions. The
benchmarks of the list pages, analytics and exports need that volume, so this module writes
the mirror rows directly, with PostgreSQL's COPY (psycopg 3 `cursor.copy()`): the same
tables and the same typed columns the handlers fill (customers, payment intents, charges,
refunds, balance transactions, automatic daily payouts and the daily rollups), consistent
with each other the way Stripe's objects are:

- a charge's balance transaction has `amount`, the card fee and `net`; it becomes
  available two days after the charge; the charge carries the same `fee`;
- a refund has its own negative balance transaction (no fee), and the charge's
  `amount_refunded`/`refunded` follow;
- every midnight (UTC) an automatic payout sweeps what became available and was not paid
  out yet: its amount is the sum of their `net`, its own balance transaction is minus that,
  and every swept transaction carries the payout's id (`GET /v1/balance_transactions?
  payout=` at Stripe); the payout is paid two days later;
- each `DailyRollup` (the account's local day) is the sum, over that day's objects, of what
  `reporting.handlers.contribution_of` counts for them.

Two honest differences with rows the handlers write: `data` holds an abridged object (the
fields the pages show, not every key Stripe sends), and no `RollupContribution` rows are
written (they only matter when a later event changes an object; bench tenants are not
connected to Stripe, so none arrives). The figures are printed by `bench/seed_bench.py`.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from dashboard import services as dashboard_services
from dashboard.models import Account, User
from sandbox import fees, ids

DAY = 86400
LARGE_SLUG = "bench-large"
BENCH_DOMAIN = "bench.paydesk.test"
AVAILABLE_AFTER = 2 * DAY
PAYOUT_ARRIVAL = 2 * DAY
DECLINE_RATE = 0.04
BRANDS = [("visa", "4242", 46), ("mastercard", "4444", 28), ("amex", "0005", 12),
          ("discover", "1117", 6), ("visa", "5556", 8)]  # fmt: skip
DECLINES = [
    ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    ("card_declined", "generic_decline", "Your card was declined."),
    ("expired_card", "expired_card", "Your card has expired."),
    ("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."),
]
NEIGHBOURS = [
    ("bench-neighbour-eur", "Bench Neighbour EUR", "DE", "eur", "Europe/Berlin", 6500),
    ("bench-neighbour-gbp", "Bench Neighbour GBP", "GB", "gbp", "Europe/London", 3800),
    ("bench-neighbour-jpy", "Bench Neighbour JPY", "JP", "jpy", "Asia/Tokyo", 5200),
]

MIRROR_TABLES = [
    "payments_refund",
    "payments_charge",
    "payments_paymentintent",
    "payments_customer",
    "payments_balancetransaction",
    "payments_payout",
    "reporting_dailyrollup",
]
COLUMNS = {
    "payments_customer": [
        "id", "account_id", "livemode", "stripe_id", "stripe_account", "created", "data",
        "source_time", "source_sequence", "email", "name", "phone", "description",
        "delinquent", "deleted",
    ],
    "payments_paymentintent": [
        "id", "account_id", "livemode", "stripe_id", "stripe_account", "created", "data",
        "source_time", "source_sequence", "amount", "amount_received", "amount_capturable",
        "currency", "status", "customer_stripe_id", "customer_id", "payment_method_stripe_id",
        "capture_method", "description", "latest_charge_stripe_id",
    ],
    "payments_charge": [
        "id", "account_id", "livemode", "stripe_id", "stripe_account", "created", "data",
        "source_time", "source_sequence", "amount", "amount_captured", "amount_refunded",
        "currency", "status", "paid", "captured", "refunded", "disputed", "failure_code",
        "failure_message", "outcome_type", "decline_code", "customer_stripe_id", "customer_id",
        "payment_intent_stripe_id", "payment_intent_id", "payment_method_stripe_id",
        "card_brand", "card_last4", "balance_transaction_stripe_id", "fee", "receipt_email",
        "description",
    ],
    "payments_refund": [
        "id", "account_id", "livemode", "stripe_id", "stripe_account", "created", "data",
        "source_time", "source_sequence", "charge_stripe_id", "charge_id", "amount", "currency",
        "status", "reason", "balance_transaction_stripe_id",
    ],
    "payments_balancetransaction": [
        "id", "account_id", "livemode", "stripe_id", "stripe_account", "created", "data",
        "source_time", "source_sequence", "amount", "fee", "net", "currency", "type",
        "reporting_category", "status", "available_on", "source_stripe_id", "payout_stripe_id",
    ],
    "payments_payout": [
        "id", "account_id", "livemode", "stripe_id", "stripe_account", "created", "data",
        "source_time", "source_sequence", "amount", "currency", "status", "arrival_date",
        "method", "automatic", "failure_code",
    ],
    "reporting_dailyrollup": [
        "account_id", "livemode", "currency", "day", "updated", "gross_volume", "net_volume",
        "fees", "refunds", "successful_payments", "failed_payments", "new_customers",
        "disputes",
    ],
}  # fmt: skip


class BenchDataExists(Exception):
    """The bench tenants are there already (use reset)."""


@dataclass
class Figures:
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: float = 0.0
    raw_rows: int = 0
    raw_seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0

    @property
    def raw_rows_per_second(self) -> float:
        return self.raw_rows / self.raw_seconds if self.raw_seconds else 0.0

    @property
    def ratio_to_raw_copy(self) -> float:
        raw = self.raw_rows_per_second
        return self.rows_per_second / raw if raw else 0.0


@lru_cache(maxsize=65536)
def card_fee(amount: int, currency: str) -> int:
    return fees.card_fee(amount, currency)


def _dumps(obj: dict) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _reserve_ids(table: str, count: int) -> int:
    """The first of `count` consecutive primary keys, taken from the table's sequence."""
    if count <= 0:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            "nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
            [table, table, count],
        )
        (last,) = cursor.fetchone()
    return last - count + 1


class IdBlocks:
    """Primary keys taken from each table's sequence a block at a time, so rows can point
    at each other (charge → customer, refund → charge) before they are written."""

    TABLES = {
        "customer": "payments_customer",
        "intent": "payments_paymentintent",
        "charge": "payments_charge",
        "refund": "payments_refund",
        "bt": "payments_balancetransaction",
        "payout": "payments_payout",
    }
    BLOCK = 20000

    def __init__(self):
        self.blocks: dict[str, tuple[int, int]] = {}

    def take(self, kind: str) -> int:
        current, end = self.blocks.get(kind, (0, 0))
        if current >= end:
            current = _reserve_ids(self.TABLES[kind], self.BLOCK)
            end = current + self.BLOCK
        self.blocks[kind] = (current + 1, end)
        return current


class Writer:
    """One COPY per table, fed row by row as the generator produces them."""

    def __init__(self, figures: Figures):
        self.figures = figures
        self.buffers: dict[str, list[tuple]] = defaultdict(list)

    def add(self, table: str, row: tuple) -> None:
        buffer = self.buffers[table]
        buffer.append(row)
        if len(buffer) >= 20000:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        for name in [table] if table else list(self.buffers):
            rows = self.buffers[name]
            if not rows:
                continue
            with connection.cursor() as cursor:
                columns = ", ".join(COLUMNS[name])
                with cursor.cursor.copy(f"COPY {name} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            self.figures.rows[name] += len(rows)
            self.buffers[name] = []


@dataclass
class TenantSpec:
    slug: str
    name: str
    country: str
    currency: str
    timezone_name: str
    typical_amount: int
    balance_transactions: int
    days: int


class TenantBuilder:
    """The mirror of one account's history, generated day by day and written by COPY."""

    def __init__(self, *, account: Account, spec: TenantSpec, seed: int, writer: Writer):
        self.account = account
        self.spec = spec
        self.rng = random.Random(f"{seed}:{spec.slug}")
        self.writer = writer
        self.zone = ZoneInfo(spec.timezone_name)
        self.currency = spec.currency
        self.now = int(timezone.now().timestamp())
        today = self.now - self.now % DAY
        self.start = today - spec.days * DAY
        self.rollups: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.customers: list[tuple[int, str]] = []
        self.balance_transactions = 0
        # Available and not yet paid out: (available_on, row id, net) → swept at midnight.
        self.unswept: list[tuple[int, str, int]] = []
        self.pending_payouts: list[tuple[int, str, int]] = []
        # Balance transaction rows are held back until their payout is known.
        self.held: dict[str, list] = {}
        # Recent successful charges, held (and written later) because a refund changes them.
        self.refundable: list = []

    # --- helpers ------------------------------------------------------------------------

    def _token(self, length: int) -> str:
        # From the seeded generator: fast, and the same ids for the same --seed.
        return "".join(self.rng.choices(ids.ALPHABET, k=length))

    def _base(self, row_id: int, stripe_id: str, created: int, data: dict) -> tuple:
        moment = datetime.fromtimestamp(created, tz=UTC)
        return (row_id, self.account.pk, True, stripe_id, "", moment, _dumps(data), moment, 0)

    def _day(self, created: int) -> date:
        return datetime.fromtimestamp(created, tz=self.zone).date()

    def _amount(self) -> int:
        amount = int(self.spec.typical_amount * (2.718281828 ** self.rng.gauss(0, 0.7)))
        if self.currency == "jpy":
            return max(amount // 10 * 10, 100)
        return max(amount // 100 * 100 + self.rng.choice([0, 0, 50, 99]), 100)

    def _balance_transaction(
        self,
        *,
        created: int,
        amount: int,
        fee: int,
        kind: str,
        category: str,
        source: str,
        available_on: int,
        description: str,
        payout: str = "",
    ) -> str:
        stripe_id = "txn_" + self._token(24)
        status = "available" if available_on <= self.now else "pending"
        data = {
            "id": stripe_id,
            "object": "balance_transaction",
            "amount": amount,
            "available_on": available_on,
            "created": created,
            "currency": self.currency,
            "description": description,
            "fee": fee,
            "fee_details": (
                [{"amount": fee, "currency": self.currency, "type": "stripe_fee"}] if fee else []
            ),
            "net": amount - fee,
            "reporting_category": category,
            "source": source,
            "status": status,
            "type": kind,
        }
        self.held[stripe_id] = [
            created,
            data,
            amount,
            fee,
            kind,
            category,
            status,
            available_on,
            source,
            payout,
        ]
        self.balance_transactions += 1
        if kind != "payout":
            self.unswept.append((available_on, stripe_id, amount - fee))
        if kind not in {"payout", "payout_failure", "payout_cancel", "topup"}:
            rollup = self.rollups[self._day(created)]
            rollup["net_volume"] += amount - fee
            rollup["fees"] += fee
        return stripe_id

    def _write_balance_transaction(self, stripe_id: str, row_id: int) -> None:
        created, data, amount, fee, kind, category, status, available_on, source, payout = (
            self.held.pop(stripe_id)
        )
        self.writer.add(
            "payments_balancetransaction",
            (
                *self._base(row_id, stripe_id, created, data),
                amount,
                fee,
                amount - fee,
                self.currency,
                kind,
                category,
                status,
                datetime.fromtimestamp(available_on, tz=UTC),
                source,
                payout,
            ),
        )

    # --- the history --------------------------------------------------------------------

    def run(self, progress: Callable[[str], None]) -> None:
        target = self.spec.balance_transactions
        days = self.spec.days
        # Daily volume doubles over the period and dips at weekends.
        weights = []
        for day in range(days):
            weekday = datetime.fromtimestamp(self.start + day * DAY, tz=UTC).weekday()
            weights.append((1 + day / days) * (0.75 if weekday >= 5 else 1.0))
        # Each successful charge makes one transaction, refunds ~3% more, payouts one a day;
        # declined charges make none.
        succeeded = max(int((target - days) / 1.03), days)
        scale = succeeded / (1 - DECLINE_RATE) / sum(weights)
        next_ids = IdBlocks()
        reported = 0
        for day in range(days):
            midnight = self.start + day * DAY
            self._payout(midnight, next_ids)
            # Leave room for the remaining days' payouts so the total lands on the target.
            room = target - self.balance_transactions - (days - day)
            count = min(
                int(weights[day] * scale + self.rng.random()),
                max(int(room / 1.03 / (1 - DECLINE_RATE)), 0),
            )
            for _ in range(count // 40 + (1 if count else 0)):
                self._new_customer(midnight + self.rng.randrange(DAY), next_ids)
            for _ in range(count):
                self._payment(midnight + self.rng.randrange(DAY), next_ids)
            for _ in range(int(count * 0.03 + self.rng.random())):
                if self.refundable and self.balance_transactions < target - (days - day):
                    self._refund(midnight + self.rng.randrange(DAY), next_ids)
            if self.balance_transactions // 100000 > reported:
                reported = self.balance_transactions // 100000
                progress(f"{self.spec.slug}: {self.balance_transactions:,} balance transactions…")
        # Refunds of the last weeks make up the exact count, then today's payout.
        while self.balance_transactions < target - 1 and self.refundable:
            self._refund(self.now - self.rng.randrange(DAY), next_ids)
        self._payout(self.now - self.now % DAY, next_ids)
        for stripe_id in list(self.held):
            self._write_balance_transaction(stripe_id, next_ids.take("bt"))
        for held in self.refundable:
            self._write_charge(held)
        self.refundable = []
        self._write_rollups()
        self.writer.flush()

    def _new_customer(self, created: int, next_ids: IdBlocks) -> None:
        row_id = next_ids.take("customer")
        stripe_id = "cus_" + self._token(14)
        number = len(self.customers) + 1
        email = f"customer{number}@example.com"
        name = f"Customer {number}"
        data = {
            "id": stripe_id,
            "object": "customer",
            "created": created,
            "email": email,
            "name": name,
            "livemode": True,
            "metadata": {},
            "delinquent": False,
            "currency": self.currency,
        }
        self.writer.add(
            "payments_customer",
            (*self._base(row_id, stripe_id, created, data), email, name, "", "", False, False),
        )
        self.customers.append((row_id, stripe_id))
        self.rollups[self._day(created)]["new_customers"] += 1

    def _payment(self, created: int, next_ids: IdBlocks) -> None:
        if not self.customers:
            self._new_customer(created, next_ids)
        customer_pk, customer = self.customers[
            min(int(len(self.customers) * self.rng.random() ** 1.3), len(self.customers) - 1)
        ]
        amount = self._amount()
        declined = self.rng.random() < DECLINE_RATE
        intent_pk = next_ids.take("intent")
        charge_pk = next_ids.take("charge")
        intent_id = "pi_" + self._token(24)
        charge_id = "ch_" + self._token(24)
        method_id = "pm_" + self._token(24)
        brand, last4, _ = self.rng.choices(BRANDS, [weight for *_, weight in BRANDS])[0]
        rollup = self.rollups[self._day(created)]
        fee = None
        balance_transaction = ""
        if declined:
            code, decline_code, message = self.rng.choice(DECLINES)
            status, outcome = "failed", "issuer_declined"
            rollup["failed_payments"] += 1
        else:
            code = decline_code = message = ""
            status, outcome = "succeeded", "authorized"
            fee = card_fee(amount, self.currency)
            balance_transaction = self._balance_transaction(
                created=created,
                amount=amount,
                fee=fee,
                kind="charge",
                category="charge",
                source=charge_id,
                available_on=created + AVAILABLE_AFTER,
                description=None,
            )
            rollup["gross_volume"] += amount
            rollup["successful_payments"] += 1
        description = f"Order {self.rng.randrange(100000, 999999)}"
        charge = {
            "id": charge_id,
            "object": "charge",
            "amount": amount,
            "amount_captured": 0 if declined else amount,
            "amount_refunded": 0,
            "balance_transaction": balance_transaction or None,
            "captured": not declined,
            "created": created,
            "currency": self.currency,
            "customer": customer,
            "description": description,
            "disputed": False,
            "failure_code": code or None,
            "failure_message": message or None,
            "livemode": True,
            "outcome": {
                "network_status": "declined_by_network" if declined else "approved_by_network",
                "reason": decline_code or None,
                "risk_level": "normal",
                "type": outcome,
            },
            "paid": not declined,
            "payment_intent": intent_id,
            "payment_method": method_id,
            "payment_method_details": {
                "card": {"brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2030},
                "type": "card",
            },
            "refunded": False,
            "status": status,
        }
        intent_status = "requires_payment_method" if declined else "succeeded"
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0 if declined else amount,
            "capture_method": "automatic_async",
            "created": created,
            "currency": self.currency,
            "customer": customer,
            "description": description,
            "latest_charge": charge_id,
            "livemode": True,
            "payment_method": None if declined else method_id,
            "status": intent_status,
        }
        self.writer.add(
            "payments_paymentintent",
            (
                *self._base(intent_pk, intent_id, created, intent),
                amount,
                intent["amount_received"],
                0,
                self.currency,
                intent_status,
                customer,
                customer_pk,
                intent["payment_method"] or "",
                "automatic_async",
                description,
                charge_id,
            ),
        )
        charge_row = [
            *self._base(charge_pk, charge_id, created, charge),
            amount,
            charge["amount_captured"],
            0,
            self.currency,
            status,
            not declined,
            not declined,
            False,
            False,
            code,
            message,
            outcome,
            decline_code,
            customer,
            customer_pk,
            intent_id,
            intent_pk,
            method_id,
            brand,
            last4,
            balance_transaction,
            fee,
            "",
            description,
        ]
        if declined:
            self.writer.add("payments_charge", tuple(charge_row))
        else:
            # Held until it is refunded (or not): a refund changes the charge's row.
            self.refundable.append((created, charge_row, charge))
            if len(self.refundable) > 3000:
                self._write_charge(self.refundable.pop(0))

    def _write_charge(self, held) -> None:
        _created, charge_row, charge = held
        charge_row[6] = _dumps(charge)
        self.writer.add("payments_charge", tuple(charge_row))

    def _refund(self, created: int, next_ids: IdBlocks) -> None:
        index = self.rng.randrange(len(self.refundable))
        charge_created, charge_row, charge = self.refundable.pop(index)
        created = max(created, charge_created + 60)
        amount = charge["amount"]
        partial = self.rng.random() < 0.3
        refunded = max(amount // 2, 1) if partial else amount
        refund_id = "re_" + self._token(24)
        balance_transaction = self._balance_transaction(
            created=created,
            amount=-refunded,
            fee=0,
            kind="refund",
            category="refund",
            source=refund_id,
            available_on=created,
            description="REFUND FOR CHARGE",
        )
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": refunded,
            "balance_transaction": balance_transaction,
            "charge": charge["id"],
            "created": created,
            "currency": self.currency,
            "payment_intent": charge["payment_intent"],
            "reason": "requested_by_customer",
            "status": "succeeded",
        }
        self.writer.add(
            "payments_refund",
            (
                *self._base(next_ids.take("refund"), refund_id, created, refund),
                charge["id"],
                charge_row[0],
                refunded,
                self.currency,
                "succeeded",
                "requested_by_customer",
                balance_transaction,
            ),
        )
        self.rollups[self._day(created)]["refunds"] += refunded
        charge["amount_refunded"] = refunded
        charge["refunded"] = not partial
        charge_row[11] = refunded  # amount_refunded
        charge_row[16] = not partial  # refunded
        self._write_charge((charge_created, charge_row, charge))

    def _payout(self, midnight: int, next_ids: IdBlocks) -> None:
        """The automatic daily payout: what is available by `midnight` and not paid out."""
        due = [item for item in self.unswept if item[0] <= midnight]
        total = sum(net for _, _, net in due)
        if not due or total <= 0:
            return  # nothing to pay out: it stays in the balance for the next one
        self.unswept = [item for item in self.unswept if item[0] > midnight]
        payout_id = "po_" + self._token(24)
        arrival = midnight + PAYOUT_ARRIVAL
        status = "paid" if arrival <= self.now else "in_transit"
        own = self._balance_transaction(
            created=midnight,
            amount=-total,
            fee=0,
            kind="payout",
            category="payout",
            source=payout_id,
            available_on=midnight,
            description="STRIPE PAYOUT",
            payout=payout_id,
        )
        payout = {
            "id": payout_id,
            "object": "payout",
            "amount": total,
            "arrival_date": arrival,
            "automatic": True,
            "balance_transaction": own,
            "created": midnight,
            "currency": self.currency,
            "description": "STRIPE PAYOUT",
            "livemode": True,
            "method": "standard",
            "status": status,
            "type": "bank_account",
        }
        self.writer.add(
            "payments_payout",
            (
                *self._base(next_ids.take("payout"), payout_id, midnight, payout),
                total,
                self.currency,
                status,
                datetime.fromtimestamp(arrival, tz=UTC),
                "standard",
                True,
                "",
            ),
        )
        for _, stripe_id, _ in due:
            self.held[stripe_id][9] = payout_id
            self._write_balance_transaction(stripe_id, next_ids.take("bt"))
        self._write_balance_transaction(own, next_ids.take("bt"))

    def _write_rollups(self) -> None:
        updated = timezone.now()
        for day, measures in sorted(self.rollups.items()):
            self.writer.add(
                "reporting_dailyrollup",
                (
                    self.account.pk,
                    True,
                    self.currency,
                    day,
                    updated,
                    measures["gross_volume"],
                    measures["net_volume"],
                    measures["fees"],
                    measures["refunds"],
                    measures["successful_payments"],
                    measures["failed_payments"],
                    measures["new_customers"],
                    0,
                ),
            )


def bench_slugs() -> list[str]:
    return [LARGE_SLUG, *(slug for slug, *_ in NEIGHBOURS)]


def delete_bench() -> None:
    """The bench tenants and everything they own (plain DELETEs: millions of rows)."""
    account_ids = list(Account.objects.filter(slug__in=bench_slugs()).values_list("pk", flat=True))
    if not account_ids:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        for table in ["reporting_rollupcontribution", *MIRROR_TABLES]:
            cursor.execute(
                f"DELETE FROM {table} WHERE account_id = ANY(%s)",  # noqa: S608
                [account_ids],
            )
        for account in Account.objects.filter(pk__in=account_ids):
            account.delete()
    User.objects.filter(email__endswith=f"@{BENCH_DOMAIN}").delete()


def build(
    *,
    balance_transactions: int = 1_000_000,
    days: int = 730,
    seed: int = 1,
    neighbours: int = 3,
    reset: bool = False,
    progress: Callable[[str], None] = print,
) -> Figures:
    """Writes the bench tenants and measures the rate against a raw COPY of the same rows.

    Each tenant is written in one transaction, so an interrupted run leaves whole tenants;
    run again with `reset` to start over."""
    if Account.objects.filter(slug__in=bench_slugs()).exists():
        if not reset:
            raise BenchDataExists(
                "The bench tenants exist already; nothing was changed. Use --reset to rebuild."
            )
        progress("Deleting the previous bench tenants…")
        delete_bench()
    owner, _ = User.objects.get_or_create(email=f"owner@{BENCH_DOMAIN}")
    specs = [
        TenantSpec(
            LARGE_SLUG, "Bench Large", "US", "usd", "America/New_York", 4500,
            balance_transactions, days,
        )
    ]  # fmt: skip
    for slug, name, country, currency, zone, typical in NEIGHBOURS[:neighbours]:
        specs.append(
            TenantSpec(
                slug, name, country, currency, zone, typical,
                max(balance_transactions // 100, 500), min(days, 180),
            )
        )  # fmt: skip
    figures = Figures()
    started = time.monotonic()
    for spec in specs:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            account = dashboard_services.account_create(
                owner=owner,
                name=spec.name,
                slug=spec.slug,
                country=spec.country,
                default_currency=spec.currency,
                timezone_name=spec.timezone_name,
            )
            writer = Writer(figures)
            TenantBuilder(account=account, spec=spec, seed=seed, writer=writer).run(progress)
        progress(f"{spec.slug}: written.")
    with connection.cursor() as cursor:
        for table in MIRROR_TABLES:
            cursor.execute(f"ANALYZE {table}")
    figures.seconds = time.monotonic() - started
    large = Account.objects.get(slug=LARGE_SLUG)
    figures.raw_rows, figures.raw_seconds = raw_copy_of_balance_transactions(account=large)
    return figures


def _copy_out(account: Account) -> Iterator[bytes]:
    columns = ", ".join(COLUMNS["payments_balancetransaction"])
    with connection.cursor() as cursor:
        query = (
            f"COPY (SELECT {columns} FROM payments_balancetransaction "  # noqa: S608
            f"WHERE account_id = {int(account.pk)}) TO STDOUT"
        )
        with cursor.cursor.copy(query) as copy:
            yield from copy


def raw_copy_of_balance_transactions(*, account: Account) -> tuple[int, float]:
    """(rows, seconds) of a plain COPY of the tenant's balance transactions, byte for byte
    as stored, into a scratch table with the same columns and no index or constraint."""
    with tempfile.TemporaryFile() as spool:
        for chunk in _copy_out(account):
            spool.write(chunk)
        spool.seek(0)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute(
                "CREATE TEMP TABLE bench_raw_copy (LIKE payments_balancetransaction) ON COMMIT DROP"
            )
            columns = ", ".join(COLUMNS["payments_balancetransaction"])
            started = time.monotonic()
            with cursor.cursor.copy(f"COPY bench_raw_copy ({columns}) FROM STDIN") as copy:
                while chunk := spool.read(1 << 20):
                    copy.write(chunk)
            seconds = time.monotonic() - started
            cursor.execute("SELECT count(*) FROM bench_raw_copy")
            (rows,) = cursor.fetchone()
            cursor.execute("DROP TABLE bench_raw_copy")
    return rows, seconds
