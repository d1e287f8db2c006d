"""Exports: list pages (with their filters) written to CSV or XLSX by a Celery worker.

Each list page registers an export source: its columns, and how to select its rows from
the page's filters. A run never loads model instances: CSV cells are formatted and
neutralised by PostgreSQL and streamed row by row with `COPY (SELECT …) TO STDOUT`; XLSX
cells come as `values_list` tuples from a server-side cursor (`.iterator()`) and are typed
in Python. Either way rows go to a local work file, then the finished file is handed to
Django's default storage, so memory stays flat whatever the row count.

Safe to run twice and after a crash: a run is claimed under a row lock; a succeeded run is
never redone; a running one whose heartbeat went stale (its worker died) is restarted from
the first row, overwriting the work file keyed by the run's id; the file reaches storage
only once complete.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F, Func, Q, QuerySet, TextField
from django.db.models.fields.json import KT
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from dashboard.models import Account, User
from dashboard.money import THREE_DECIMAL, ZERO_DECIMAL, decimals_for
from dashboard.services import RequestContext, audit_record
from reporting.models import ReportFormat, ReportRun

logger = logging.getLogger(__name__)

TEXT, MONEY, DATETIME, NUMBER, BOOLEAN = "text", "money", "datetime", "number", "boolean"
# Spreadsheet programs run a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
METADATA_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
MAX_METADATA_KEYS = 10
DOWNLOAD_SALT = "reporting.export-download"
DOWNLOAD_MAX_AGE = timedelta(minutes=10)


def _setting(name: str, default):
    return getattr(settings, name, default)


# --- The registry -----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    # A `values_list` path ("customer__email") or expression; the key when omitted.
    field: Any = None
    kind: str = TEXT
    default: bool = True

    @property
    def expression(self) -> Any:
        return self.field or self.key


@dataclass(frozen=True)
class ExportSource:
    key: str
    title: str
    permission: str
    columns: tuple[Column, ...]
    # rows(account, livemode, filters) -> the queryset of the list page, in its order.
    rows: Callable[[Account, bool, dict], QuerySet]
    # Where metadata lives in `data` (None: the source has no metadata to offer).
    metadata_path: str | None = "data__metadata"
    currency_field: str = "currency"
    # The list page this source exports, for "back to the list" links.
    list_url_name: str = ""
    column_map: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_map", {column.key: column for column in self.columns})

    @property
    def default_columns(self) -> list[str]:
        return [column.key for column in self.columns if column.default]


_sources: dict[str, ExportSource] = {}


def register_export_source(
    key: str,
    *,
    title: str,
    permission: str,
    columns: Iterable[Column],
    rows: Callable[[Account, bool, dict], QuerySet],
    metadata_path: str | None = "data__metadata",
    currency_field: str = "currency",
    list_url_name: str = "",
) -> ExportSource:
    source = ExportSource(
        key=key,
        title=title,
        permission=permission,
        columns=tuple(columns),
        rows=rows,
        metadata_path=metadata_path,
        currency_field=currency_field,
        list_url_name=list_url_name,
    )
    _sources[key] = source
    return source


def export_source(key: str) -> ExportSource | None:
    return _sources.get(key)


def export_sources() -> list[ExportSource]:
    return list(_sources.values())


class ExportError(ValueError):
    """A request for an export that cannot be made; the message is for the user."""


def metadata_keys_parse(text: str) -> list[str]:
    """'order_id, plan' -> ['order_id', 'plan']; refuses keys that are not plain names."""
    keys = [key.strip() for key in re.split(r"[,\s]+", text or "") if key.strip()]
    for key in keys:
        if not METADATA_KEY.match(key) or "__" in key:
            raise ExportError(f"“{key}” is not a metadata key (letters, digits, _ . -).")
    if len(keys) > MAX_METADATA_KEYS:
        raise ExportError(f"Choose at most {MAX_METADATA_KEYS} metadata keys.")
    return list(dict.fromkeys(keys))


# --- Cells ------------------------------------------------------------------------------


def neutralise(text: str) -> str:
    """A text cell a spreadsheet would run as a formula gets a leading quote."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class Layout:
    """What a run selects and how each selected value becomes a cell."""

    headers: list[str]
    expressions: dict[str, Any]
    kinds: list[str]
    # Index of the currency in each selected tuple (money columns need it), or None.
    currency_index: int | None


