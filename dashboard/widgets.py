"""The Home page's widget registry, its date ranges and each member's saved layout.

`dashboard` imports none of the other apps, so the apps that own the figures register
their widgets from `AppConfig.ready`:

    register_widget("gross_volume", title="Gross volume", permission="payments.view",
                    render=render_gross_volume, order=10)

`render(request, period)` returns an HTML fragment (a `SafeString`) for the inside of the
widget's card. The Home view renders the member's chosen widgets in their order; a member
who never edited the overview sees every widget their role may see, in default order.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.http import HttpRequest, QueryDict
from django.utils import timezone

from dashboard.models import Account, HomeLayout, Membership, User
from dashboard.roles import role_can

# --- Date ranges ------------------------------------------------------------------------

PRESETS = {
    "today": "Today",
    "7d": "Last 7 days",
    "4w": "Last 4 weeks",
    "3m": "Last 3 months",
    "12m": "Last 12 months",
    "custom": "Custom",
}
DEFAULT_PRESET = "7d"
# A custom range longer than this is cut: the Home charts one point per day.
LONGEST_RANGE = timedelta(days=3 * 366)


@dataclass(frozen=True)
class Period:
    """Calendar days `start`..`end`, both included, in the account's time zone."""

    start: date
    end: date
    preset: str = DEFAULT_PRESET

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of equal length just before this one."""
        end = self.start - timedelta(days=1)
        return Period(start=end - timedelta(days=self.days - 1), end=end, preset=self.preset)

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range(self.days)]

    @property
    def label(self) -> str:
        if self.start == self.end:
            return _day_label(self.start)
        return f"{_day_label(self.start)} – {_day_label(self.end)}"


def _day_label(day: date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def months_back(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def account_today(account: Account, now: datetime | None = None) -> date:
    try:
        zone = ZoneInfo(account.timezone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return (now or timezone.now()).astimezone(zone).date()


def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


def period_from_query(query: QueryDict, *, today: date) -> Period:
    """The range a Home URL asks for; anything unreadable falls back to the last 7 days."""
    preset = query.get("range") or DEFAULT_PRESET
    if preset == "custom":
        start, end = _parse_day(query.get("from")), _parse_day(query.get("to"))
        if start and end:
            start, end = min(start, end), max(start, end)
            start = max(start, end - LONGEST_RANGE)
            return Period(start=start, end=end, preset="custom")
        preset = DEFAULT_PRESET
    starts = {
        "today": today,
        "7d": today - timedelta(days=6),
        "4w": today - timedelta(days=27),
        "3m": months_back(today, 3) + timedelta(days=1),
        "12m": months_back(today, 12) + timedelta(days=1),
    }
    preset = preset if preset in starts else DEFAULT_PRESET
    return Period(start=starts[preset], end=today, preset=preset)


# --- The registry -----------------------------------------------------------------------

Render = Callable[[HttpRequest, Period], str]


@dataclass(frozen=True)
class Widget:
    key: str
    title: str
    permission: str
    render: Render
    order: int = 100


_registry: dict[str, Widget] = {}


def register_widget(
    key: str, *, title: str, permission: str, render: Render, order: int = 100
) -> Widget:
    # Registering a key again (an app's ready() run twice) replaces the widget.
    widget = Widget(key=key, title=title, permission=permission, render=render, order=order)
    _registry[key] = widget
    return widget


def widgets_for(membership: Membership) -> list[Widget]:
    """Every widget the member's role may see, in default order."""
    return sorted(
        (w for w in _registry.values() if role_can(membership.role, w.permission)),
        key=lambda w: (w.order, w.key),
    )


def widget_named(key: str) -> Widget | None:
    return _registry.get(key)


# --- Layouts ----------------------------------------------------------------------------


def layout_keys(*, account: Account, membership: Membership) -> list[str]:
    """The member's widget keys in order: the saved layout, else every visible widget."""
    allowed = {w.key for w in widgets_for(membership)}
    saved = (
        HomeLayout.objects.filter(account=account, user_id=membership.user_id)
        .values_list("widgets", flat=True)
        .first()
    )
    if saved is None:
        return [w.key for w in widgets_for(membership)]
    return [key for key in saved if key in allowed]


def clean_keys(keys: list[str], *, membership: Membership) -> list[str]:
    """Known, permitted keys in the given order, each once."""
    allowed = {w.key for w in widgets_for(membership)}
    return list(dict.fromkeys(key for key in keys if key in allowed))


def layout_edit(keys: list[str], *, operation: str, key: str) -> list[str]:
    """One step of "Edit overview" on a draft: up, down, remove or add `key`."""
    keys = list(keys)
    if operation == "add" and key not in keys:
        return [*keys, key]
    if key not in keys:
        return keys
    index = keys.index(key)
    if operation == "remove":
        keys.pop(index)
    elif operation == "up" and index > 0:
        keys[index - 1], keys[index] = keys[index], keys[index - 1]
    elif operation == "down" and index < len(keys) - 1:
        keys[index + 1], keys[index] = keys[index], keys[index + 1]
    return keys


def layout_save(
    *, account: Account, user: User, membership: Membership, keys: list[str]
) -> list[str]:
    keys = clean_keys(keys, membership=membership)
    with transaction.atomic():
        HomeLayout.objects.update_or_create(account=account, user=user, defaults={"widgets": keys})
    return keys


# --- Rendering --------------------------------------------------------------------------

ActivityProbe = Callable[[HttpRequest], bool]
_activity_probes: list[ActivityProbe] = []


def register_activity_probe(probe: ActivityProbe) -> None:
    """`probe(request)` is True when the account holds any figures in the current mode;
    with no probe saying so, the Home page says plainly that there is nothing yet."""
    if probe not in _activity_probes:
        _activity_probes.append(probe)


def has_activity(request: HttpRequest) -> bool:
    return any(probe(request) for probe in _activity_probes)


@dataclass(frozen=True)
class Card:
    widget: Widget
    html: str


def render_cards(request: HttpRequest, period: Period, keys: list[str]) -> list[Card]:
    return [
        Card(widget=_registry[key], html=_registry[key].render(request, period))
        for key in keys
        if key in _registry
    ]


@dataclass(frozen=True)
class Editor:
    chosen: list[Widget]
    addable: list[Widget]


def editor(keys: list[str], *, membership: Membership) -> Editor:
    visible = widgets_for(membership)
    return Editor(
        chosen=[_registry[key] for key in keys if key in _registry],
        addable=[w for w in visible if w.key not in keys],
    )
