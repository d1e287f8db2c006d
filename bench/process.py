"""Processing: stored `charge.succeeded` events turned into mirror rows per second by ONE
real Celery worker (charge + balance transaction + daily rollup per event, in the same
transaction). The charge events carry their balance transaction expanded, so the figure
is the console's own work, without the Stripe read a bare id would cost.

The baseline is the raw SQL floor of the same writes: per event one charge INSERT, one
balance transaction INSERT and one rollup UPSERT, committed per 500 events, from one
connection, in the same run. Target (issue 3): >= 1,000 events/s with one worker.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/paydesk_bench \
    REDIS_URL=redis://127.0.0.1:6379/15 python bench/process.py --events 20000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

from _common import ROOT, bench_account, charge_object, event, rate, setup_django


def store_events(account, count: int, start: int) -> None:
    from django_scopes import scope

    from workbench.models import Event

    rows = []
    for number in range(count):
        created = start + number // 10
        payload = event(
            event_id=f"evt_process{number:010d}",
            event_type="charge.succeeded",
            created=created,
            obj=charge_object(number=number, created=created, amount=1000 + number % 9000),
        )
        rows.append(
            Event(
                account=account,
                livemode=False,
                stripe_id=payload["id"],
                type=payload["type"],
                created=datetime.fromtimestamp(created, tz=UTC),
                payload=payload,
                status=Event.Status.PENDING,
            )
        )
    with scope(account=account):
        Event.objects.bulk_create(rows, batch_size=2000)


def raw_baseline(count: int) -> float:
    import psycopg
    from django.conf import settings

    database = settings.DATABASES["default"]
    with psycopg.connect(
        host=database["HOST"],
        port=database["PORT"] or 5432,
        user=database["USER"],
        password=database["PASSWORD"] or None,
        dbname=database["NAME"],
    ) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_charge, bench_raw_txn, bench_raw_rollup")
        conn.execute(
            "CREATE TABLE bench_raw_charge (id text PRIMARY KEY, amount bigint, currency text,"
            " status text, created timestamptz, data jsonb)"
        )
        conn.execute(
            "CREATE TABLE bench_raw_txn (id text PRIMARY KEY, amount bigint, fee bigint,"
            " net bigint, created timestamptz, data jsonb)"
        )
        conn.execute(
            "CREATE TABLE bench_raw_rollup (day date, currency text, gross bigint, net bigint,"
            " payments bigint, PRIMARY KEY (day, currency))"
        )
        conn.commit()
        now = int(time.time())
        started = time.perf_counter()
        for number in range(count):
            charge = charge_object(number=number, created=now, amount=1000)
            transaction = charge["balance_transaction"]
            conn.execute(
                "INSERT INTO bench_raw_charge VALUES (%s, %s, 'usd', 'succeeded', now(), %s)",
                [charge["id"], charge["amount"], json.dumps(charge)],
            )
            conn.execute(
                "INSERT INTO bench_raw_txn VALUES (%s, %s, %s, %s, now(), %s)",
                [
                    transaction["id"],
                    transaction["amount"],
                    transaction["fee"],
                    transaction["net"],
                    json.dumps(transaction),
                ],
            )
            conn.execute(
                "INSERT INTO bench_raw_rollup VALUES (current_date, 'usd', %s, %s, 1) "
                "ON CONFLICT (day, currency) DO UPDATE SET gross = bench_raw_rollup.gross + "
                "excluded.gross, net = bench_raw_rollup.net + excluded.net, "
                "payments = bench_raw_rollup.payments + 1",
                [transaction["amount"], transaction["net"]],
            )
            if number % 500 == 499:
                conn.commit()
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_raw_charge, bench_raw_txn, bench_raw_rollup")
        conn.commit()
    return rate(count, elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    options = parser.parse_args()

    setup_django()
    from django.db.models import Sum
    from django_scopes import scope

    from payments.models import BalanceTransaction, Charge
    from reporting.models import DailyRollup
    from workbench.models import Event
    from workbench.tasks import drain_events

    account = bench_account("bench-process")
    store_events(account, options.events, start=int(time.time()) - 86400)

    worker = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "celery"),
            "-A",
            "paydesk",
            "worker",
            "--concurrency",
            "1",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
    )
    try:
        time.sleep(6)  # let the worker connect before the clock starts
        started = time.perf_counter()
        drain_events.delay()
        with scope(account=account):
            while Event.objects.filter(status=Event.Status.PENDING).exists():
                if worker.poll() is not None:
                    raise SystemExit("worker died")
                time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)

    with scope(account=account):
        processed = Event.objects.filter(status=Event.Status.PROCESSED).count()
        failed = Event.objects.filter(status=Event.Status.FAILED).count()
        charges = Charge.objects.count()
        transactions = BalanceTransaction.objects.count()
        charge_gross = Charge.objects.aggregate(total=Sum("amount"))["total"]
        rollup_gross = DailyRollup.objects.aggregate(total=Sum("gross_volume"))["total"]
    processing_rate = rate(options.events, elapsed)
    baseline = raw_baseline(min(options.events, 10000))
    print(
        f"events                       {options.events} charge.succeeded, "
        f"processed {processed}, failed {failed}"
    )
    print(f"mirror rows                  {charges} charges, {transactions} balance transactions")
    print(f"rollup gross = charge gross  {rollup_gross} = {charge_gross}")
    print(f"processing (1 Celery worker) {processing_rate:,.0f} events/s  (target >= 1,000/s)")
    print(f"raw SQL floor, same writes   {baseline:,.0f} events/s")
    print(f"ratio processing / raw       {processing_rate / baseline:.2f}")
    if processed != options.events or charges != options.events or rollup_gross != charge_gross:
        raise SystemExit("FAILED: the mirror does not match the events")


if __name__ == "__main__":
    main()
