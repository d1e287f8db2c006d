"""Build the benchmark dataset and print its figures.

    python bench/seed_bench.py --balance-transactions 1000000 [--reset]

A thin wrapper around `manage.py seed_bench` (sandbox/bench_data.py does the work), so the
benchmarks in this folder can be run from one place. See bench/README.md.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paydesk.settings")
    import django

    django.setup()
    from django.core.management import call_command

    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_bench", *argv)
    print(f"Wall clock including start-up and migrate: {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
