"""The base of every mirror table: one row per Stripe object the console shows.

Typed columns hold what is filtered, sorted, summed or listed; `data` holds the whole
object for detail pages. `source_time` is when the data we hold was true at Stripe (the
event's `created`, or the moment of an API read): an update carrying an older source time
never overwrites a newer one, so out-of-order webhooks cannot roll a row back.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
from django.db import connection, models, transaction

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


# Columns a bulk upsert never changes on an existing row: the row's identity.
_IDENTITY = frozenset({"account_id", "stripe_id"})
# Field types whose Python values the database driver takes as they are (no prep needed).
_PLAIN_TYPES = frozenset(
    {
        "CharField",
        "TextField",
        "BooleanField",
        "IntegerField",
        "BigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "ForeignKey",
    }
)


def _preparer(field: models.Field):
    """How a value of `field` is adapted for the database (None: as it is)."""
    kind = field.get_internal_type()
    if kind in _PLAIN_TYPES:
        return None
    if kind == "DateTimeField":
        # An aware datetime (what from_timestamp and event times are) needs nothing.
        def prepare(value):
            if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
                return value
            return field.get_db_prep_save(value, connection)

        return prepare
    return lambda value: field.get_db_prep_save(value, connection)


def execute_binding(sql: str, params: list[Any]) -> list[tuple]:
    """Runs one statement on Django's connection (same transaction, Django's error types)
    with the parameters sent apart from it (server-side binding; `%b` for binary) and
    returns its rows. Django's own cursors bind on the client, which quotes every element
    of an array parameter in Python: for the columns of a few hundred rows that costs more
    than the statement. Logged in `connection.queries` like Django's when that is on."""
    connection.ensure_connection()
    started = time.monotonic()
    with connection.make_cursor(psycopg.Cursor(connection.connection)) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall() if cursor.description else []
    if connection.queries_logged:
        connection.queries_log.append(
            {"sql": sql, "time": f"{time.monotonic() - started:.3f}", "params": "(arrays)"}
        )
    return rows


def newest_per_id(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One row per `stripe_id`: the newest by (source_time, source_sequence), the later
    one on a tie (as two single upserts in that order would leave it)."""
    newest: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        held = newest.get(row["stripe_id"])
        if held is None or (held["source_time"], held["source_sequence"]) <= (
            row["source_time"],
            row["source_sequence"],
        ):
            newest[row["stripe_id"]] = row
    return list(newest.values())


def bulk_upsert(model: type[StripeObject], rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Writes many mirror rows with one `INSERT … ON CONFLICT … DO UPDATE` statement, each
    row only if it is not older than the one held (the rule of `upsert`, applied by
    Postgres row by row).

    Each row maps column names (attnames: `account_id`, `customer_id`, …) to Python values;
    every row names the same columns, at least `account_id`, `stripe_id`, `livemode`,
    `created`, `data`, `source_time` and `source_sequence`. Columns a row does not name get
    their default on insert and are left alone on update. Several rows for one `stripe_id`
    are reduced to the newest first (Postgres refuses to update one row twice in one
    statement). Returns {stripe_id: primary key} of the rows written (inserted or updated);
    a row kept because it was newer is not in it.

    Values are adapted by each field (`get_db_prep_save`) and sent as one typed array per
    column (`unnest`): a statement with a placeholder per value costs more to compose and
    parse than the writes themselves.
    """
    # In Stripe id order: two workers writing overlapping rows lock them in the same order
    # (no deadlock).
    rows = sorted(newest_per_id(rows), key=lambda row: row["stripe_id"])
    if not rows:
        return {}
    named = list(rows[0])
    fields = {f.attname: f for f in model._meta.concrete_fields if not f.primary_key}
    unknown = set(named) - set(fields)
    if unknown:
        raise ValueError(f"{model.__name__} has no column {', '.join(sorted(unknown))}")
    defaults = [name for name in fields if name not in named]
    columns = named + defaults
    arrays = []
    for name in named:
        prepare = _preparer(fields[name])
        try:
            values = [row[name] for row in rows]
        except KeyError as error:
            raise ValueError("every row of a bulk upsert names the same columns") from error
        arrays.append(values if prepare is None else [prepare(value) for value in values])
    for name in defaults:
        field = fields[name]
        prepare = _preparer(field)
        default = field.get_default()
        arrays.append([default if prepare is None else prepare(default)] * len(rows))
    table = connection.ops.quote_name(model._meta.db_table)
    quoted = [connection.ops.quote_name(fields[name].column) for name in columns]
    typed = [f"%b::{fields[name].db_type(connection)}[]" for name in columns]
    updated = [
        f"{quote} = EXCLUDED.{quote}"
        for name, quote in zip(columns, quoted, strict=True)
        if name in named and name not in _IDENTITY
    ]
    return dict(
        execute_binding(
            f"""
            INSERT INTO {table} ({", ".join(quoted)})
            SELECT * FROM unnest({", ".join(typed)})
            ON CONFLICT (account_id, stripe_id) DO UPDATE SET {", ".join(updated)}
            WHERE ({table}.source_time, {table}.source_sequence)
                <= (EXCLUDED.source_time, EXCLUDED.source_sequence)
            RETURNING stripe_id, id
            """,  # noqa: S608 (names come from the model; every value is a parameter)
            arrays,
        )
    )
