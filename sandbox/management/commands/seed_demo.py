from django.core.management.base import BaseCommand, CommandError

from dashboard.models import Account
from sandbox import demo


class Command(BaseCommand):
    help = "Seed the demo accounts (Acme Platform, Globex Store) and their team."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Delete the demo data first.")

    def handle(self, *, reset: bool, **options):
        slugs = [spec["slug"] for spec in demo.ACCOUNTS]
        if Account.objects.filter(slug__in=slugs).exists():
            if not reset:
                raise CommandError(
                    "The demo is already seeded; nothing was changed. "
                    "Run `manage.py seed_demo --reset` to start over."
                )
            demo.delete_demo()
        demo.seed_tenants_and_team()
        self.stdout.write(self.style.SUCCESS("Demo accounts and team created."))
