"""Event handlers, registered by the apps that own the mirror tables.

    # payments/handlers.py, imported from PaymentsConfig.ready()
    @handles("charge.*", "payment_intent.succeeded")
    def charge_changed(event: Event) -> None: ...

A handler receives a `workbench.models.Event` and runs inside the event's account scope and
inside the processing transaction (in its own savepoint): if it raises, everything every
handler wrote for that event is rolled back and the event is marked failed and retried.
Handlers must be idempotent (events are delivered at least once and can be replayed).

Patterns match dot-separated segments: `*` alone matches every type; otherwise a `*`
segment matches exactly one segment, so `charge.*` matches `charge.succeeded` but not
`charge.dispute.created` (a dispute, not a charge: register `charge.dispute.*` for that).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.models import Event

Handler = Callable[["Event"], None]

_registry: list[tuple[str, Handler]] = []
_cache: dict[str, tuple[Handler, ...]] = {}


def _valid(pattern: str) -> bool:
    return bool(pattern) and all(segment for segment in pattern.split("."))


def matches(pattern: str, event_type: str) -> bool:
    if pattern == "*":
        return True
    wanted, actual = pattern.split("."), event_type.split(".")
    if len(wanted) != len(actual):
        return False
    return all(w == "*" or w == a for w, a in zip(wanted, actual, strict=True))


def handles(*patterns: str) -> Callable[[Handler], Handler]:
    if not patterns:
        raise ValueError("handles() needs at least one event type pattern")
    for pattern in patterns:
        if not _valid(pattern):
            raise ValueError(f"invalid event type pattern {pattern!r}")

    def register(handler: Handler) -> Handler:
        for pattern in patterns:
            # Registering twice (a module imported again) must not run the handler twice.
            if (pattern, handler) not in _registry:
                _registry.append((pattern, handler))
        _cache.clear()
        return handler

    return register


def handlers_for(event_type: str) -> tuple[Handler, ...]:
    """The handlers for a type, in registration order, each once."""
    found = _cache.get(event_type)
    if found is None:
        ordered: dict[Handler, None] = {}
        for pattern, handler in _registry:
            if matches(pattern, event_type):
                ordered.setdefault(handler)
        found = _cache[event_type] = tuple(ordered)
    return found


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
