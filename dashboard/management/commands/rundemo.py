"""`make demo`: migrate, start the web server and a Celery worker, seed when empty.

The servers start first, so the login page answers within seconds on a fresh clone; the
seed (a year of history through the sandbox, see sandbox/demo_history.py) runs next with
its progress printed, the worker taking a share of the event processing, and the logins
are printed when it is done.

Ctrl-C (during the seed too) stops both, then the embedded PostgreSQL and Redis when they
were in use, so an interrupted demo leaves no server behind.
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
from sandbox import demo


class Command(BaseCommand):
    help = "Run the demo: web server + Celery worker on the configured (or embedded) services."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--scale", default="full", help="Demo size on first run (seed_demo --scale)."
        )

    def handle(self, *, port: int, host: str, scale: str, **options):
        call_command("migrate", interactive=False, verbosity=0)
        children = self._start_servers(host=host, port=port)
        # Until the wait loop takes over, Ctrl-C and `kill` interrupt the seed and stop the
        # demo cleanly (SIGINT explicitly: a shell starting us in the background ignores it).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            self.stdout.write(
                self.style.SUCCESS(f"\nPaydesk is running at http://{host}:{port}/\n")
            )
            state = demo.seed_state()
            if state == "partial":
                self.stdout.write(
                    "The last demo seed was interrupted before it finished: starting it over."
                )
            if state == "partial" or not Account.objects.exists():
                self.stdout.write(
                    "Seeding the demo data (first run): a year of history through the "
                    "sandbox. The site answers meanwhile; the logins follow."
                )
                call_command("seed_demo", scale=scale, reset=state == "partial", stdout=self.stdout)
            else:
                # Printed after the servers' start-up lines so the logins stay visible.
                time.sleep(2)
            call_command("demo_logins")
            self.stdout.write("Press Ctrl-C to stop.")
            self._wait(children)
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            self._stop(children)
        self.stdout.write("Paydesk stopped.")

    def _start_servers(self, *, host: str, port: int) -> list[subprocess.Popen]:
        environment = {
            **os.environ,
            "DATABASE_URL": settings.DATABASE_URL,
            "REDIS_URL": settings.REDIS_URL,
            "PYTHONUNBUFFERED": "1",
        }
        bin_dir = os.path.dirname(sys.executable)
        web = [
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
        ]
        worker = [
            os.path.join(bin_dir, "celery"),
            "-A",
            "paydesk",
            "worker",
            # Warnings only: a task line per drain would bury the seed's progress.
            "--loglevel",
            "WARNING",
            "--concurrency",
            "2",
            "--beat",
            "--schedule",
            str(embedded.VAR_DIR / "celerybeat"),
        ]
        return [
            subprocess.Popen(web, env=environment),
            subprocess.Popen(worker, env=environment),
        ]

    def _wait(self, children: list[subprocess.Popen]) -> None:
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.5)

    def _stop(self, children: list[subprocess.Popen]) -> None:
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


def _interrupt(signum, frame):
    raise KeyboardInterrupt
