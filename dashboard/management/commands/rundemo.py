"""`make demo`: migrate, seed when empty, run the web server and a Celery worker.

Ctrl-C stops both, then the embedded PostgreSQL and Redis when they were in use, so an
interrupted demo leaves no server behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from dashboard.models import Account
from paydesk import embedded


class Command(BaseCommand):
    help = "Run the demo: web server + Celery worker on the configured (or embedded) services."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *, port: int, host: str, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if not Account.objects.exists():
            self.stdout.write("Seeding the demo data (first run)…")
            call_command("seed_demo")

        environment = {
            **os.environ,
            "DATABASE_URL": settings.DATABASE_URL,
            "REDIS_URL": settings.REDIS_URL,
            "PYTHONUNBUFFERED": "1",
        }
        bin_dir = os.path.dirname(sys.executable)
        children = [
            subprocess.Popen(
                [
                    os.path.join(bin_dir, "gunicorn"),
                    "paydesk.wsgi",
                    "--bind",
                    f"{host}:{port}",
                    "--workers",
                    "2",
                    "--threads",
                    "4",
                    "--access-logfile",
                    "-",
                ],
                env=environment,
            ),
            subprocess.Popen(
                [
                    os.path.join(bin_dir, "celery"),
                    "-A",
                    "paydesk",
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    "2",
                    "--beat",
                    "--schedule",
                    str(embedded.VAR_DIR / "celerybeat"),
                ],
                env=environment,
            ),
        ]
        self.stdout.write(self.style.SUCCESS(f"\nPaydesk is running at http://{host}:{port}/\n"))
        # Printed after the servers' start-up lines so the logins stay visible.
        time.sleep(2)
        call_command("demo_logins")
        self.stdout.write("Press Ctrl-C to stop.")

        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
            from django.db import connections

            connections.close_all()
            if not os.environ.get("DATABASE_URL"):
                embedded.stop_postgres()
            if not os.environ.get("REDIS_URL"):
                embedded.stop_redis()
        self.stdout.write("Paydesk stopped.")