def layout_for(*, source: ExportSource, columns: list[str], metadata_keys: list[str]) -> Layout:
    unknown = [key for key in columns if key not in source.column_map]
    if unknown:
        raise ExportError(f"Unknown column: {', '.join(unknown)}.")
    if not columns and not metadata_keys:
        raise ExportError("Choose at least one column.")
    headers, expressions, kinds = [], {}, []
    for index, key in enumerate(columns):
        column = source.column_map[key]
        headers.append(column.title)
        expression = column.expression
        expressions[f"c{index}"] = F(expression) if isinstance(expression, str) else expression
        kinds.append(column.kind)
    if metadata_keys and source.metadata_path is None:
        raise ExportError("This list has no metadata to export.")
    for index, key in enumerate(metadata_keys, start=len(columns)):
        headers.append(f"metadata.{key}")
        expressions[f"c{index}"] = KT(f"{source.metadata_path}__{key}")
        kinds.append(TEXT)
    currency_index = None
    if MONEY in kinds:
        currency_index = len(expressions)
        expressions["currency_for_amounts"] = F(source.currency_field)
    return Layout(headers, expressions, kinds, currency_index)


class _CsvCell(Func):
    """A column formatted for CSV by PostgreSQL itself, so rows arrive as ready strings
    and go from the server-side cursor to the file with no Python work per cell."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra):
        value, params = compiler.compile(self.source_expressions[0])
        return self.cell_sql(value, list(params))


class _TextCell(_CsvCell):
    def cell_sql(self, value, params):
        # The same rule as `neutralise`: a leading = + - @ tab or CR gets a quote.
        # ascii() of the first character costs far less than a regular expression.
        codes = ", ".join(str(ord(start)) for start in FORMULA_STARTS)
        text = f"({value})::text"
        sql = f"CASE WHEN ascii({text}) IN ({codes}) THEN '''' || {text} ELSE {text} END"
        return sql, [*params, *params, *params]


class _DateTimeCell(_CsvCell):
    def __init__(self, expression, *, tz: str):
        super().__init__(expression)
        self.tz = tz

    def cell_sql(self, value, params):
        # A timestamp's text under the ISO DateStyle psycopg requires: 2026-03-01 12:00:00
        # (to_char costs about twice as much over a million rows).
        return f"date_trunc('second', ({value}) AT TIME ZONE %s)::text", [*params, self.tz]


class _BooleanCell(_CsvCell):
    def cell_sql(self, value, params):
        sql = f"CASE WHEN ({value}) THEN 'true' WHEN NOT ({value}) THEN 'false' END"
        return sql, [*params, *params]


class _NumberCell(_CsvCell):
    def cell_sql(self, value, params):
        return f"({value})::text", params


class _MoneyCell(_CsvCell):
    """Minor units as a decimal number in major units ("-12.34", "500" for JPY)."""

    def as_sql(self, compiler, connection, **extra):
        amount, amount_params = compiler.compile(self.source_expressions[0])
        currency, currency_params = compiler.compile(self.source_expressions[1])
        zero = ", ".join(f"'{code}'" for code in sorted(ZERO_DECIMAL))
        three = ", ".join(f"'{code}'" for code in sorted(THREE_DECIMAL))
        sql = (
            f"CASE WHEN ({currency}) IN ({zero}) THEN ({amount})::text "
            f"WHEN ({currency}) IN ({three}) THEN round(({amount})::numeric / 1000, 3)::text "
            f"ELSE round(({amount})::numeric / 100, 2)::text END"
        )
        params = [*currency_params, *amount_params, *currency_params, *amount_params]
        return sql, [*params, *amount_params]


def csv_layout(layout: Layout, *, source: ExportSource, tz: str) -> Layout:
    """The layout with every column formatted as CSV text by the database."""
    expressions = {}
    for (name, expression), kind in zip(layout.expressions.items(), layout.kinds, strict=False):
        if kind == MONEY:
            expressions[name] = _MoneyCell(expression, F(source.currency_field))
        elif kind == DATETIME:
            expressions[name] = _DateTimeCell(expression, tz=tz)
        elif kind == BOOLEAN:
            expressions[name] = _BooleanCell(expression)
        elif kind == NUMBER:
            expressions[name] = _NumberCell(expression)
        else:
            expressions[name] = _TextCell(expression)
    return Layout(layout.headers, expressions, layout.kinds, currency_index=None)


def cell_converters(layout: Layout, *, tz: zoneinfo.ZoneInfo) -> Callable:
    """A function turning one selected tuple into a row of typed spreadsheet cells."""
    places: dict[str, int] = {}

    def money(value, currency):
        if value is None:
            return None
        exponent = places.get(currency)
        if exponent is None:
            exponent = places[currency] = -decimals_for(currency or "usd")
        # A number, never a text cell: a negative amount stays a negative number.
        return Decimal(value).scaleb(exponent)

    def text(value):
        if value is None:
            return ""
        return neutralise(value if isinstance(value, str) else str(value))

    def moment(value):
        # Spreadsheets have no time zones: the local time of the account, as on the pages.
        return None if value is None else value.astimezone(tz).replace(tzinfo=None)

    def boolean(value):
        return "" if value is None else ("true" if value else "false")

    def number(value):
        return value

    by_kind = {TEXT: text, DATETIME: moment, BOOLEAN: boolean, NUMBER: number}
    plain = [(index, by_kind[kind]) for index, kind in enumerate(layout.kinds) if kind != MONEY]
    amounts = [index for index, kind in enumerate(layout.kinds) if kind == MONEY]
    width, currency_index = len(layout.kinds), layout.currency_index

    def convert(row: tuple) -> list:
        cells = [None] * width
        for index, function in plain:
            cells[index] = function(row[index])
        if amounts:
            currency = row[currency_index]
            for index in amounts:
                cells[index] = money(row[index], currency)
        return cells

    return convert


# --- Writers ----------------------------------------------------------------------------


class XlsxWriter:
    def __init__(self, path: Path):
        from openpyxl import Workbook

        self.path = path
        # Write-only mode streams rows to a temporary file instead of keeping cells.
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet("Export")

    def header(self, headers: list[str]) -> None:
        self.sheet.append(headers)

    def rows(self, rows: Iterable[list]) -> None:
        append = self.sheet.append
        for row in rows:
            append(row)

    def close(self) -> None:
        self.workbook.save(self.path)


CONTENT_TYPES = {
    ReportFormat.CSV: "text/csv",
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# --- Creating and running exports ---------------------------------------------------------


def export_create(
    *,
    account: Account,
    livemode: bool,
    actor: User | None,
    source_key: str,
    filters: dict,
    columns: list[str],
    metadata_keys: list[str],
    format: str,
    saved_report=None,
    context: RequestContext | None = None,
) -> ReportRun:
    """Records an export and enqueues it once the transaction commits."""
    source = export_source(source_key)
    if source is None:
        raise ExportError("This list cannot be exported.")
    if format not in CONTENT_TYPES:
        raise ExportError("Choose CSV or XLSX.")
    layout_for(source=source, columns=columns, metadata_keys=metadata_keys)
    with transaction.atomic():
        run = ReportRun.objects.create(
            account=account,
            livemode=livemode,
            source=source.key,
            format=format,
            requested_by=actor,
            saved_report=saved_report,
            parameters={
                "filters": {name: str(value) for name, value in filters.items()},
                "columns": columns,
                "metadata_keys": metadata_keys,
            },
        )
        audit_record(
            account=account,
            actor=actor,
            action="reports.export_requested",
            target=run,
            target_id=run.public_id,
            target_repr=f"{source.title} ({format.upper()})",
            metadata={"source": source.key, "filters": run.parameters["filters"]},
            context=context,
        )
        transaction.on_commit(lambda: _enqueue(run.pk), robust=True)
    return run


def _enqueue(run_id: int) -> None:
    from reporting.tasks import export_run

    export_run.delay(run_id)


def stale_after() -> timedelta:
    return _setting("PAYDESK_EXPORT_STALE_AFTER", timedelta(seconds=90))


class ExportBusy(Exception):
    """Another worker is writing this run right now (its heartbeat is fresh)."""


def export_claim(*, run_id: int, now: datetime | None = None) -> ReportRun | None:
    """Takes the run for this worker. None when there is nothing to do (done already).

    Raises ExportBusy when another live worker holds it.
    """
    now = now or timezone.now()
    with transaction.atomic(), scopes_disabled():
        run = (
            ReportRun.objects.select_for_update()
            .select_related("account")
            .filter(pk=run_id)
            .first()
        )
        if run is None or run.is_done:
            return None
        heartbeat = run.heartbeat_at or run.started_at or now
        if run.status == ReportRun.Status.RUNNING and heartbeat > now - stale_after():
            raise ExportBusy(run.public_id)
        if run.status == ReportRun.Status.RUNNING:
            logger.warning("export %s lost its worker; restarting it", run.public_id)
        run.status = ReportRun.Status.RUNNING
        run.attempts += 1
        run.rows_done = 0
        run.rows_total = None
        run.started_at = run.heartbeat_at = now
        run.error = ""
        run.save(
            update_fields=[
                "status",
                "attempts",
                "rows_done",
                "rows_total",
                "started_at",
                "heartbeat_at",
                "error",
            ]
        )
    return run


def work_path(run: ReportRun) -> Path:
    """The local file a run writes to, keyed by the run: a restart overwrites it."""
    folder = Path(_setting("PAYDESK_EXPORT_WORK_DIR", Path(settings.MEDIA_ROOT) / "exports-work"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{run.public_id}.{run.format}.part"


def storage_name(run: ReportRun) -> str:
    mode = "live" if run.livemode else "test"
    day = run.created.strftime("%Y%m%d")
    return f"exports/{run.account_id}/{run.public_id}/{run.source}-{mode}-{day}.{run.format}"


def _progress(run: ReportRun, **values) -> bool:
    """Writes progress; False when the run is no longer ours (another attempt took it)."""
    with scopes_disabled():
        return bool(
            ReportRun.objects.filter(
                pk=run.pk, status=ReportRun.Status.RUNNING, attempts=run.attempts
            ).update(heartbeat_at=timezone.now(), **values)
        )


def rows_queryset(queryset: QuerySet, layout: Layout) -> QuerySet:
    """The source's rows as tuples of exactly the layout's expressions."""
    return queryset.annotate(**layout.expressions).values_list(*layout.expressions)


def stream_rows(queryset: QuerySet, layout: Layout, *, chunk_size: int) -> Iterator[tuple]:
    """Tuples from a server-side cursor (psycopg named cursor behind `.iterator()`)."""
    return rows_queryset(queryset, layout).iterator(chunk_size=chunk_size)


def export_execute(*, run_id: int, progress_every: int | None = None) -> ReportRun | None:
    """Claims and writes one export. Returns the run, or None when nothing was to be done."""
    run = export_claim(run_id=run_id)
    if run is None:
        return None
    progress_every = progress_every or _setting("PAYDESK_EXPORT_PROGRESS_EVERY", 10_000)
    try:
        with scope(account=run.account):
            return _write(run, progress_every=progress_every)
    except Exception as error:
        logger.exception("export %s failed", run.public_id)
        _progress(
            run,
            status=ReportRun.Status.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
        )
        raise


def _write(run: ReportRun, *, progress_every: int) -> ReportRun:
    source = export_source(run.source)
    if source is None:
        raise ExportError(f"unknown export source {run.source!r}")
    parameters = run.parameters
    layout = layout_for(
        source=source,
        columns=parameters.get("columns") or [],
        metadata_keys=parameters.get("metadata_keys") or [],
    )
    queryset = source.rows(run.account, run.livemode, parameters.get("filters") or {})
    total = queryset.count()
    if not _progress(run, rows_total=total):
        return run
    path = work_path(run)
    if run.format == ReportFormat.XLSX:
        done = _write_xlsx(run, queryset, layout, path=path, progress_every=progress_every)
    else:
        layout = csv_layout(layout, source=source, tz=run.account.timezone)
        done = _write_csv(run, queryset, layout, path=path, progress_every=progress_every)
    if done is None:
        return run  # another attempt took over; it writes the file
    return _publish(run, path=path, rows=done)


def _write_xlsx(run, queryset, layout, *, path: Path, progress_every: int) -> int | None:
    """Typed cells (numbers, dates) made in Python from tuples of a server-side cursor."""
    convert = cell_converters(layout, tz=zoneinfo.ZoneInfo(run.account.timezone))
    writer = XlsxWriter(path)
    done = 0
    try:
        writer.header(layout.headers)
        rows = stream_rows(queryset, layout, chunk_size=progress_every)
        while batch := list(islice(rows, progress_every)):
            writer.rows(map(convert, batch))
            done += len(batch)
            if not _progress(run, rows_done=done):
                return None
    finally:
        writer.close()
    return done


def progress_aside(side, run: ReportRun, done: int) -> int:
    """Writes progress and the heartbeat over `side`, a second connection: the export's
    own connection is streaming COPY and cannot run a statement until it ends. Returns
    how many rows it updated (0 when this attempt lost the run, or when the run is not
    visible to other connections yet, as inside a test's transaction)."""
    table = ReportRun._meta.db_table
    with side.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET rows_done = %s, heartbeat_at = %s "  # noqa: S608
            "WHERE id = %s AND status = %s AND attempts = %s",
            [done, timezone.now(), run.pk, ReportRun.Status.RUNNING, run.attempts],
        )
        return cursor.rowcount


