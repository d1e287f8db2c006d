"""Twelve months of believable Stripe history for a demo account, made through the sandbox.

Everything goes the way real traffic would: the platform's backend calls the API with the
account's own SDK client (`workbench.client.stripe_client`) for customers, cards, payments,
refunds and dispute answers; an operator creates the catalog and tops up through the
console's services; the card network opens and decides disputes (`sandbox.services`). The
sandbox answers, records events and sends signed webhooks to the
account's endpoint; the workbench stores them and its drain (the function the Celery task
runs) hands them to the handlers that fill the mirror and the daily rollups. Nothing here
writes a mirror row itself.

Time: the account's test clock is set to 12 months ago, then moved through each day to the
moment of each action, and over each midnight, so funds become available, the automatic
daily payouts are made and arrive, and dispute deadlines pass as they would have.

The day's activity is made by one method per section (`_customers_of_day`, `_payments_of_day`,
`_refunds_of_day`, `_disputes_of_day`, `_topups_of_day`); two hooks are left for what the
sandbox does not emulate yet:

- `connect_of_day`: connected Express accounts, destination charges, application fees and
  transfers (the Connect issue). Create the accounts in `connect_setup`, then the day's
  destination charges here.
- `billing_of_day`: subscriptions and invoices (the billing issue), on the catalog that
  `_catalog` creates.

Both are no-ops today; give them a body when the sandbox grows, and the demo grows with it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import stripe
from django.db import connection
from django.utils import timezone
from django_scopes import scope

from dashboard.models import Account, User
from payments import services_balances
from sandbox import delivery
from sandbox import services as sandbox_services
from workbench import services as workbench_services
from workbench.client import stripe_client
from workbench.models import StripeConnection

DAY = 86400

# Saved cards: the sandbox's test payment method ids, weighted like a US card mix.
CARD_MIX_USD = [
    ("pm_card_visa", 40),
    ("pm_card_mastercard", 22),
    ("pm_card_amex", 11),
    ("pm_card_discover", 4),
    ("pm_card_visa_debit", 9),
    ("pm_card_us", 4),
    ("pm_card_gb", 4),
    ("pm_card_fr", 3),
    ("pm_card_br", 3),
]
CARD_MIX_EUR = [
    ("pm_card_fr", 30),
    ("pm_card_visa", 25),
    ("pm_card_mastercard", 25),
    ("pm_card_gb", 10),
    ("pm_card_amex", 5),
    ("pm_card_br", 5),
]
# Declined attempts: Stripe's test cards for the common issuer decline codes.
DECLINES = [
    ("pm_card_chargeDeclinedInsufficientFunds", 40),
    ("pm_card_chargeDeclined", 25),
    ("pm_card_chargeDeclinedExpiredCard", 12),
    ("pm_card_chargeDeclinedIncorrectCvc", 10),
    ("pm_card_chargeDeclinedProcessingError", 5),
    ("pm_card_chargeDeclinedLostCard", 4),
    ("pm_card_chargeDeclinedStolenCard", 4),
]
DISPUTE_REASONS = [
    ("fraudulent", 45),
    ("product_not_received", 20),
    ("subscription_canceled", 10),
    ("duplicate", 8),
    ("product_unacceptable", 10),
    ("credit_not_processed", 7),
]
REFUND_REASONS = [("requested_by_customer", 75), ("duplicate", 15), ("fraudulent", 10)]
# Monday … Sunday.
WEEKDAY_WEIGHTS = [1.0, 1.02, 1.05, 1.08, 1.18, 0.86, 0.72]
# Share of the day's payments per local hour (night is quiet, evenings busy).
HOUR_WEIGHTS = [
    0.4, 0.25, 0.15, 0.1, 0.1, 0.2, 0.5, 1.0, 1.6, 2.0, 2.3, 2.5,
    2.8, 2.7, 2.5, 2.4, 2.4, 2.6, 3.0, 3.2, 3.0, 2.4, 1.6, 0.9,
]  # fmt: skip
FIRST_NAMES = [
    "Jenny", "Omar", "Li", "Sofia", "Noah", "Amara", "Lucas", "Mia", "Kenji", "Elena",
    "Ravi", "Chloe", "Mateo", "Hannah", "Yusuf", "Ava", "Felix", "Zoe", "Ivan", "Nora",
    "Diego", "Leila", "Tom", "Grace", "Arjun", "Maya", "Hugo", "Ines", "Samir", "Ella",
]  # fmt: skip
LAST_NAMES = [
    "Rosen", "Haddad", "Wei", "Rossi", "Smith", "Okafor", "Martin", "Müller", "Tanaka",
    "García", "Patel", "Dubois", "López", "Schmidt", "Demir", "Brown", "Weber", "Kim",
    "Petrov", "Nilsson", "Silva", "Khan", "Baker", "Novak", "Singh", "Cohen", "Moreau",
]  # fmt: skip


@dataclass(frozen=True)
class Volume:
    """How much one mode of one account does over the year."""

    customers: int
    payments: int
    decline_rate: float = 0.045
    refund_rate: float = 0.03
    partial_refund_share: float = 0.3
    dispute_rate: float = 0.005
    topups: int = 0
    products: int = 0
    # Typical basket in minor units (log-normal around it).
    typical_amount: int = 4500
    # Business at the end of the year compared with the start.
    growth: float = 2.2
    card_mix: list[tuple[str, int]] = field(default_factory=lambda: CARD_MIX_USD)
    fail_one_payout: bool = False
    # Active days only (test mode: a developer tries things now and then).
    active_day_share: float = 1.0
    # At least this many, whatever the dice say (for the short test-suite history).
    min_refunds: int = 0
    min_disputes: int = 0


@dataclass(frozen=True)
class AccountPlan:
    slug: str
    currency: str
    live: Volume
    test: Volume


SCALES: dict[str, list[AccountPlan]] = {
    "full": [
        AccountPlan(
            "acme",
            "usd",
            live=Volume(
                customers=2000,
                payments=20000,
                topups=3,
                products=8,
                fail_one_payout=True,
            ),
            test=Volume(
                customers=40,
                payments=300,
                typical_amount=2000,
                growth=1.0,
                products=3,
                active_day_share=0.25,
                dispute_rate=0.02,
            ),
        ),
        AccountPlan(
            "globex",
            "eur",
            live=Volume(
                customers=400,
                payments=3000,
                typical_amount=6500,
                growth=1.6,
                products=5,
                card_mix=CARD_MIX_EUR,
                topups=1,
            ),
            test=Volume(
                customers=10,
                payments=60,
                typical_amount=3000,
                growth=1.0,
                products=2,
                card_mix=CARD_MIX_EUR,
                active_day_share=0.2,
            ),
        ),
    ],
    # For the test suite: every section runs, on a few weeks.
    "small": [
        AccountPlan(
            "acme",
            "usd",
            live=Volume(
                customers=12,
                payments=90,
                refund_rate=0.08,
                dispute_rate=0.05,
                min_refunds=2,
                min_disputes=2,
                topups=1,
                products=2,
                fail_one_payout=True,
            ),
            test=Volume(customers=3, payments=8, growth=1.0, products=1, dispute_rate=0.0),
        ),
        AccountPlan(
            "globex",
            "eur",
            live=Volume(
                customers=5,
                payments=25,
                typical_amount=6500,
                products=1,
                card_mix=CARD_MIX_EUR,
                refund_rate=0.1,
                dispute_rate=0.0,
            ),
            test=Volume(
                customers=2, payments=4, growth=1.0, card_mix=CARD_MIX_EUR, dispute_rate=0.0
            ),
        ),
    ],
}
DAYS = {"full": 365, "small": 21}

PRODUCTS = [
    ("Starter plan", 1900),
    ("Growth plan", 4900),
    ("Scale plan", 14900),
    ("Onboarding session", 25000),
    ("Extra seat", 900),
    ("Priority support", 9900),
    ("Data export add-on", 2900),
    ("Annual licence", 99000),
]


def weighted(rng: random.Random, choices: list[tuple[str, int]]) -> str:
    return rng.choices([name for name, _ in choices], [weight for _, weight in choices])[0]


def spread(rng: random.Random, total: int, weights: list[float]) -> list[int]:
    """`total` split over the days in proportion to `weights`, in whole numbers."""
    scale = sum(weights) or 1.0
    counts, carried = [], 0.0
    for weight in weights:
        exact = total * weight / scale + carried
        count = int(exact)
        if rng.random() < exact - count:
            count += 1
        carried = exact - count
        counts.append(count)
    return counts


@dataclass
class Pending:
    """Work decided now that happens on a later day (refunds, disputes and their answers)."""

    day: int
    second: int
    kind: str
    payload: dict


class AccountHistory:
    """The history of one account, both modes, day by day on its test clock."""

    def __init__(
        self,
        *,
        account: Account,
        actor: User,
        plan: AccountPlan,
        days: int,
        seed: int,
        progress: Callable[[str], None],
        process_inline: bool = True,
    ):
        self.account = account
        self.process_inline = process_inline
        self.actor = actor
        self.plan = plan
        self.days = days
        self.progress = progress
        self.rng = random.Random(f"{seed}:{plan.slug}")
        connection_row = self._connection()
        self.key = connection_row.secret_key(livemode=False)
        self.clients = {
            mode: stripe_client(account=account, livemode=mode) for mode in (False, True)
        }
        today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
        self.start = int((today - timedelta(days=days)).timestamp())
        # Per mode: customers as (customer id, payment method id); charges as (id, amount, day).
        self.customers: dict[bool, list[tuple[str, str]]] = {False: [], True: []}
        self.charges: dict[bool, list[tuple[str, int, int]]] = {False: [], True: []}
        self.later: list[Pending] = []
        self.planned = {mode: {"refund": 0, "dispute": 0} for mode in (False, True)}
        self.refunded: set[str] = set()
        self.disputed: set[str] = set()
        self.counts: dict[str, int] = {}

    def _connection(self) -> StripeConnection:
        with scope(account=self.account):
            return StripeConnection.objects.get(account=self.account)

    # --- the year ---------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        sandbox_services.clock_set(
            token_or_account=self.key, to=datetime.fromtimestamp(self.start, tz=UTC)
        )
        plans = {True: self.plan.live, False: self.plan.test}
        schedule = {mode: self._daily_volumes(volume) for mode, volume in plans.items()}
        self.connect_setup()
        for livemode, volume in plans.items():
            self._catalog(livemode, volume)
        failing_day = self.days - 40 if self.days > 60 else self.days // 2
        months = max(1, round(self.days / 30.4))
        for day in range(self.days):
            month = min(months, day * months // self.days + 1)
            if day == 0 or month != min(months, (day - 1) * months // self.days + 1):
                self.progress(f"{self.account.name}: month {month}/{months}…")
            day_start = self.start + day * DAY
            actions: list[tuple[int, Callable[[], None]]] = []
            for livemode, volume in plans.items():
                customers, payments, active = schedule[livemode][day]
                if not active:
                    continue
                actions += self._customers_of_day(livemode, volume, day, customers)
                actions += self._payments_of_day(livemode, volume, day, payments)
                actions += self._topups_of_day(livemode, volume, day)
                actions += self.connect_of_day(livemode, day)
                actions += self.billing_of_day(livemode, day)
            actions += self._later_of_day(day)
            actions.sort(key=lambda item: item[0])
            for second, action in actions:
                self._clock_to(day_start + second)
                action()
            fail_payout = plans[True].fail_one_payout and day == failing_day
            if fail_payout:
                # The bank rejects the payout arriving at this midnight (one, in the year).
                sandbox_services.payouts_fail(token_or_account=self.key)
            sandbox_services.clock_advance(
                token_or_account=self.key, to=datetime.fromtimestamp(day_start + DAY, tz=UTC)
            )
            if fail_payout:
                sandbox_services.payouts_fail(token_or_account=self.key, failure_code=None)
                self._count("failed_payouts")
            if self.process_inline:
                process_webhooks()
        # Back to the present: the clock runs in real time from here on.
        sandbox_services.clock_advance(token_or_account=self.key, to=timezone.now())
        if self.process_inline:
            process_webhooks()
        return self.counts

    def _daily_volumes(self, volume: Volume) -> list[tuple[int, int, bool]]:
        weights, active = [], []
        for day in range(self.days):
            moment = datetime.fromtimestamp(self.start + day * DAY, tz=UTC)
            trend = 1 + (volume.growth - 1) * day / max(self.days - 1, 1)
            season = 1.0 + 0.25 * (moment.month == 12) + 0.12 * (moment.month == 11)
            season -= 0.1 * (moment.month in (1, 8))
            noise = self.rng.uniform(0.85, 1.15)
            weights.append(trend * season * WEEKDAY_WEIGHTS[moment.weekday()] * noise)
            active.append(day == 0 or self.rng.random() < volume.active_day_share)
        weights = [weight if on else 0.0 for weight, on in zip(weights, active, strict=True)]
        payments = spread(self.rng, volume.payments, weights)
        # A fifth of the customers exist on day one; the rest arrive with the business.
        opening = max(1, volume.customers // 5)
        customers = spread(self.rng, volume.customers - opening, weights)
        customers[0] += opening
        return list(zip(customers, payments, active, strict=True))

    def _count(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount

    def _clock_to(self, timestamp: int) -> None:
        sandbox_services.clock_set(
            token_or_account=self.key, to=datetime.fromtimestamp(timestamp, tz=UTC)
        )

    def _second(self) -> int:
        hour = self.rng.choices(range(24), HOUR_WEIGHTS)[0]
        return hour * 3600 + self.rng.randrange(3600)

    # --- sections -----------------------------------------------------------------------

    def _catalog(self, livemode: bool, volume: Volume) -> None:
        from billing import services as billing_services

        for name, unit_amount in PRODUCTS[: volume.products]:
            product = billing_services.product_create(
                account=self.account, livemode=livemode, name=name, actor=self.actor
            )
            amount = unit_amount if self.plan.currency != "jpy" else unit_amount // 100
            billing_services.price_create(
                account=self.account,
                livemode=livemode,
                product=product,
                unit_amount=amount,
                currency=self.plan.currency,
                actor=self.actor,
            )
            self._count("products")

    def _customers_of_day(self, livemode: bool, volume: Volume, day: int, count: int):
        return [
            (self._second(), lambda: self._new_customer(livemode, volume)) for _ in range(count)
        ]

    def _new_customer(self, livemode: bool, volume: Volume) -> None:
        client = self.clients[livemode]
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        number = len(self.customers[livemode]) + 1
        email = f"{first}.{last}.{number}@example.com".lower().replace("ü", "u")
        customer = client.v1.customers.create(
            params={"email": email, "name": f"{first} {last}", "description": f"Customer {number}"}
        )
        card = client.v1.payment_methods.attach(
            weighted(self.rng, volume.card_mix), params={"customer": customer.id}
        )
        self.customers[livemode].append((customer.id, card.id))
        self._count("customers")

    def _payments_of_day(self, livemode: bool, volume: Volume, day: int, count: int):
        return [
            (self._second(), lambda: self._payment(livemode, volume, day)) for _ in range(count)
        ]

    def _amount(self, volume: Volume) -> int:
        amount = int(volume.typical_amount * math.exp(self.rng.gauss(0, 0.75)))
        # Prices end in .00, .50 or .99 more often than not.
        amount = amount // 100 * 100 + self.rng.choice([0, 0, 50, 99, 0, 49])
        return max(amount, 100)

    def _payment(self, livemode: bool, volume: Volume, day: int) -> None:
        customers = self.customers[livemode]
        if not customers:
            return
        # Returning customers buy more often: the older half gets picked more.
        index = min(int(len(customers) * self.rng.random() ** 1.3), len(customers) - 1)
        customer, card = customers[index]
        amount = self._amount(volume)
        declined = self.rng.random() < volume.decline_rate
        params = {
            "amount": amount,
            "currency": self.plan.currency,
            "customer": customer,
            "payment_method": weighted(self.rng, DECLINES) if declined else card,
            "payment_method_types": ["card"],
            "off_session": True,
            "confirm": True,
            "description": f"Order {self.rng.randrange(10000, 99999)}",
        }
        try:
            intent = self.clients[livemode].v1.payment_intents.create(params=params)
        except stripe.CardError:
            self._count("declined_payments")
            return
        self._count("payments")
        charge = intent.latest_charge
        self.charges[livemode].append((charge, amount, day))
        self._plan_after_payment(livemode, volume, day, charge, amount)

    def _plan_after_payment(
        self, livemode: bool, volume: Volume, day: int, charge: str, amount: int
    ) -> None:
        draw = self.rng.random()
        planned = self.planned[livemode]
        # A short history (the test suite's) still gets each kind at least once.
        room = day < self.days - 10
        if room and planned["dispute"] < volume.min_disputes and planned["refund"] > 0:
            draw = volume.refund_rate
        elif room and planned["refund"] < volume.min_refunds:
            draw = 0.0
        if draw < volume.refund_rate:
            planned["refund"] += 1
            partial = self.rng.random() < volume.partial_refund_share or planned["refund"] == 2
            refund = (
                max(100, amount * self.rng.choice([20, 25, 30, 50]) // 100) if partial else None
            )
            self._later(day + self.rng.randint(0, 12), "refund", livemode, charge, refund)
        elif draw < volume.refund_rate + volume.dispute_rate:
            planned["dispute"] += 1
            delay = self.rng.randint(4, 30)
            if day + delay >= self.days:
                # Near the end: opened within days, so it still needs a response today.
                delay = self.rng.randint(2, 5)
            self._later(day + delay, "dispute", livemode, charge, amount)

    def _later(self, day: int, kind: str, livemode: bool, charge: str, amount) -> None:
        payload = {"livemode": livemode, "charge": charge, "amount": amount}
        self.later.append(Pending(day, self._second(), kind, payload))

    def _later_of_day(self, day: int):
        due = [item for item in self.later if item.day == day]
        self.later = [item for item in self.later if item.day != day]
        handlers = {
            "refund": self._refund,
            "dispute": self._dispute,
            "evidence": self._evidence,
            "accept": self._accept,
            "decision": self._decision,
        }
        return [(item.second, self._bind(handlers[item.kind], item.payload)) for item in due]

    @staticmethod
    def _bind(handler, payload):
        return lambda: handler(**payload)

    def _refund(self, *, livemode: bool, charge: str, amount: int | None) -> None:
        """The platform's support team refunds through the API (the backend's own call)."""
        if charge in self.disputed:
            return
        params = {"charge": charge, "reason": weighted(self.rng, REFUND_REASONS)}
        if amount:
            params["amount"] = amount
        self.clients[livemode].v1.refunds.create(params=params)
        if not amount:
            self.refunded.add(charge)
        self._count("partial_refunds" if amount else "refunds")

    def _dispute(self, *, livemode: bool, charge: str, amount: int) -> None:
        """The cardholder's bank opens a dispute; the merchant answers (or not) later."""
        if charge in self.refunded:
            return
        dispute = sandbox_services.dispute_create(
            token_or_account=self.key,
            charge=charge,
            reason=weighted(self.rng, DISPUTE_REASONS),
            livemode=livemode,
        )
        self.disputed.add(charge)
        self._count("disputes")
        day = (dispute["created"] - self.start) // DAY
        payload = {"livemode": livemode, "dispute": dispute["id"]}
        draw = self.rng.random()
        if draw < 0.55:
            # Evidence within the week; the network decides 2–6 weeks later.
            self.later.append(
                Pending(day + self.rng.randint(1, 5), self._second(), "evidence", payload)
            )
        elif draw < 0.75:
            self.later.append(
                Pending(day + self.rng.randint(0, 3), self._second(), "accept", payload)
            )
        # Otherwise nobody answers: the deadline passes on the clock and the dispute is lost,
        # unless it is recent enough to still need a response.

    def _evidence(self, *, livemode: bool, dispute: str) -> None:
        self.clients[livemode].v1.disputes.update(
            dispute,
            params={
                "evidence": {
                    "customer_email_address": "customer@example.com",
                    "product_description": "Delivered as ordered; see the tracking number.",
                    "shipping_tracking_number": f"1Z{self.rng.randrange(10**9, 10**10)}",
                },
                "submit": True,
            },
        )
        self._count("disputes_answered")
        self.later.append(
            Pending(
                self._today() + self.rng.randint(14, 42),
                self._second(),
                "decision",
                {"livemode": livemode, "dispute": dispute},
            )
        )

    def _accept(self, *, livemode: bool, dispute: str) -> None:
        self.clients[livemode].v1.disputes.close(dispute)
        self._count("disputes_accepted")

    def _decision(self, *, livemode: bool, dispute: str) -> None:
        sandbox_services.dispute_resolve(
            token_or_account=self.key,
            dispute=dispute,
            won=self.rng.random() < 0.6,
            livemode=livemode,
        )

    def _today(self) -> int:
        from sandbox import clock

        return (clock.now_timestamp(sandbox_services.resolve_account(self.key)) - self.start) // DAY

    def _topups_of_day(self, livemode: bool, volume: Volume, day: int):
        if not volume.topups:
            return []
        every = max(self.days // (volume.topups + 1), 1)
        if day == 0 or day % every or day // every > volume.topups:
            return []
        return [(10 * 3600 + self.rng.randrange(3600), lambda: self._topup(livemode))]

    def _topup(self, livemode: bool) -> None:
        services_balances.topup_create(
            account=self.account,
            livemode=livemode,
            amount=self.rng.choice([50000, 100000, 250000]),
            currency=self.plan.currency,
            description="Reserve for refunds",
            actor=self.actor,
        )
        self._count("topups")

    # --- hooks for what the sandbox does not emulate yet -------------------------------

    def connect_setup(self) -> None:
        """Connected accounts (Express, every onboarding state) once Connect is in the
        sandbox; today the platform has none."""

    def connect_of_day(self, livemode: bool, day: int) -> list[tuple[int, Callable[[], None]]]:
        """The day's destination charges, application fees and transfers (Connect issue)."""
        return []

    def billing_of_day(self, livemode: bool, day: int) -> list[tuple[int, Callable[[], None]]]:
        """The day's subscription renewals and invoices (billing issue)."""
        return []


def process_webhooks() -> None:
    """Send what the sandbox has queued to our endpoint and process the stored events, the
    way the Celery worker's drain does (a running worker may take a share: SKIP LOCKED)."""
    while delivery.deliver_pending():
        pass
    workbench_services.events_drain(time_budget_seconds=3600)


def synchronous_commit_off() -> None:
    """The seed can be redone from scratch, so its commits need not wait for the disk."""
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
