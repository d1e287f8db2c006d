"""Form-encoded request bodies and query strings, decoded the way Stripe reads them.

`a[b][c]=1` nests, `expand[]=x` and `items[0][price]=p` make lists; values stay strings
and handlers coerce them (`integer`, `boolean`) with Stripe's error on bad input.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from sandbox.errors import invalid, missing_param

_KEY_PART = re.compile(r"\[([^\]]*)\]")


def _split_key(key: str) -> list[str]:
    head, _, rest = key.partition("[")
    parts = [head]
    if rest:
        parts += _KEY_PART.findall("[" + rest)
    return parts


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {key: _listify(item) for key, item in value.items()}
        if converted and all(key.isdigit() for key in converted):
            return [converted[key] for key in sorted(converted, key=int)]
        return converted
    if isinstance(value, list):
        return [_listify(item) for item in value]
    return value


def decode(encoded: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in parse_qsl(encoded or "", keep_blank_values=True):
        parts = _split_key(key)
        node: Any = result
        for position, part in enumerate(parts):
            last = position == len(parts) - 1
            if part == "":
                # `expand[]=a`: append to a list at this place.
                continue
            next_is_append = not last and parts[position + 1] == ""
            if last or (next_is_append and position + 1 == len(parts) - 1):
                if next_is_append:
                    node.setdefault(part, [])
                    if isinstance(node[part], dict):
                        node[part] = list(node[part].values())
                    node[part].append(value)
                    break
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    return _listify(result)


def integer(
    params: dict[str, Any], name: str, *, required: bool = False, minimum: int | None = None
) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise missing_param(name)
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise invalid(f"Invalid integer: {raw}", param=name)
    if minimum is not None and value < minimum:
        raise invalid(
            f"This value must be greater than or equal to {minimum}.",
            param=name,
            code="parameter_invalid_integer",
        )
    return value


def boolean(params: dict[str, Any], name: str, default: bool | None = None) -> bool | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    if raw in ("true", "false"):
        return raw == "true"
    raise invalid(f"Invalid boolean: {raw}", param=name)


def string(params: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise missing_param(name)
        return None
    if not isinstance(raw, str):
        raise invalid(f"Invalid string: {raw!r}", param=name)
    return raw


def string_list(params: dict[str, Any], name: str) -> list[str]:
    raw = params.get(name)
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, dict):
        return [str(item) for item in raw.values()]
    return [str(item) for item in raw]


def metadata(current: dict[str, str] | None, params: dict[str, Any]) -> dict[str, str]:
    """Merge `metadata[...]` as Stripe does: an empty value unsets a key, `metadata=` clears."""
    merged = dict(current or {})
    raw = params.get("metadata")
    if raw is None:
        return merged
    if raw == "":
        return {}
    if not isinstance(raw, dict):
        raise invalid("Invalid hash", param="metadata")
    for key, value in raw.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged


def currency(params: dict[str, Any], *, required: bool = True) -> str | None:
    raw = string(params, "currency", required=required)
    if raw is None:
        return None
    value = raw.lower()
    if not re.fullmatch(r"[a-z]{3}", value):
        raise invalid(f"Invalid currency: {raw}.", param="currency")
    return value


def parse_pairs(encoded: str) -> list[tuple[str, str]]:
    return parse_qsl(encoded or "", keep_blank_values=True)
