"""The test clock: each emulated account has its own simulated "now".

Simulated time is real time plus the account's offset, so it keeps flowing between
requests; `services.clock_advance` and `clock_set` move the offset and run what the
passing time triggers (see `timeline.py`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from sandbox.models import SandboxAccount


def now(sandbox_account: SandboxAccount) -> datetime:
    return timezone.now() + timedelta(seconds=sandbox_account.clock_offset_seconds)


def now_timestamp(sandbox_account: SandboxAccount) -> int:
    return int(now(sandbox_account).timestamp())


def to_datetime(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)
