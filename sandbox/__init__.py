"""The sandbox: an in-process, stateful emulator of the Stripe REST API.

Plug it under the official SDK and the console's code path is the same as against Stripe:

    stripe.StripeClient("sk_test_sbx_<token>", http_client=SandboxHTTPClient())

- `client.SandboxHTTPClient`: the SDK's HTTP client; hands each request to `api.handle`.
- `api`: authentication by key (a new token provisions an emulated account), idempotency
  keys, one transaction per request, `expand[]`, Stripe's error bodies and headers.
- `resources/`: one module per resource family, each registering its routes.
- `store`: the `StateObject` rows behind every object, pagination, expansion.
- `events` and `delivery`: events for every change; signed webhook deliveries.
- `clock`, `timeline`, `services`: the test clock and what passing time triggers, and
  sandbox-only actions (dispute outcomes, failing payouts, 3D Secure).

The sandbox's tables are its own (see `models.py`); `demo.py` and the demo commands are
separate and use the sandbox only through the SDK and `services`.
"""
