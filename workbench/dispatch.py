"""Event handlers, registered by the apps that own the mirror tables.

    # payments/handlers.py, imported from PaymentsConfig.ready()
    @handles("payout.*")
    def payout_changed(event: Event) -> None: ...

    @handles_batch("charge.*")
    def charges_changed(events: list[Event]) -> None: ...

A per-event handler (`handles`) receives one `workbench.models.Event`; a batch handler
(`handles_batch`) receives the list of the claimed batch's events of one account that its
patterns match (oldest first), once per batch, so it can read and write many objects with
one statement each. Hot event types use batch handlers; rare ones can stay per event.

Both kinds run inside the events' account scope and inside the processing transaction:
the processor runs the whole group of an account in a savepoint, and if anything raises it
splits the group until the failing event is alone, so everything every handler wrote for
that event is rolled back and only that event is marked failed and retried. A batch
handler must therefore give the same result when called with any sub-list of its events,
down to one (it is also called with one event by `handlers_for`, below). Handlers must be
idempotent (events are delivered at least once and can be replayed) and must not depend
on the order of the events (newest wins by source time and arrival sequence).

Order: within a batch, handlers run one after the other, each on all its events, sorted by
their `order` (default 0) and then by registration order. Mirror handlers declare an order
so that references resolve within a batch (customers before payment intents before
charges); rollups run after every mirror handler.

Patterns match dot-separated segments: `*` alone matches every type; otherwise a `*`
segment matches exactly one segment, so `charge.*` matches `charge.succeeded` but not
`charge.dispute.created` (a dispute, not a charge: register `charge.dispute.*` for that).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.models import Event

Handler = Callable[["Event"], None]
BatchHandler = Callable[[list["Event"]], None]


@dataclass(frozen=True, eq=False)
class Registration:
    """One handler: called per event, or with a list of events when `batch`."""

    handler: Callable[..., None]
    batch: bool
    order: int
    # Registration position: ties in `order` run in registration order.
    position: int = 0
    # The per-event form of a batch handler (what `handlers_for` returns for it).
    single: Handler = field(default=None, repr=False)  # type: ignore[assignment]

    def run(self, events: Sequence[Event]) -> None:
        if self.batch:
            self.handler(list(events))
        else:
            for event in events:
                self.handler(event)


_registry: list[tuple[str, Registration]] = []
_cache: dict[str, tuple[Registration, ...]] = {}


def _valid(pattern: str) -> bool:
    return bool(pattern) and all(segment for segment in pattern.split("."))


def matches(pattern: str, event_type: str) -> bool:
    if pattern == "*":
        return True
    wanted, actual = pattern.split("."), event_type.split(".")
    if len(wanted) != len(actual):
        return False
    return all(w == "*" or w == a for w, a in zip(wanted, actual, strict=True))


def _check(patterns: tuple[str, ...], decorator: str) -> None:
    if not patterns:
        raise ValueError(f"{decorator}() needs at least one event type pattern")
    for pattern in patterns:
        if not _valid(pattern):
            raise ValueError(f"invalid event type pattern {pattern!r}")


def _registration(handler: Callable[..., Any], *, batch: bool, order: int) -> Registration:
    # Registering twice (a module imported again, or one handler for several patterns)
    # must not run the handler twice: one registration per handler.
    for _, known in _registry:
        if known.handler is handler:
            return known
    single = handler
    if batch:

        @functools.wraps(handler)
        def single(event: Event) -> None:
            handler([event])

    return Registration(handler, batch, order, len(_registry), single)


def _register(patterns: tuple[str, ...], *, batch: bool, order: int) -> Callable:
    def register(handler):
        registration = _registration(handler, batch=batch, order=order)
        for pattern in patterns:
            if (pattern, registration) not in _registry:
                _registry.append((pattern, registration))
        _cache.clear()
        return handler

    return register


def handles(*patterns: str, order: int = 0) -> Callable[[Handler], Handler]:
    """Registers `fn(event)`, called once per event of a matching type."""
    _check(patterns, "handles")
    return _register(patterns, batch=False, order=order)


def handles_batch(*patterns: str, order: int = 0) -> Callable[[BatchHandler], BatchHandler]:
    """Registers `fn(events)`, called with all of a batch's events of one account that
    match, oldest first (and with sub-lists of them when a batch fails)."""
    _check(patterns, "handles_batch")
    return _register(patterns, batch=True, order=order)


def registrations_for(event_type: str) -> tuple[Registration, ...]:
    """The handlers of a type in the order they run, each once."""
    found = _cache.get(event_type)
    if found is None:
        ordered: dict[Registration, None] = {}
        for pattern, registration in _registry:
            if matches(pattern, event_type):
                ordered.setdefault(registration)
        found = _cache[event_type] = tuple(sorted(ordered, key=_rank))
    return found


def _rank(registration: Registration) -> tuple[int, int]:
    return registration.order, registration.position


def handlers_for(event_type: str) -> tuple[Handler, ...]:
    """The handlers for a type, in the order they run, each once, as per-event callables
    (a batch handler is called with a list of one event)."""
    return tuple(registration.single for registration in registrations_for(event_type))


def dispatch(events: Sequence[Event]) -> None:
    """Runs every handler of these events (of one account, inside its scope): each handler
    once, with all its events, in handler order. Raises what a handler raises."""
    groups: dict[Registration, list[Event]] = {}
    for event in events:
        for registration in registrations_for(event.type):
            groups.setdefault(registration, []).append(event)
    for registration in sorted(groups, key=_rank):
        registration.run(groups[registration])


@contextlib.contextmanager
def isolated_registry() -> Iterator[None]:
    """Tests register handlers inside this block; the registry is restored afterwards."""
    saved = list(_registry)
    _cache.clear()
    try:
        yield
    finally:
        _registry[:] = saved
        _cache.clear()
