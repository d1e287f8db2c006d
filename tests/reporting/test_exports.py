"""Exports: content equals the filtered list, formula neutralisation, restart after a
killed worker, idempotence, signed downloads, roles, and a real Celery worker."""

from __future__ import annotations

import io
import re
import time
from datetime import timedelta

import openpyxl
import pytest
from celery.contrib.testing.worker import start_worker
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from dashboard.roles import Role
from paydesk.celery import app as celery_app
from reporting import exports
from reporting.models import ReportRun
from tests.reporting.support import (
    at,
    balance_transaction,
    charge,
    customer,
    download_link,
    file_content,
    read_csv,
)

pytestmark = pytest.mark.django_db


def new_run(
    account,
    user,
    *,
    source="balance_transactions",
    columns=None,
    filters=None,
    metadata_keys=(),
    format="csv",
):
    with scope(account=account):
        return exports.export_create(
            account=account,
            livemode=True,
            actor=user,
            source_key=source,
            filters=filters or {},
            columns=columns or ["id", "amount", "currency", "description"],
            metadata_keys=list(metadata_keys),
            format=format,
        )


def stored_rows(run) -> list[list[str]]:
    run.refresh_from_db()
    with default_storage.open(run.file) as handle:
        return read_csv(handle.read())


def start_export(
    client,
    account,
    *,
    source,
    query="",
    columns,
    metadata="",
    format="csv",
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/a/{account.slug}/reports/exports/new/",
            {
                "source": source,
                "query": query,
                "columns": columns,
                "metadata_keys": metadata,
                "format": format,
            },
        )
    assert response.status_code == 302, response.content.decode()[:500]
    return response.url


def test_the_payments_export_holds_the_filtered_list_in_its_order(
    owner, owner_user, acme, eager, django_capture_on_commit_callbacks
):
    buyer = customer(acme, "cus_1", email="buyer@example.com")
    for number in range(6):
        charge(
            acme,
            f"ch_{number}",
            amount=1000 + number,
            created=at("2026-03-01", number),
            currency="eur" if number % 2 else "usd",
            customer=buyer,
            metadata={"order_id": f"ord_{number}"},
            description=f"Order {number}",
        )
    charge(acme, "ch_test_mode", currency="eur", livemode=False)

    listed = owner.get(f"/a/{acme.slug}/payments/?currency=eur")
    shown = [row for row in listed.content.decode().split('data-payment="')[1:]]
    shown_ids = [row.split('"', 1)[0] for row in shown]
    assert shown_ids == ["ch_5", "ch_3", "ch_1"]

    run_url = start_export(
        owner,
        acme,
        source="payments",
        query="currency=eur",
        columns=["id", "amount", "currency", "customer_email"],
        metadata="order_id",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )
    page = owner.get(run_url)
    assert "3 rows exported" in page.content.decode()
    rows = read_csv(file_content(owner.get(download_link(page))))

    assert rows[0] == ["ID", "Amount", "Currency", "Customer email", "metadata.order_id"]
    assert rows[1:] == [
        ["ch_5", "10.05", "eur", "buyer@example.com", "ord_5"],
        ["ch_3", "10.03", "eur", "buyer@example.com", "ord_3"],
        ["ch_1", "10.01", "eur", "buyer@example.com", "ord_1"],
    ]


def test_formula_cells_are_neutralised_but_negative_amounts_stay_numbers(acme, owner_user):
    texts = ['=HYPERLINK("http://evil")', "+1+1", "-2-2", "@SUM(A1)", "\tTab", "\rCR", "Plain"]
    for number, text in enumerate(texts):
        balance_transaction(
            acme,
            f"txn_{number}",
            amount=-500 - number,
            description=text,
            created=at("2026-03-01", number),
        )
    run = new_run(acme, owner_user)
    exports.export_execute(run_id=run.pk)

    rows = stored_rows(run)[1:]
    by_id = {row[0]: row for row in rows}
    assert [by_id[f"txn_{n}"][3] for n in range(len(texts))] == [
        '\'=HYPERLINK("http://evil")',
        "'+1+1",
        "'-2-2",
        "'@SUM(A1)",
        "'\tTab",
        "'\rCR",
        "Plain",
    ]
    assert by_id["txn_0"][1] == "-5.00"
    assert by_id["txn_2"][1] == "-5.02"


