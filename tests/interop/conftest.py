"""localstripe (PyPI) as a second, independent Stripe peer, in its own process on loopback.

The server is started once per session from the venv's localstripe package, bound to
127.0.0.1 (its own `--port` entry point listens on every interface). Each test starts from
an empty store. The console's code runs unchanged: `workbench.client.stripe_client` is
pointed at localstripe with the workbench's logging HTTP client around a plain requests
client, so every call is logged and carries an idempotency key as it would against Stripe.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
import requests
import stripe

from workbench import client as workbench_client

SERVER = """
import sys
from aiohttp import web
from localstripe.resources import store
from localstripe.server import app

store.clear()
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""
API_KEY = "sk_test_paydesk_interop"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(port: int, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("localstripe did not start listening")


@pytest.fixture(scope="session")
def localstripe_url():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    try:
        wait_until_listening(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def localstripe(localstripe_url):
    """An empty localstripe for this test; returns its base URL."""
    requests.delete(f"{localstripe_url}/_config/data", timeout=5).raise_for_status()
    return localstripe_url


def build_localstripe_client(url: str, *, account, livemode: bool) -> stripe.StripeClient:
    return stripe.StripeClient(
        API_KEY,
        base_addresses={"api": url},
        stripe_version=stripe.api_version,
        http_client=workbench_client.LoggingHTTPClient(
            stripe.RequestsClient(), account=account, livemode=livemode
        ),
        max_network_retries=0,
    )


@pytest.fixture
def on_localstripe(localstripe, monkeypatch):
    """Every `stripe_client(account=…, livemode=…)` call now reaches localstripe."""

    def stripe_client(*, account, livemode):
        return build_localstripe_client(localstripe, account=account, livemode=livemode)

    monkeypatch.setattr(workbench_client, "stripe_client", stripe_client)
    return localstripe


@pytest.fixture
def raw_client(localstripe, acme):
    """For changes made at "Stripe" by someone else than the console."""
    return build_localstripe_client(localstripe, account=acme, livemode=False)