def _write_csv(run, queryset, layout, *, path: Path, progress_every: int) -> int:
    """Cells formatted and neutralised by PostgreSQL (see csv_layout), streamed with
    `COPY (SELECT …) TO STDOUT WITH (FORMAT csv)`: one protocol message per row, written
    as it arrives, so memory stays flat and rows are counted exactly for the progress.

    COPY rather than a cursor FETCH loop because it is the fastest way out of PostgreSQL
    (bench/export.py: a named cursor alone reaches about a third of COPY's speed before
    any writing). Whether this attempt still owns the run is checked when publishing.
    """
    sql, params = rows_queryset(queryset, layout).query.sql_with_params()
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    done = 0
    try:
        with path.open("wb") as handle, connection.cursor() as cursor:
            header = io.StringIO()
            csv.writer(header, lineterminator="\n").writerow(layout.headers)
            handle.write(header.getvalue().encode("utf-8-sig"))
            statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
            with cursor.cursor.copy(statement, params) as copy:
                write = handle.write
                for row in copy:
                    write(row)
                    done += 1
                    if not done % progress_every:
                        progress_aside(side, run, done)
    finally:
        side.close()
    return done


class _WorkFile(File):
    """The finished work file. Local storage (FileSystemStorage) moves a file that has a
    `temporary_file_path` instead of copying it; remote storages upload the content."""

    def __init__(self, handle, *, name: str, path: Path):
        super().__init__(handle, name=name)
        self.path = path

    def temporary_file_path(self) -> str:
        return str(self.path)