def test_xlsx_amounts_are_numeric_cells_and_text_is_neutralised(acme, owner_user):
    balance_transaction(acme, "txn_1", amount=-1234, description="=1+1")
    balance_transaction(
        acme, "txn_2", amount=500, currency="jpy", description="ok", created=at("2026-02-01")
    )
    run = new_run(acme, owner_user, format="xlsx")
    exports.export_execute(run_id=run.pk)

    run.refresh_from_db()
    with default_storage.open(run.file) as handle:
        sheet = openpyxl.load_workbook(io.BytesIO(handle.read())).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["ID", "Amount", "Currency", "Description"]
    assert rows[1] == ["txn_1", -12.34, "usd", "'=1+1"]
    assert rows[2] == ["txn_2", 500, "jpy", "ok"]


def test_a_worker_killed_mid_export_leaves_a_run_that_restarts_cleanly(acme, owner_user):
    for number in range(5):
        balance_transaction(
            acme, f"txn_{number}", amount=100 * (number + 1), created=at("2026-03-01", number)
        )
    run = new_run(acme, owner_user)
    # The killed worker: it claimed the run, wrote part of the file, then stopped beating.
    with scopes_disabled():
        ReportRun.objects.filter(pk=run.pk).update(
            status=ReportRun.Status.RUNNING,
            attempts=1,
            rows_done=2,
            rows_total=5,
            heartbeat_at=timezone.now() - timedelta(minutes=10),
        )
    partial = exports.work_path(run)
    partial.write_text("ID,Amount\ntxn_4,5.00\ntxn_3,4.")

    exports.export_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == ReportRun.Status.SUCCEEDED
    assert run.attempts == 2
    assert run.row_count == run.rows_done == 5
    rows = stored_rows(run)
    assert [row[0] for row in rows] == ["ID", "txn_4", "txn_3", "txn_2", "txn_1", "txn_0"]
    assert not partial.exists()


def test_a_run_another_worker_is_still_writing_is_left_alone(acme, owner_user):
    balance_transaction(acme, "txn_1", amount=100)
    run = new_run(acme, owner_user)
    with scopes_disabled():
        ReportRun.objects.filter(pk=run.pk).update(
            status=ReportRun.Status.RUNNING, attempts=1, heartbeat_at=timezone.now()
        )
    with pytest.raises(exports.ExportBusy):
        exports.export_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.attempts, run.file) == (ReportRun.Status.RUNNING, 1, "")


def test_running_the_task_twice_writes_the_file_once(acme, owner_user):
    for number in range(3):
        balance_transaction(acme, f"txn_{number}", amount=100, created=at("2026-03-01", number))
    run = new_run(acme, owner_user)
    from reporting.tasks import export_run

    assert export_run.apply(args=[run.pk]).get() == 3
    run.refresh_from_db()
    first = (run.file, run.finished_at, run.attempts)
    assert export_run.apply(args=[run.pk]).get() is None

    run.refresh_from_db()
    assert (run.file, run.finished_at, run.attempts) == first
    _, files = default_storage.listdir(first[0].rsplit("/", 1)[0])
    assert len(files) == 1
    assert len(stored_rows(run)) == 4


def spy_on_progress(monkeypatch) -> list:
    seen = []
    original = exports.progress_aside

    def spy(side, run, done):
        seen.append((done, original(side, run, done)))
        return seen[-1][1]

    monkeypatch.setattr(exports, "progress_aside", spy)
    return seen


def test_progress_is_written_while_rows_stream(acme, owner_user, monkeypatch):
    for number in range(7):
        balance_transaction(acme, f"txn_{number}", amount=100, created=at("2026-03-01", number))
    run = new_run(acme, owner_user)
    seen = spy_on_progress(monkeypatch)
    exports.export_execute(run_id=run.pk, progress_every=3)
    assert [done for done, _ in seen] == [3, 6]
    run.refresh_from_db()
    assert (run.rows_done, run.rows_total, run.percent) == (7, 7, 100)


