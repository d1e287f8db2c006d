from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dashboard.models import Account
from workbench.services import events_replay


class Command(BaseCommand):
    help = (
        "Puts events back in the processing queue so their handlers run again "
        "(handlers are idempotent, so replaying is safe)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", help="Only this account (slug).")
        parser.add_argument("--failed", action="store_true", help="Only failed events.")
        parser.add_argument("--event", help="Only this event id (evt_…).")
        parser.add_argument(
            "--all", action="store_true", help="Every event of every account (no filter)."
        )

    def handle(self, *args, account=None, failed=False, event=None, all=False, **options):
        if not (account or failed or event or all):
            raise CommandError("Name --account, --failed or --event (or --all to replay all).")
        target = None
        if account:
            target = Account.objects.filter(slug=account).first()
            if target is None:
                raise CommandError(f"No account {account!r}.")
        count = events_replay(account=target, failed_only=failed, stripe_id=event)
        if event and count == 0:
            raise CommandError(f"No event {event!r} to replay (unknown, or already pending).")
        self.stdout.write(f"Queued {count} event(s) for processing.")