def _publish(run: ReportRun, *, path: Path, rows: int) -> ReportRun:
    """Moves the complete file into storage and marks the run succeeded, once."""
    name = storage_name(run)
    # A previous attempt may have stored the file and died before saying so.
    if default_storage.exists(name):
        default_storage.delete(name)
    size = path.stat().st_size
    with path.open("rb") as handle:
        stored = default_storage.save(name, _WorkFile(handle, name=Path(name).name, path=path))
    path.unlink(missing_ok=True)
    now = timezone.now()
    if not _progress(
        run,
        status=ReportRun.Status.SUCCEEDED,
        rows_done=rows,
        row_count=rows,
        file=stored,
        file_size=size,
        finished_at=now,
    ):
        return run
    run.status, run.row_count, run.rows_done, run.file = (
        ReportRun.Status.SUCCEEDED,
        rows,
        rows,
        stored,
    )
    run.file_size, run.finished_at = size, now
    return run


def exports_restart_stale(*, now: datetime | None = None) -> int:
    """Re-enqueues runs whose worker died (running with a stale heartbeat) and queued
    runs whose message was lost. Beat runs this; the claim decides what really runs."""
    now = now or timezone.now()
    cutoff = now - stale_after()
    with scopes_disabled():
        stale = list(
            ReportRun.objects.filter(
                Q(status=ReportRun.Status.RUNNING, heartbeat_at__lt=cutoff)
                | Q(status=ReportRun.Status.QUEUED, created__lt=cutoff)
            ).values_list("pk", flat=True)
        )
    for run_id in stale:
        _enqueue(run_id)
    return len(stale)


