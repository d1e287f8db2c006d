"""Correctness under load: a stream of events replayed shuffled and with 10% duplicates
gives exactly the mirror state of the ordered, de-duplicated stream.

Both streams go through the real ingestion service (signature check, store, de-duplicate)
into two tenants and are drained by the same code the Celery worker runs; then every
mirrored charge, customer, balance transaction and daily rollup is compared field by field.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/paydesk_bench \
    REDIS_URL=redis://127.0.0.1:6379/15 python bench/replay_correctness.py --events 20000
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import time

from _common import bench_account, charge_object, event, rate, setup_django, sign

SECRET = "whsec_bench_replay"


def build_stream(total: int, seed: int) -> list[dict]:
    """Customers (created, then renamed) and charges (succeeded, partly refunded, fully
    refunded); each object's events are seconds apart, in Stripe's order."""
    rng = random.Random(seed)
    start = int(time.time()) - 20 * 86400
    stream: list[dict] = []
    number = 0
    while len(stream) < total:
        base = start + rng.randrange(0, 19 * 86400)
        if number % 4 == 0:
            customer_id = f"cus_replay{number:08d}"
            created = {
                "id": customer_id,
                "object": "customer",
                "created": base,
                "email": f"c{number}@example.com",
                "name": f"Customer {number}",
                "livemode": False,
                "metadata": {},
                "delinquent": False,
            }
            renamed = {**created, "name": f"Customer {number} (renamed)"}
            stream.append(
                event(
                    event_id=f"evt_rc{number:08d}a",
                    event_type="customer.created",
                    created=base,
                    obj=created,
                )
            )
            stream.append(
                event(
                    event_id=f"evt_rc{number:08d}b",
                    event_type="customer.updated",
                    created=base + 5,
                    obj=renamed,
                )
            )
        else:
            amount = rng.randrange(500, 50000)
            succeeded = charge_object(number=number, created=base, amount=amount)
            partial = copy.deepcopy(succeeded)
            partial["amount_refunded"] = amount // 4
            full = copy.deepcopy(succeeded)
            full["amount_refunded"] = amount
            full["refunded"] = True
            stream.append(
                event(
                    event_id=f"evt_rc{number:08d}a",
                    event_type="charge.succeeded",
                    created=base,
                    obj=succeeded,
                )
            )
            if rng.random() < 0.5:
                stream.append(
                    event(
                        event_id=f"evt_rc{number:08d}b",
                        event_type="charge.refunded",
                        created=base + 60,
                        obj=partial,
                    )
                )
                stream.append(
                    event(
                        event_id=f"evt_rc{number:08d}c",
                        event_type="charge.refunded",
                        created=base + 3600,
                        obj=full,
                    )
                )
        number += 1
    return stream[:total]


def ingest(account, endpoint, stream: list[dict]) -> tuple[int, float]:
    from workbench import services

    started = time.perf_counter()
    accepted = 0
    for payload in stream:
        body = json.dumps(payload).encode()
        result = services.delivery_receive(
            endpoint_uuid=endpoint.uuid, body=body, headers={"Stripe-Signature": sign(body, SECRET)}
        )
        accepted += result.status == 200
    services.events_drain(batch_size=500, time_budget_seconds=3600)
    return accepted, time.perf_counter() - started


def snapshot(account) -> dict[str, list]:
    from django_scopes import scope

    from payments.models import BalanceTransaction, Charge, Customer
    from reporting.models import DailyRollup

    def rows(model, exclude=("id", "account", "source_sequence")):
        names = [
            f.attname
            for f in model._meta.concrete_fields
            if f.name not in exclude
            and f.attname not in ("account_id",)
            and not f.attname.endswith("_id")
            or f.attname.endswith("stripe_id")
        ]
        return sorted(
            tuple(json.dumps(v, sort_keys=True, default=str) for v in row)
            for row in model.objects.values_list(*names)
        )

    with scope(account=account):
        return {
            "charges": rows(Charge),
            "customers": rows(Customer),
            "balance transactions": rows(BalanceTransaction),
            "daily rollups": rows(DailyRollup, exclude=("id", "account", "updated")),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    setup_django()
    from django_scopes import scope

    from workbench.models import WebhookEndpoint

    ordered = build_stream(options.events, options.seed)
    rng = random.Random(options.seed + 1)
    replayed = ordered + rng.sample(ordered, len(ordered) // 10)
    rng.shuffle(replayed)

    results = {}
    for slug, stream in (("bench-ordered", ordered), ("bench-shuffled", replayed)):
        account = bench_account(slug)
        with scope(account=account):
            endpoint = WebhookEndpoint.objects.create(
                account=account, livemode=False, secret=SECRET
            )
        accepted, seconds = ingest(account, endpoint, stream)
        results[slug] = snapshot(account)
        print(
            f"{slug:<15} {len(stream):>6} deliveries, {accepted} accepted, "
            f"ingested + processed at {rate(len(stream), seconds):,.0f} events/s"
        )

    mismatches = 0
    for kind, expected in results["bench-ordered"].items():
        actual = results["bench-shuffled"][kind]
        same = expected == actual
        mismatches += not same
        print(
            f"{kind:<22} ordered {len(expected):>6}  shuffled+dupes {len(actual):>6}  "
            f"{'identical' if same else 'DIFFERENT'}"
        )
    if mismatches:
        raise SystemExit("FAILED: the shuffled, duplicated replay did not reach the same state")
    print("mirror state identical after a shuffled replay with 10% duplicates")


if __name__ == "__main__":
    main()
