import time

from django.core.management.base import BaseCommand, CommandError

from dashboard.models import Account
from sandbox import demo
from sandbox.demo_history import SCALES


class Command(BaseCommand):
    help = (
        "Seed the demo accounts (Acme Platform, Globex Store), their team and a year of "
        "history made through the sandbox and the webhook ingestion path."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Delete the demo data first.")
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed: the same seed, the same history."
        )
        parser.add_argument(
            "--scale",
            choices=sorted(SCALES),
            default="full",
            help="full: 12 months (~20k payments for Acme); small: 3 weeks, for the tests.",
        )
        parser.add_argument(
            "--serial",
            action="store_true",
            help="Make the accounts one after the other in this process (no worker processes).",
        )

    def handle(self, *, reset: bool, seed: int, scale: str, serial: bool, **options):
        slugs = [spec["slug"] for spec in demo.ACCOUNTS]
        if Account.objects.filter(slug__in=slugs).exists():
            if not reset:
                raise CommandError(
                    "The demo is already seeded; nothing was changed. "
                    "Run `manage.py seed_demo --reset` to start over."
                )
            demo.delete_demo()
        started = time.monotonic()

        def progress(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()

        counts = demo.seed(
            scale=scale, seed=seed, parallel=False if serial else None, progress=progress
        )
        demo.mark_seeded(scale=scale, seed=seed)
        for slug, figures in counts.items():
            described = ", ".join(f"{value} {name}" for name, value in sorted(figures.items()))
            self.stdout.write(f"  {slug}: {described}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo accounts, team and history created in {time.monotonic() - started:.1f} s."
            )
        )
