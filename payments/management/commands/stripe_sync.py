"""`manage.py stripe_sync --account acme [--livemode] [--since 2025-01-01] [--resource charges]`"""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.models import Account
from payments.sync import PAYMENT_METHODS, SYNC_RESOURCES, stripe_sync
from workbench.client import StripeNotConnected


class Command(BaseCommand):
    help = "Mirror an account's Stripe objects, newest first, resuming where a run stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", required=True, help="The account's slug.")
        parser.add_argument("--livemode", action="store_true", help="Live mode (default: test).")
        parser.add_argument("--since", help="Only objects created on or after YYYY-MM-DD (UTC).")
        parser.add_argument(
            "--resource",
            action="append",
            dest="resources",
            help="Limit to one resource (repeatable): "
            + ", ".join([*SYNC_RESOURCES, PAYMENT_METHODS]),
        )
        parser.add_argument("--page-size", type=int, default=100)

    def handle(self, *args, **options) -> None:
        account = Account.objects.filter(slug=options["account"]).first()
        if account is None:
            raise CommandError(f"No account {options['account']!r}.")
        since = None
        if options["since"]:
            try:
                since = datetime.strptime(options["since"], "%Y-%m-%d").replace(tzinfo=UTC)
            except ValueError as error:
                raise CommandError("--since takes a date like 2025-01-31.") from error
        mode = "live" if options["livemode"] else "test"
        self.stdout.write(f"Syncing {account.slug} ({mode} mode) from Stripe…")
        try:
            reports = stripe_sync(
                account=account,
                livemode=options["livemode"],
                since=since,
                resources=options["resources"],
                page_size=max(1, min(options["page_size"], 100)),
                write=self.stdout.write,
            )
        except (StripeNotConnected, ValueError) as error:
            raise CommandError(str(error)) from error
        total = sum(report.stored for report in reports)
        self.stdout.write(self.style.SUCCESS(f"Done: {total} objects stored."))
