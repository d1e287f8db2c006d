"""The emulated resources; importing this package registers every route."""

from sandbox.resources import (  # noqa: F401
    accounts,
    balance,
    catalog,
    charges,
    connect,
    connect_money,
    customers,
    disputes,
    payment_intents,
    payment_methods,
    payouts,
    refunds,
    webhooks,
)
