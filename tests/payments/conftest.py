from __future__ import annotations

import pytest
from django.db import transaction
from django_scopes import scope

from tests.payments.sandbox_support import connected, sandbox_settings, stripe  # noqa: F401
from workbench.dispatch import handlers_for


@pytest.fixture
def deliver():
    """Run an event through every registered handler, as the workbench processor does:
    inside the account scope and one transaction, handlers in registration order."""

    def run(event) -> None:
        with scope(account=event.account), transaction.atomic():
            for handler in handlers_for(event.type):
                handler(event)

    return run
