"""The base of every mirror table: one row per Stripe object the console shows.

Typed columns hold what is filtered, sorted, summed or listed; `data` holds the whole
object for detail pages. `source_time` is when the data we hold was true at Stripe (the
event's `created`, or the moment of an API read): an update carrying an older source time
never overwrites a newer one, so out-of-order webhooks cannot roll a row back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from django.db import models, transaction

from dashboard.models import Account, TenantModel


class StripeObject(TenantModel):
    livemode = models.BooleanField(default=False)
    stripe_id = models.CharField(max_length=255)
    # The connected account the object lives on ("" for the platform's own objects).
    stripe_account = models.CharField(max_length=255, blank=True, default="")
    created = models.DateTimeField(db_index=True)
    data = models.JSONField(default=dict)
    source_time = models.DateTimeField()
    # Breaks ties between two writes with the same source_time (Stripe's `created` is in
    # whole seconds): a higher sequence is newer. Events use their arrival order in the
    # sandbox, API reads use 0 so that an event at the same second wins.
    source_sequence = models.BigIntegerField(default=0)

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(
                fields=["account", "stripe_id"], name="%(app_label)s_%(class)s_unique_stripe_id"
            )
        ]

    def __str__(self) -> str:
        return self.stripe_id


def from_timestamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value is not None else None


Mirror = TypeVar("Mirror", bound=StripeObject)


def upsert(
    model: type[Mirror],
    *,
    account: Account,
    livemode: bool,
    obj: dict[str, Any],
    fields: dict[str, Any],
    source_time: datetime,
    source_sequence: int = 0,
    stripe_account: str = "",
) -> tuple[Mirror, bool]:
    """Insert or update the mirror row of `obj` unless we already hold newer data.

    Returns (row, written): `written` is False when the row was newer and kept as it was.
    Call inside the account's scope.
    """
    values = {
        "livemode": livemode,
        "stripe_account": stripe_account,
        "created": from_timestamp(obj.get("created")) or source_time,
        "data": obj,
        "source_time": source_time,
        "source_sequence": source_sequence,
        **fields,
    }
    with transaction.atomic():
        row = model.objects.select_for_update().filter(account=account, stripe_id=obj["id"]).first()
        if row is None:
            row, created = model.objects.get_or_create(
                account=account, stripe_id=obj["id"], defaults=values
            )
            if created:
                return row, True
            row = model.objects.select_for_update().get(pk=row.pk)
        if (row.source_time, row.source_sequence) > (source_time, source_sequence):
            return row, False
        for name, value in values.items():
            setattr(row, name, value)
        row.save()
        return row, True
