"""`SandboxHTTPClient`: the SDK's HTTP client that answers from the emulator in-process.

    client = stripe.StripeClient("sk_test_sbx_acme", http_client=SandboxHTTPClient())

The SDK builds the request exactly as for Stripe (method, URL, headers, form body); this
client hands it to `sandbox.api.handle` instead of the network.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import stripe


class SandboxHTTPClient(stripe.HTTPClient):
    name = "sandbox"

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        from sandbox import api

        return api.handle(method, url, dict(headers or {}), post_data)

    def request_stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        body, status, response_headers = self.request(method, url, headers, post_data)
        return io.BytesIO(body.encode()), status, response_headers

    def close(self) -> None:
        pass
