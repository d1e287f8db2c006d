"""Schemathesis against the live schema: every operation, generated requests (valid and
not), with a real key of a sandbox-connected account that holds some data. The API must
answer no 5xx, only documented status codes and content types, and bodies that match the
documented schemas."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import checks

from paydesk.wsgi import application

pytestmark = pytest.mark.django_db

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def wsgi_in_test_transaction():
    """Requests go straight to the WSGI handler, whose request signals would close the
    test's database connection (and its transaction); the test client unhooks them too."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_every_operation_answers_as_its_schema_says(
    wsgi_in_test_transaction, acme_key, customer, card
):
    secret = acme_key[1]
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    statuses: list[int] = []

    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=10,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            response = case.call_and_validate(
                headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS
            )
            statuses.append(response.status_code)

        check()

    # The run reached real answers, not only refusals: lists and the balance answer 200.
    assert statuses.count(200) >= 20, sorted(set(statuses))
    assert any(400 <= code < 500 for code in statuses)
