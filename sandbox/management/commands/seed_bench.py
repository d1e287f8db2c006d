from django.core.management.base import BaseCommand, CommandError

from sandbox import bench_data


class Command(BaseCommand):
    help = (
        "Build the benchmark tenants (bench-large plus small neighbours) in bulk with COPY, "
        "and print rows/s against a raw COPY of the same rows."
    )

    def add_arguments(self, parser):
        parser.add_argument("--balance-transactions", type=int, default=1_000_000)
        parser.add_argument("--days", type=int, default=730, help="History of bench-large.")
        parser.add_argument("--neighbours", type=int, default=3, choices=range(0, 4))
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--reset", action="store_true", help="Delete the bench tenants first.")

    def handle(self, *, balance_transactions, days, neighbours, seed, reset, **options):
        if balance_transactions < days + 1:
            raise CommandError("Ask for more balance transactions than days of history.")

        def progress(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()

        try:
            figures = bench_data.build(
                balance_transactions=balance_transactions,
                days=days,
                seed=seed,
                neighbours=neighbours,
                reset=reset,
                progress=progress,
            )
        except bench_data.BenchDataExists as error:
            raise CommandError(str(error))
        self.stdout.write(format_figures(figures))


def format_figures(figures: bench_data.Figures) -> str:
    lines = ["Rows written:"]
    for table, count in sorted(figures.rows.items()):
        lines.append(f"  {table:<30} {count:>12,}")
    lines += [
        f"  {'total':<30} {figures.total_rows:>12,}",
        f"Bulk path: {figures.seconds:.1f} s, {figures.rows_per_second:,.0f} rows/s "
        "(generation, COPY into the indexed mirror tables, ANALYZE)",
        f"Raw COPY of the same {figures.raw_rows:,} balance transactions into an unindexed "
        f"scratch table: {figures.raw_seconds:.1f} s, {figures.raw_rows_per_second:,.0f} rows/s",
        f"Ratio bulk path / raw COPY: {figures.ratio_to_raw_copy:.2f}",
    ]
    return "\n".join(lines) + "\n"
