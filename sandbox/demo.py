"""The demo: tenants, team, and their Stripe history generated through the sandbox
(`sandbox.demo_history`), processed by the normal webhook ingestion path."""

from __future__ import annotations

import multiprocessing
import secrets
import signal
import time
from collections.abc import Callable

from django.db import connections, transaction
from django.test.utils import override_settings
from django_scopes import scope

from dashboard import services as dashboard_services
from dashboard.models import Account, AuditLog, Membership, User
from dashboard.roles import Role

DEMO_DOMAIN = "demo.paydesk.test"

ACCOUNTS = [
    {
        "slug": "acme",
        "name": "Acme Platform",
        "country": "US",
        "default_currency": "usd",
        "timezone_name": "America/New_York",
        "color": "#635bff",
        "icon": "A",
    },
    {
        "slug": "globex",
        "name": "Globex Store",
        "country": "DE",
        "default_currency": "eur",
        "timezone_name": "Europe/Berlin",
        "color": "#0a8f6a",
        "icon": "G",
    },
]

# (email local part, name, {account slug: role})
TEAM = [
    ("owner", "Olivia Owner", {"acme": Role.OWNER, "globex": Role.OWNER}),
    ("analyst", "Andre Analyst", {"acme": Role.ANALYST}),
    ("support", "Sam Support", {"acme": Role.SUPPORT}),
    ("viewer", "Vera Viewer", {"globex": Role.VIEW_ONLY}),
]


def demo_email(local: str) -> str:
    return f"{local}@{DEMO_DOMAIN}"


@transaction.atomic
def seed_tenants_and_team() -> dict[str, Account]:
    owner_local, owner_name, _ = TEAM[0]
    owner = User.objects.create_user(demo_email(owner_local), None, name=owner_name)
    accounts = {}
    for spec in ACCOUNTS:
        account = dashboard_services.account_create(
            owner=owner,
            name=spec["name"],
            slug=spec["slug"],
            country=spec["country"],
            default_currency=spec["default_currency"],
            timezone_name=spec["timezone_name"],
        )
        account.primary_color = spec["color"]
        account.icon = spec["icon"]
        account.save(update_fields=["primary_color", "icon"])
        accounts[spec["slug"]] = account
    for local, name, roles in TEAM[1:]:
        user = User.objects.create_user(demo_email(local), None, name=name)
        for slug, role in roles.items():
            with scope(account=accounts[slug]):
                Membership.objects.create(account=accounts[slug], user=user, role=role)
    return accounts


def reset_demo_passwords() -> list[tuple[str, str, str]]:
    """Gives every demo login a new random password and returns (email, password, roles).

    Passwords are never stored in clear: each `make demo` start prints a fresh set.
    """
    rows = []
    for local, _name, roles in TEAM:
        user = User.objects.filter(email=demo_email(local)).first()
        if user is None:
            continue
        password = secrets.token_urlsafe(9)
        user.set_password(password)
        user.save(update_fields=["password"])
        described = ", ".join(f"{role.label} of {slug}" for slug, role in roles.items())
        rows.append((user.email, password, described))
    return rows


SEEDED_ACTION = "demo.seeded"


def seed_state() -> str:
    """ "absent" (no demo tenants), "partial" (a seed was interrupted) or "complete"."""
    first = Account.objects.filter(slug=ACCOUNTS[0]["slug"]).first()
    if first is None:
        return "absent"
    with scope(account=first):
        done = AuditLog.objects.filter(account=first, action=SEEDED_ACTION).exists()
    return "complete" if done else "partial"


def mark_seeded(*, scale: str, seed: int) -> None:
    """Written last, so a seed cut short (Ctrl-C, a crash) is recognisable as unfinished."""
    first = Account.objects.get(slug=ACCOUNTS[0]["slug"])
    with scope(account=first):
        dashboard_services.audit_record(
            account=first,
            actor=None,
            action=SEEDED_ACTION,
            target=first,
            target_id=first.slug,
            metadata={"scale": scale, "seed": seed},
        )


@transaction.atomic
def delete_demo() -> None:
    """The demo accounts, their team, and their emulated Stripe accounts in the sandbox."""
    from sandbox import api
    from sandbox.models import SandboxAccount
    from workbench.models import StripeConnection

    accounts = list(Account.objects.filter(slug__in=[spec["slug"] for spec in ACCOUNTS]))
    tokens = []
    for account in accounts:
        with scope(account=account):
            for connection in StripeConnection.objects.filter(account=account):
                found = api.KEY_PATTERN.match(connection.test_secret_key or "")
                if found:
                    tokens.append(found["token"])
    SandboxAccount.objects.filter(token__in=tokens).delete()
    for account in accounts:
        account.delete()
    User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").delete()


