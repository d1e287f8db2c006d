from tests.payments.sandbox_support import connected, sandbox_settings, stripe  # noqa: F401
