"""Backfill: page through Stripe newest-first and mirror every object (`manage.py stripe_sync`).

Each resource keeps a `SyncCursor`. A run stores one page and its cursor position in one
transaction, so an interrupted run (crash, Ctrl-C, a 429 storm) resumes after the last
stored page. A complete run records the newest `created` it saw; the next run asks only for
objects created since then (`created[gte]`), because webhooks keep older rows current.

Objects are stored with the time of the read as their source time: newer than any event
already applied, older than any event that happens after the read, so running the sync
twice, or while webhooks arrive, leaves the newest data in place.

Resources are registered by the apps that own their tables (billing registers products
and prices from its AppConfig.ready), so payments does not import billing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from dashboard.models import Account
from payments import mirroring
from payments.mirroring import Source
from payments.models import Customer, SyncCursor
from workbench import client as workbench_client
from workbench.mirror import from_timestamp

PAGE_SIZE = 100
RATE_LIMIT_ATTEMPTS = 6

Lister = Callable[[stripe.StripeClient, dict[str, Any]], Any]
Storer = Callable[[Source, Any], Any]


@dataclass(frozen=True)
class SyncResource:
    name: str
    list_page: Lister
    store: Storer
    # Stripe filters this list by `created`.
    filters_by_created: bool = True


SYNC_RESOURCES: dict[str, SyncResource] = {}

# Called with (account, rows) after each stored page, in its transaction: apps that derive
# data from the mirror (reporting's rollups) register here from their AppConfig.ready, as
# they register event handlers, so backfilled history counts as webhooks would.
PageListener = Callable[[Account, list[Any]], None]
PAGE_LISTENERS: list[PageListener] = []


def on_page_stored(listener: PageListener) -> PageListener:
    if listener not in PAGE_LISTENERS:
        PAGE_LISTENERS.append(listener)
    return listener


def register_sync_resource(resource: SyncResource) -> None:
    SYNC_RESOURCES[resource.name] = resource


def _v1(client: stripe.StripeClient):
    return client.v1


for _resource in (
    SyncResource(
        "customers", lambda c, p: _v1(c).customers.list(params=p), mirroring.store_customer
    ),
    SyncResource(
        "payment_intents",
        lambda c, p: _v1(c).payment_intents.list(params=p),
        mirroring.store_payment_intent,
    ),
    SyncResource("charges", lambda c, p: _v1(c).charges.list(params=p), mirroring.store_charge),
    SyncResource("refunds", lambda c, p: _v1(c).refunds.list(params=p), mirroring.store_refund),
    SyncResource("disputes", lambda c, p: _v1(c).disputes.list(params=p), mirroring.store_dispute),
    SyncResource(
        "balance_transactions",
        lambda c, p: _v1(c).balance_transactions.list(params=p),
        mirroring.store_balance_transaction,
    ),
    SyncResource("payouts", lambda c, p: _v1(c).payouts.list(params=p), mirroring.store_payout),
    SyncResource("topups", lambda c, p: _v1(c).topups.list(params=p), mirroring.store_topup),
):
    register_sync_resource(_resource)

# Listed per customer, so handled apart from the registry (after customers).
PAYMENT_METHODS = "payment_methods"


@dataclass
class SyncReport:
    resource: str
    stored: int = 0
    pages: int = 0
    resumed: bool = False


class Syncer:
    def __init__(
        self,
        *,
        account: Account,
        livemode: bool,
        since: datetime | None = None,
        page_size: int = PAGE_SIZE,
        write: Callable[[str], None] = lambda message: None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.account = account
        self.livemode = livemode
        self.since = since
        self.page_size = page_size
        self.write = write
        self.sleep = sleep
        self.client = workbench_client.stripe_client(account=account, livemode=livemode)

    # --- one page, honouring rate limits --------------------------------------------

    def _fetch(self, list_page: Lister, params: dict[str, Any]):
        """The workbench client retries 429s a few times; past that, wait longer here."""
        for attempt in range(RATE_LIMIT_ATTEMPTS):
            try:
                return list_page(self.client, params)
            except stripe.RateLimitError:
                if attempt == RATE_LIMIT_ATTEMPTS - 1:
                    raise
                delay = min(2**attempt, 30)
                self.write(f"  rate limited by Stripe, waiting {delay}s")
                self.sleep(delay)
        raise AssertionError("unreachable")

    def _cursor(self, name: str) -> SyncCursor:
        cursor, _ = SyncCursor.objects.get_or_create(
            account=self.account, livemode=self.livemode, resource=name
        )
        return cursor

    def _lower_bound(self, cursor: SyncCursor) -> datetime | None:
        bounds = [moment for moment in (self.since, cursor.high_water) if moment is not None]
        return max(bounds) if bounds else None

    # --- resources ----------------------------------------------------------------------

    def sync_resource(self, resource: SyncResource) -> SyncReport:
        cursor = self._cursor(resource.name)
        report = SyncReport(resource.name, resumed=bool(cursor.starting_after))
        if report.resumed:
            self.write(f"{resource.name}: resuming after {cursor.starting_after}")
        lower_bound = self._lower_bound(cursor) if resource.filters_by_created else None
        while True:
            params: dict[str, Any] = {"limit": self.page_size}
            if lower_bound is not None:
                params["created"] = {"gte": int(lower_bound.timestamp())}
            if cursor.starting_after:
                params["starting_after"] = cursor.starting_after
            page = self._fetch(resource.list_page, params)
            objects = [mirroring.as_dict(obj) for obj in page.data]
            source = Source.api_read(account=self.account, livemode=self.livemode)
            with transaction.atomic():
                newest = cursor.run_high_water
                rows = []
                for obj in objects:
                    rows.append(resource.store(source, obj))
                    created = from_timestamp(obj.get("created"))
                    if created is not None and (newest is None or created > newest):
                        newest = created
                for listener in PAGE_LISTENERS:
                    listener(self.account, rows)
                cursor.run_high_water = newest
                cursor.objects_synced += len(objects)
                if objects and page.has_more:
                    cursor.starting_after = objects[-1]["id"]
                else:
                    cursor.starting_after = ""
                    cursor.high_water = cursor.run_high_water or cursor.high_water
                    cursor.run_high_water = None
                    cursor.completed_at = timezone.now()
                cursor.save()
            report.stored += len(objects)
            report.pages += 1
            self.write(f"{resource.name}: {report.stored} stored ({report.pages} pages)")
            if not cursor.starting_after:
                return report

    def sync_payment_methods(self) -> SyncReport:
        """Cards saved on each mirrored customer; the cursor is the last customer done."""
        cursor = self._cursor(PAYMENT_METHODS)
        report = SyncReport(PAYMENT_METHODS, resumed=bool(cursor.starting_after))
        customers = Customer.objects.filter(
            account=self.account, livemode=self.livemode, deleted=False
        ).order_by("stripe_id")
        if cursor.starting_after:
            customers = customers.filter(stripe_id__gt=cursor.starting_after)
        for customer in customers.iterator():
            starting_after = ""
            methods = []
            while True:
                params: dict[str, Any] = {
                    "customer": customer.stripe_id,
                    "type": "card",
                    "limit": self.page_size,
                }
                if starting_after:
                    params["starting_after"] = starting_after
                page = self._fetch(lambda c, p: c.v1.payment_methods.list(params=p), params)
                methods.extend(mirroring.as_dict(method) for method in page.data)
                report.pages += 1
                if not (page.has_more and page.data):
                    break
                starting_after = methods[-1]["id"]
            source = Source.api_read(
                account=self.account,
                livemode=self.livemode,
                stripe_account=customer.stripe_account,
            )
            with transaction.atomic():
                for method in methods:
                    mirroring.store_payment_method(source, method)
                cursor.starting_after = customer.stripe_id
                cursor.objects_synced += len(methods)
                cursor.save()
            report.stored += len(methods)
        cursor.starting_after = ""
        cursor.completed_at = timezone.now()
        cursor.save()
        self.write(f"{PAYMENT_METHODS}: {report.stored} stored")
        return report

    def run(self, names: list[str] | None = None) -> list[SyncReport]:
        wanted = names or [*SYNC_RESOURCES, PAYMENT_METHODS]
        unknown = set(wanted) - {*SYNC_RESOURCES, PAYMENT_METHODS}
        if unknown:
            raise ValueError(f"Unknown resources: {', '.join(sorted(unknown))}")
        reports = []
        with scope(account=self.account):
            for name in SYNC_RESOURCES:
                if name in wanted:
                    reports.append(self.sync_resource(SYNC_RESOURCES[name]))
                if name == "customers" and PAYMENT_METHODS in wanted:
                    reports.append(self.sync_payment_methods())
        return reports


def stripe_sync(
    *,
    account: Account,
    livemode: bool,
    since: datetime | None = None,
    resources: list[str] | None = None,
    page_size: int = PAGE_SIZE,
    write: Callable[[str], None] = lambda message: None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[SyncReport]:
    syncer = Syncer(
        account=account,
        livemode=livemode,
        since=since,
        page_size=page_size,
        write=write,
        sleep=sleep,
    )
    return syncer.run(resources)