def seed(
    *,
    scale: str = "full",
    seed: int = 1,
    parallel: bool | None = None,
    progress: Callable[[str], None] = print,
) -> dict[str, dict[str, int]]:
    """Tenants, team, the sandbox connection and the year of history of each account.

    Serial (the small scale, the tests): one process makes each account's days and, at the
    end of each day, sends the webhooks and processes the events itself.

    Parallel (the full scale): an account's test clock is one timeline, so each account
    gets its own process (own database connection) for its API traffic, and one more
    process sends the webhooks and runs the drain while they work (a running Celery worker
    takes a share of the drain too: claims are FOR UPDATE SKIP LOCKED).
    """
    from sandbox import demo_history
    from workbench import services as workbench_services

    started = time.monotonic()
    accounts = seed_tenants_and_team()
    owner = User.objects.get(email=demo_email(TEAM[0][0]))
    for account in accounts.values():
        with scope(account=account):
            workbench_services.connect_sandbox(account=account, actor=owner)
    # connect_sandbox's own webhooks (none today) go the normal way before history starts.
    demo_history.process_webhooks()
    plans = demo_history.SCALES[scale]
    if parallel is None:
        parallel = scale == "full"
    counts: dict[str, dict[str, int]] = {}
    if parallel:
        # Children must not share the parent's connection: close it before forking.
        connections.close_all()
        context = multiprocessing.get_context("fork")
        done = context.Event()
        pipeline = context.Process(target=_pipeline_job, args=(done,), name="demo-webhooks")
        pipeline.start()
        try:
            with context.Pool(len(plans), initializer=_default_signals) as pool:
                results = {
                    plan.slug: pool.apply_async(_history_job, (plan.slug, scale, seed))
                    for plan in plans
                }
                counts = {slug: result.get() for slug, result in results.items()}
        finally:
            done.set()
            pipeline.join()
        if pipeline.exitcode != 0:
            raise RuntimeError("The webhook process of the demo seed failed; see its output.")
    else:
        for plan in plans:
            counts[plan.slug] = _history(plan.slug, scale, seed, progress=progress, inline=True)
    progress("Processing the last webhooks…")
    demo_history.process_webhooks()
    progress(f"Demo history seeded in {time.monotonic() - started:.1f} s.")
    return counts


def _default_signals() -> None:
    # A forked child keeps the parent's handlers (rundemo turns SIGTERM into Ctrl-C);
    # the pool and the pipeline must simply stop when told to.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _history_job(slug: str, scale: str, seed: int) -> dict[str, int]:
    def progress(message: str) -> None:
        print(message, flush=True)

    return _history(slug, scale, seed, progress=progress, inline=False)


def _pipeline_job(done) -> None:
    """Signed deliveries to our endpoint and the drain, until the generators are done."""
    from sandbox import delivery
    from sandbox.demo_history import synchronous_commit_off
    from workbench import services as workbench_services

    _default_signals()
    synchronous_commit_off()
    while True:
        finishing = done.is_set()
        sent = delivery.deliver_pending()
        processed = workbench_services.events_drain(time_budget_seconds=3600)
        if not sent and not processed:
            if finishing:
                return
            time.sleep(0.2)


def _history(
    slug: str, scale: str, seed: int, *, progress: Callable[[str], None], inline: bool
) -> dict[str, int]:
    from sandbox import demo_history

    demo_history.synchronous_commit_off()
    plan = next(plan for plan in demo_history.SCALES[scale] if plan.slug == slug)
    account = Account.objects.get(slug=slug)
    owner = User.objects.get(email=demo_email(TEAM[0][0]))
    history = demo_history.AccountHistory(
        account=account,
        actor=owner,
        plan=plan,
        days=demo_history.DAYS[scale],
        seed=seed,
        progress=progress,
        process_inline=inline,
    )
    # Webhooks go out in batches (at the end of each day, or from the pipeline process)
    # rather than after every request: the same signed deliveries, fewer passes.
    with override_settings(SANDBOX_AUTO_DELIVER=False):
        return history.run()
