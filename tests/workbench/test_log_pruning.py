from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from workbench import services
from workbench.models import ApiIncomingLog

pytestmark = pytest.mark.django_db


def incoming(account, age_days):
    return ApiIncomingLog.objects.create(
        account=account,
        api_key=None,
        key_hint="pd_sk_test_…abcd",
        livemode=False,
        method="GET",
        endpoint="/api/v1/customers",
        status=200,
        request_id="req_1",
        created=timezone.now() - timedelta(days=age_days),
    )


def test_old_incoming_api_logs_are_pruned_and_recent_ones_kept(acme, settings):
    settings.PAYDESK_LOG_RETENTION_DAYS = 30
    with scope(account=acme):
        incoming(acme, 31)
        recent = incoming(acme, 1)

    services.logs_prune()

    with scope(account=acme):
        assert list(ApiIncomingLog.objects.values_list("pk", flat=True)) == [recent.pk]