@pytest.mark.django_db(transaction=True)
def test_progress_reaches_the_database_while_copy_streams(acme, owner_user, monkeypatch):
    for number in range(5):
        balance_transaction(acme, f"txn_{number}", amount=100, created=at("2026-03-01", number))
    run = new_run(acme, owner_user)
    seen = spy_on_progress(monkeypatch)
    exports.export_execute(run_id=run.pk, progress_every=2)
    # Each update found the committed running run over the second connection.
    assert seen == [(2, 1), (4, 1)]


def test_the_progress_bar_polls_until_the_export_is_done(owner, acme, owner_user):
    run = new_run(acme, owner_user)
    url = f"/a/{acme.slug}/reports/exports/{run.public_id}/"
    polling = owner.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in polling and "<html" not in polling
    exports.export_execute(run_id=run.pk)
    done = owner.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "every 1s" not in done and "/download/?token=" in done
    assert "0 rows exported" in done


def test_another_tenants_download_is_a_404(owner, outsider, acme, globex, owner_user):
    balance_transaction(acme, "txn_1", amount=100)
    run = new_run(acme, owner_user)
    exports.export_execute(run_id=run.pk)
    link = download_link(owner.get(f"/a/{acme.slug}/reports/exports/{run.public_id}/"))

    assert owner.get(link).status_code == 200
    assert outsider.get(link).status_code == 404
    token = link.split("token=", 1)[1]
    on_own_account = f"/a/{globex.slug}/reports/exports/{run.public_id}/download/?token={token}"
    assert outsider.get(on_own_account).status_code == 404
    assert Client().get(link).status_code == 302  # to sign in


def test_a_forged_or_expired_link_does_not_download(owner, acme, owner_user, settings):
    run = new_run(acme, owner_user)
    exports.export_execute(run_id=run.pk)
    link = download_link(owner.get(f"/a/{acme.slug}/reports/exports/{run.public_id}/"))

    assert owner.get(link + "x").status_code == 404
    settings.PAYDESK_EXPORT_LINK_MAX_AGE = timedelta(seconds=-1)
    expired = owner.get(link)
    assert expired.status_code == 410
    assert "This download link has expired" in expired.content.decode()


def test_a_link_made_for_one_run_does_not_open_another(owner, acme, owner_user):
    first, second = new_run(acme, owner_user), new_run(acme, owner_user)
    for run in (first, second):
        exports.export_execute(run_id=run.pk)
    token = exports.download_token(run=first)
    url = f"/a/{acme.slug}/reports/exports/{second.public_id}/download/?token={token}"
    assert owner.get(url).status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.ANALYST, 200), (Role.DEVELOPER, 200), (Role.VIEW_ONLY, 403), (Role.SUPPORT, 403)],
)
def test_who_may_export(member_client, acme, role, status):
    client = member_client(role)
    assert client.get(f"/a/{acme.slug}/reports/exports/new/?source=payments").status_code == status


def test_an_analyst_starts_an_export_and_a_viewer_sees_it_listed(
    member_client, viewer, acme, eager, django_capture_on_commit_callbacks
):
    charge(acme, "ch_1", description="Sold")
    analyst = member_client(Role.ANALYST)
    run_url = start_export(
        analyst,
        acme,
        source="payments",
        columns=["id", "description"],
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )
    listed = viewer.get(f"/a/{acme.slug}/reports/exports/").content.decode()
    assert run_url.rstrip("/").rsplit("/", 1)[1] in listed
    assert (
        viewer.post(f"/a/{acme.slug}/reports/exports/new/", {"source": "payments"}).status_code
        == 403
    )


def test_a_source_the_role_cannot_read_cannot_be_exported(member_client, acme):
    # Support specialists cannot export at all; developers can, but not what they cannot see
    # is covered by the role matrix: balances.view includes developers, so use an unknown key.
    developer = member_client(Role.DEVELOPER)
    assert developer.get(f"/a/{acme.slug}/reports/exports/new/?source=nope").status_code == 404


def test_unknown_columns_and_bad_metadata_keys_are_refused(owner, acme):
    response = owner.post(
        f"/a/{acme.slug}/reports/exports/new/",
        {"source": "payments", "columns": ["id"], "metadata_keys": "a__b", "format": "csv"},
    )
    assert response.status_code == 200
    assert "is not a metadata key" in response.content.decode()
    with scope(account=acme), pytest.raises(exports.ExportError):
        exports.export_create(
            account=acme,
            livemode=True,
            actor=None,
            source_key="payments",
            filters={},
            columns=["password"],
            metadata_keys=[],
            format="csv",
        )


