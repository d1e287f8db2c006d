"""Benchmark: export 1M balance transactions to CSV, against a raw COPY of the same rows.

    DATABASE_URL=… python bench/export.py [--rows 1000000] [--format csv|xlsx]

Uses the `bench-large` tenant of `manage.py seed_bench` (built first when it is missing or
smaller than --rows). The export runs in a child process exactly as a Celery worker runs
it (`reporting.exports.export_execute`: count, cells formatted and neutralised in SQL,
streamed row by row with COPY TO STDOUT into the work file, progress over a second
connection, the file handed to default storage); the child reports its time and its peak
RSS (VmHWM of /proc/self/status, else `resource.getrusage`). The raw figure is
`COPY (SELECT <the same columns, unformatted>) TO STDOUT WITH CSV` of the same rows in
the same order, written to a file, in this run.

Targets (issue 7): export speed ≥ 50% of the raw COPY, worker peak RSS ≤ 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from _common import ROOT, setup_django

LARGE_SLUG = "bench-large"


def ensure_dataset(rows: int) -> None:
    from django.core.management import call_command
    from django_scopes import scopes_disabled

    from dashboard.models import Account
    from payments.models import BalanceTransaction

    with scopes_disabled():
        account = Account.objects.filter(slug=LARGE_SLUG).first()
        held = BalanceTransaction.objects.filter(account=account).count() if account else 0
    if held >= rows:
        return
    print(f"Building the bench dataset ({rows:,} balance transactions, seed_bench)…", flush=True)
    call_command("seed_bench", balance_transactions=rows, neighbours=0, reset=True, verbosity=0)


def create_run(export_format: str) -> tuple[int, int, str]:
    from django_scopes import scope

    from dashboard.models import Account
    from reporting import exports
    from reporting.models import ReportRun

    account = Account.objects.get(slug=LARGE_SLUG)
    with scope(account=account):
        ReportRun.objects.filter(account=account, source="balance_transactions").delete()
        source = exports.export_source("balance_transactions")
        # Recorded without enqueueing: the child process below is the worker.
        run = ReportRun.objects.create(
            account=account,
            livemode=True,
            source=source.key,
            format=export_format,
            parameters={"filters": {}, "columns": source.default_columns, "metadata_keys": []},
        )
        layout = exports.layout_for(source=source, columns=source.default_columns, metadata_keys=[])
        queryset = exports.rows_queryset(source.rows(account, True, {}), layout)
        sql, params = queryset.query.sql_with_params()
    from django.db import connection

    with connection.cursor() as cursor:
        copy_sql = cursor.cursor.mogrify(sql, params)
    return run.pk, account.pk, copy_sql


def raw_copy(select_sql: str) -> tuple[int, float]:
    """Rows and seconds of COPY (<the export's SELECT>) TO STDOUT WITH CSV, to a file."""
    from django.db import connection

    rows = 0
    started = time.monotonic()
    statement = f"COPY ({select_sql}) TO STDOUT WITH (FORMAT csv)"
    with (
        tempfile.TemporaryFile() as sink,
        connection.cursor() as cursor,
        cursor.cursor.copy(statement) as copy,
    ):
        for chunk in copy:
            sink.write(chunk)
            rows += bytes(chunk).count(b"\n")
    return rows, time.monotonic() - started


def peak_rss_kb() -> int:
    """This process's peak RSS. /proc's VmHWM belongs to this program only; ru_maxrss
    would also carry the parent's peak across fork and exec."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def worker(run_id: int) -> None:
    """The child: set up Django, run the export as the Celery task would, report."""
    import django

    django.setup()
    baseline = peak_rss_kb()
    from reporting import exports

    started = time.monotonic()
    run = exports.export_execute(run_id=run_id)
    seconds = time.monotonic() - started
    peak = peak_rss_kb()
    print(
        json.dumps(
            {
                "rows": run.row_count,
                "seconds": seconds,
                "baseline_kb": baseline,
                "peak_kb": peak,
                "size": run.file_size,
                "file": run.file,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return

    setup_django()
    ensure_dataset(args.rows)
    run_id, _, select_sql = create_run(args.format)

    copy_rows, copy_seconds = raw_copy(select_sql)
    child = subprocess.run(
        [sys.executable, __file__, "--worker", str(run_id)],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(child.stdout.strip().splitlines()[-1])
    export_rate = result["rows"] / result["seconds"]
    copy_rate = copy_rows / copy_seconds
    print(
        f"Rows exported:             {result['rows']:,} ({args.format}, "
        f"{result['size'] / 1e6:.0f} MB)"
    )
    print(f"Export (worker):           {result['seconds']:.2f} s, {export_rate:,.0f} rows/s")
    print(
        f"Raw COPY … TO STDOUT:      {copy_seconds:.2f} s, {copy_rate:,.0f} rows/s "
        f"({copy_rows:,} rows)"
    )
    print(f"Ratio export / COPY:       {export_rate / copy_rate:.0%} (target ≥ 50%)")
    print(
        f"Worker peak RSS:           {result['peak_kb'] / 1024:.0f} MB (target ≤ 150 MB; "
        f"{result['baseline_kb'] / 1024:.0f} MB after Django set-up)"
    )


if __name__ == "__main__":
    main()
