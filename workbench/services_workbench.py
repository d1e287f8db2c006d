"""Writes of the Workbench pages: replaying events and rolling a signing secret, each
audit-logged. The work itself is done by workbench.services."""

from __future__ import annotations

from dashboard.models import Account, User
from dashboard.services import RequestContext, audit_record
from workbench import services
from workbench.models import Event, WebhookEndpoint


def event_replay(
    *,
    account: Account,
    actor: User | None,
    event: Event | None = None,
    failed_only: bool = False,
    context: RequestContext | None = None,
) -> int:
    """Puts one event (or every failed event of the account) back to pending; the drain
    runs its handlers again. Handlers are idempotent, so mirror rows end up unchanged."""
    count = services.events_replay(
        account=account,
        failed_only=failed_only,
        stripe_id=event.stripe_id if event is not None else None,
    )
    audit_record(
        account=account,
        actor=actor,
        action="developers.event_replayed" if event else "developers.failed_events_replayed",
        target=event,
        target_type="Event",
        target_id=event.stripe_id if event else "",
        target_repr=f"{event.stripe_id} ({event.type})" if event else "all failed events",
        metadata={"count": count},
        context=context,
    )
    return count


def webhook_secret_roll(
    *,
    account: Account,
    actor: User | None,
    endpoint: WebhookEndpoint,
    secret: str,
    context: RequestContext | None = None,
) -> WebhookEndpoint:
    """Makes `secret` the endpoint's signing secret; the previous one keeps verifying for
    PAYDESK_WEBHOOK_SECRET_OVERLAP (both verify in the overlap, only the new one after).
    Audit-logged by the service as stripe.webhook_secret_saved."""
    return services.webhook_secret_save(
        account=account, actor=actor, endpoint=endpoint, secret=secret, context=context
    )
