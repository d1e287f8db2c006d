"""Ingest: signed deliveries stored per second through the real HTTP endpoint.

gunicorn serves Paydesk on loopback; an asyncio client posts signed `charge.succeeded`
deliveries with keep-alive connections. The baseline is the same machine's rate of one
INSERT per commit (the least a durable endpoint must do per delivery), measured in the
same run. Target (issue 3): >= 1,000 deliveries/s on this 2-core machine.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/paydesk_bench \
    REDIS_URL=redis://127.0.0.1:6379/15 python bench/ingest.py --deliveries 20000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time

from _common import ROOT, bench_account, charge_object, event, free_port, rate, setup_django, sign


def baseline_insert_per_commit(count: int, body: bytes) -> float:
    """Rows/s of one INSERT + COMMIT each, from one connection, into a scratch table."""
    import psycopg
    from django.conf import settings

    database = settings.DATABASES["default"]
    with psycopg.connect(
        host=database["HOST"],
        port=database["PORT"] or 5432,
        user=database["USER"],
        password=database["PASSWORD"] or None,
        dbname=database["NAME"],
        autocommit=True,
    ) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_insert_baseline")
        conn.execute(
            "CREATE TABLE bench_insert_baseline (id bigserial PRIMARY KEY, received_at "
            "timestamptz NOT NULL DEFAULT now(), headers jsonb NOT NULL, body text NOT NULL)"
        )
        headers = json.dumps({"Stripe-Signature": "t=0,v1=0"})
        text = body.decode()
        started = time.perf_counter()
        for _ in range(count):
            conn.execute(
                "INSERT INTO bench_insert_baseline (headers, body) VALUES (%s, %s)",
                [headers, text],
            )
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_insert_baseline")
    return rate(count, elapsed)


async def post_all(url: str, requests: list[tuple[bytes, str]], concurrency: int) -> list[int]:
    import aiohttp

    statuses: list[int] = []
    queue: asyncio.Queue = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while not queue.empty():
                body, signature = queue.get_nowait()
                async with session.post(
                    url,
                    data=body,
                    headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
                ) as response:
                    await response.read()
                    statuses.append(response.status)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


def wait_for(url: str, seconds: float = 30) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - loopback only
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    options = parser.parse_args()

    setup_django()
    from django_scopes import scope

    from workbench.models import Event, WebhookDelivery, WebhookEndpoint

    account = bench_account("bench-ingest")
    secret = "whsec_bench_ingest"
    with scope(account=account):
        endpoint = WebhookEndpoint.objects.create(account=account, livemode=False, secret=secret)
    now = int(time.time())
    requests = []
    for number in range(options.deliveries):
        payload = event(
            event_id=f"evt_ingest{number:010d}",
            event_type="charge.succeeded",
            created=now,
            obj=charge_object(number=number, created=now, amount=1000 + number % 9000),
        )
        body = json.dumps(payload).encode()
        requests.append((body, sign(body, secret)))

    port = free_port()
    server = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "paydesk.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(options.workers),
            "--threads",
            str(options.threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
    )
    try:
        url = f"http://127.0.0.1:{port}/webhooks/stripe/{endpoint.uuid}/"
        wait_for(f"http://127.0.0.1:{port}/login/")
        asyncio.run(post_all(url, requests[:200], options.concurrency))  # warm up
        started = time.perf_counter()
        statuses = asyncio.run(post_all(url, requests[200:], options.concurrency))
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    measured = len(requests) - 200
    with scope(account=account):
        stored_events = Event.objects.count()
        stored_deliveries = WebhookDelivery.objects.count()
    ingest_rate = rate(measured, elapsed)
    baseline = baseline_insert_per_commit(min(options.deliveries, 10000), requests[0][0])
    ok = sum(1 for status in statuses if status == 200)
    print(f"deliveries posted           {measured} (+200 warm-up), HTTP 200: {ok}")
    print(f"events / deliveries stored  {stored_events} / {stored_deliveries}")
    print(
        f"gunicorn                    {options.workers} workers x {options.threads} threads, "
        f"client concurrency {options.concurrency}, {os.cpu_count()} cores shared"
    )
    print(f"ingest                      {ingest_rate:,.0f} deliveries/s  (target >= 1,000/s)")
    print(f"baseline INSERT per commit  {baseline:,.0f} rows/s")
    print(f"ratio ingest / baseline     {ingest_rate / baseline:.2f}")
    if ok != measured or stored_events != len(requests):
        raise SystemExit("FAILED: not every delivery was stored")


if __name__ == "__main__":
    main()
