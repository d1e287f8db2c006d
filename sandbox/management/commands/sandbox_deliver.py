import time

from django.core.management.base import BaseCommand

from sandbox import delivery


class Command(BaseCommand):
    help = "Send the sandbox's due webhook deliveries (retries included); --watch keeps going."

    def add_arguments(self, parser):
        parser.add_argument("--watch", action="store_true", help="Poll every few seconds.")
        parser.add_argument("--interval", type=float, default=5.0)

    def handle(self, *, watch: bool, interval: float, **options):
        while True:
            sent = delivery.deliver_pending()
            if sent:
                self.stdout.write(f"Attempted {sent} deliveries.")
            if not watch:
                return
            time.sleep(interval)
