"""The route table: resource modules register their handlers with `@route`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Handler = Callable[..., Any]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    compiled = re.compile("^" + pattern.replace("{id}", r"(?P<id>[^/]+)") + "$")

    def register(handler: Handler) -> Handler:
        ROUTES.append((method.upper(), compiled, handler))
        return handler

    return register


def match(method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    for route_method, pattern, handler in ROUTES:
        if route_method == method:
            found = pattern.match(path)
            if found:
                return handler, found.groupdict()
    return None