def test_the_export_button_carries_the_list_filters(owner, acme):
    page = owner.get(f"/a/{acme.slug}/payments/?currency=eur").content.decode()
    assert "reports/exports/new/?source=payments&amp;currency=eur" in page
    form = owner.get(f"/a/{acme.slug}/reports/exports/new/?source=payments&currency=eur")
    assert "currency = eur" in form.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_writes_the_export(acme, owner_user):
    for number in range(4):
        balance_transaction(acme, f"txn_{number}", amount=250, created=at("2026-03-01", number))
    celery_app.control.purge()
    with start_worker(celery_app, perform_ping_check=False, pool="solo", shutdown_timeout=30):
        run = new_run(acme, owner_user)  # autocommit: enqueued at once
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.is_done:
                break
            time.sleep(0.1)
    assert run.status == ReportRun.Status.SUCCEEDED, run.error
    assert [row[0] for row in stored_rows(run)] == ["ID", "txn_3", "txn_2", "txn_1", "txn_0"]


def test_the_connected_accounts_export_holds_the_filtered_list(
    owner, acme, eager, django_capture_on_commit_callbacks
):
    from connect.models import ConnectedAccount

    with scope(account=acme):
        for number, (status, country) in enumerate(
            [("enabled", "US"), ("restricted", "US"), ("enabled", "FR"), ("enabled", "US")]
        ):
            created = at("2026-03-01", number)
            ConnectedAccount.objects.create(
                account=acme,
                livemode=True,
                stripe_id=f"acct_{number}",
                created=created,
                source_time=created,
                data={"metadata": {"seller": f"s{number}"}},
                type="express",
                status=status,
                country=country,
                email=f"{number}@shop.test",
                charges_enabled=status == "enabled",
                payouts_enabled=status == "enabled",
            )
    listed = owner.get(f"/a/{acme.slug}/connect/?tab=enabled&country=US").content.decode()
    shown = re.findall(r'data-account="([^"]+)"', listed)
    assert shown == ["acct_3", "acct_0"]

    run_url = start_export(
        owner,
        acme,
        source="connected_accounts",
        query="tab=enabled&country=US",
        columns=["id", "email", "charges_enabled"],
        metadata="seller",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )
    rows = read_csv(file_content(owner.get(download_link(owner.get(run_url)))))
    assert rows == [
        ["ID", "Email", "Charges enabled", "metadata.seller"],
        ["acct_3", "3@shop.test", "true", "s3"],
        ["acct_0", "0@shop.test", "true", "s0"],
    ]


def test_zero_and_three_decimal_currencies_keep_their_places(acme, owner_user):
    balance_transaction(acme, "txn_jpy", amount=-500, currency="jpy", created=at("2026-03-03"))
    balance_transaction(acme, "txn_kwd", amount=12345, currency="kwd", created=at("2026-03-02"))
    balance_transaction(acme, "txn_usd", amount=7, currency="usd", created=at("2026-03-01"))
    run = new_run(acme, owner_user, columns=["id", "amount", "currency"])
    exports.export_execute(run_id=run.pk)
    assert stored_rows(run)[1:] == [
        ["txn_jpy", "-500", "jpy"],
        ["txn_kwd", "12.345", "kwd"],
        ["txn_usd", "0.07", "usd"],
    ]


def test_stale_runs_are_enqueued_again_and_finish(acme, owner_user, eager):
    balance_transaction(acme, "txn_1", amount=100)
    run = new_run(acme, owner_user)
    with scopes_disabled():
        ReportRun.objects.filter(pk=run.pk).update(
            status=ReportRun.Status.RUNNING,
            attempts=1,
            heartbeat_at=timezone.now() - timedelta(minutes=5),
        )
    assert exports.exports_restart_stale() == 1
    run.refresh_from_db()
    assert (run.status, run.row_count, run.attempts) == (ReportRun.Status.SUCCEEDED, 1, 2)
    assert exports.exports_restart_stale() == 0
