import re
from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError

from sandbox import clock, services

UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """`2d`, `3h`, `1w2d`, `90m`."""
    parts = re.findall(r"(\d+)([wdhms])", text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise CommandError(f"Cannot read the duration {text!r}; use e.g. 2d, 3h, 1w2d, 90m.")
    return timedelta(**{UNITS[unit]: int(number) for number, unit in parts})


class Command(BaseCommand):
    help = "Show, advance or set the sandbox test clock of one emulated Stripe account."

    def add_arguments(self, parser):
        parser.add_argument("--key", required=True, help="The sandbox key, sk_test_sbx_…")
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--advance", help="Move forward by a duration (2d, 3h, 1w2d).")
        action.add_argument("--set", dest="set_to", help="Set to an ISO date-time (may be past).")

    def handle(self, *, key: str, advance: str | None, set_to: str | None, **options):
        account = services.resolve_account(key)
        if advance:
            account = services.clock_advance(
                token_or_account=account, to=clock.now(account) + parse_duration(advance)
            )
        elif set_to:
            try:
                moment = datetime.fromisoformat(set_to)
            except ValueError:
                raise CommandError(f"Cannot read the date-time {set_to!r}.")
            if moment.tzinfo is None:
                raise CommandError("Give a time zone, e.g. 2026-01-31T12:00:00+00:00.")
            account = services.clock_set(token_or_account=account, to=moment)
        self.stdout.write(f"{account.stripe_id} simulated now: {clock.now(account).isoformat()}")
