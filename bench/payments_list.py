"""Transactions list: server time of `/a/<account>/payments/` at any page depth on a large
tenant (keyset pagination; never OFFSET). Target (issue 5): <= 20 ms p95 at any depth.

Needs the `bench-large` tenant (`python bench/seed_bench.py --balance-transactions 1000000`).
Each request runs the whole Django stack in-process (middleware, tenant scope, selectors,
template rendering) through the test client; the raw baseline is the keyset SQL of the same
page alone, measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/paydesk_bench \
    REDIS_URL=redis://127.0.0.1:6379/15 python bench/payments_list.py
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import setup_django

DEPTHS = (0, 1_000, 10_000, 100_000, 500_000, 1_000_000)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="requests per depth")
    options = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django_scopes import scope, scopes_disabled

    from dashboard.models import Account, Membership, User
    from dashboard.roles import Role
    from payments.models import Charge
    from payments.selectors import encode_cursor

    setup_test_environment()
    account = Account.objects.filter(slug="bench-large").first()
    if account is None:
        raise SystemExit("no bench-large tenant: run bench/seed_bench.py first")
    user, _ = User.objects.get_or_create(email="bench-reader@paydesk.test")
    with scope(account=account):
        Membership.objects.get_or_create(account=account, user=user, defaults={"role": Role.OWNER})
        Membership.objects.filter(account=account, user=user).update(test_mode=False)
        livemode = Charge.objects.values_list("livemode", flat=True).first()
        total = Charge.objects.filter(livemode=livemode).count()
    Membership.objects.with_scopes_disabled().filter(user=user).update(test_mode=not livemode)
    client = Client()
    client.force_login(user)
    url = f"/a/{account.slug}/payments/"
    for _ in range(5):
        client.get(url)  # warm caches and connections

    print(f"tenant bench-large: {total:,} payments ({'live' if livemode else 'test'} mode)")
    print(f"{'depth':>10} {'page p50':>10} {'page p95':>10} {'SQL p95':>9} {'ratio':>6}")
    worst = 0.0
    for depth in DEPTHS:
        depth = min(depth, total - 1)
        with scopes_disabled():
            anchor = (
                Charge.objects.filter(account=account, livemode=livemode)
                .order_by("-created", "-id")
                .only("created", "id")[depth : depth + 1]
                .get()
            )
        cursor = encode_cursor(anchor)
        page_times, sql_times = [], []
        for _ in range(options.requests):
            started = time.perf_counter()
            response = client.get(url, {"after": cursor})
            page_times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            started = time.perf_counter()
            with connection.cursor() as sql:
                sql.execute(
                    "SELECT * FROM payments_charge WHERE account_id = %s AND livemode = %s "
                    "AND (created, id) < (%s, %s) ORDER BY created DESC, id DESC LIMIT 26",
                    [account.pk, livemode, anchor.created, anchor.pk],
                )
                sql.fetchall()
            sql_times.append((time.perf_counter() - started) * 1000)
        page95, sql95 = p95(page_times), p95(sql_times)
        worst = max(worst, page95)
        print(
            f"{depth:>10,} {statistics.median(page_times):>8.1f}ms {page95:>8.1f}ms "
            f"{sql95:>7.2f}ms {page95 / sql95:>6.0f}x"
        )
    print(f"worst p95 {worst:.1f} ms (target <= 20 ms) — {'met' if worst <= 20 else 'NOT met'}")


if __name__ == "__main__":
    main()