# --- Reading runs and downloading ---------------------------------------------------------


def report_run_list(*, account: Account, limit: int = 50) -> list[ReportRun]:
    return list(ReportRun.objects.filter(account=account).select_related("requested_by")[:limit])


def report_run_get(*, account: Account, public_id: str) -> ReportRun | None:
    return (
        ReportRun.objects.filter(account=account, public_id=public_id)
        .select_related("requested_by")
        .first()
    )


def download_token(*, run: ReportRun) -> str:
    return signing.dumps({"run": run.public_id, "account": run.account_id}, salt=DOWNLOAD_SALT)


def download_url(*, run: ReportRun, account: Account) -> str:
    path = reverse("reporting:export_download", args=[account.slug, run.public_id])
    return f"{path}?token={download_token(run=run)}"


class DownloadExpired(Exception):
    pass


def download_check(*, account: Account, public_id: str, token: str) -> ReportRun | None:
    """The run a signed link names, if the link is genuine and meant for this account.

    None (→ 404) for a forged link or another account's run; DownloadExpired when the
    link is genuine but older than DOWNLOAD_MAX_AGE.
    """
    try:
        claims = signing.loads(
            token,
            salt=DOWNLOAD_SALT,
            max_age=_setting("PAYDESK_EXPORT_LINK_MAX_AGE", DOWNLOAD_MAX_AGE),
        )
    except signing.SignatureExpired:
        raise DownloadExpired()
    except signing.BadSignature:
        return None
    if claims.get("run") != public_id or claims.get("account") != account.pk:
        return None
    run = report_run_get(account=account, public_id=public_id)
    if run is None or run.status != ReportRun.Status.SUCCEEDED or not run.file:
        return None
    return run


def download_response(*, run: ReportRun) -> FileResponse:
    return FileResponse(
        default_storage.open(run.file, "rb"),
        as_attachment=True,
        filename=Path(run.file).name,
        content_type=CONTENT_TYPES[run.format],
    )
