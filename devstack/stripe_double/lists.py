"""Stripe's list envelope (pagination, ``created`` filters) and ``expand`` for the double."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from devstack.stripe_double.forms import ApiError, as_int, invalid

Obj = dict[str, Any]


def list_objects(
    objects: list[Obj], params: Obj, url: str, keep: Callable[[Obj], bool] = lambda _: True
) -> Obj:
    """Stripe's list envelope, newest first, with limit/starting_after/ending_before/created."""
    limit = as_int(params.get("limit", 10), "limit")
    if not 1 <= limit <= 100:
        raise invalid("This value must be between 1 and 100.", param="limit")
    created = params.get("created")
    items = [o for o in reversed(objects) if keep(o) and _created_matches(o, created)]
    ids = [o["id"] for o in items]
    if params.get("starting_after"):
        items = items[_cursor(ids, params["starting_after"], "starting_after") + 1 :]
        page = items[:limit]
        has_more = len(items) > limit
    elif params.get("ending_before"):
        items = items[: _cursor(ids, params["ending_before"], "ending_before")]
        page = items[-limit:]
        has_more = len(items) > limit
    else:
        page = items[:limit]
        has_more = len(items) > limit
    return {"object": "list", "data": page, "has_more": has_more, "url": url}


def _cursor(ids: list[str], cursor: Any, param: str) -> int:
    if cursor not in ids:
        raise ApiError(404, f"No such object: '{cursor}'", code="resource_missing", param=param)
    return ids.index(cursor)


def _created_matches(obj: Obj, created: Any) -> bool:
    if created is None:
        return True
    if not isinstance(created, dict):
        return obj["created"] == as_int(created, "created")
    checks = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    return all(
        checks[op](obj["created"], as_int(value, f"created[{op}]"))
        for op, value in created.items()
        if op in checks
    )


def expand(obj: Obj, paths: list[str], lookup: Callable[[str], Obj | None]) -> Obj:
    """Replace id strings at the dotted ``paths`` by (copies of) the objects they name."""
    result = copy.deepcopy(obj)
    for path in paths:
        _expand_path(result, path.split("."), lookup)
    return result


def _expand_path(node: Any, parts: list[str], lookup: Callable[[str], Obj | None]) -> None:
    if isinstance(node, list):
        for item in node:
            _expand_path(item, parts, lookup)
        return
    if not isinstance(node, dict) or not parts:
        return
    head, rest = parts[0], parts[1:]
    value = node.get(head)
    if isinstance(value, str):
        found = lookup(value)
        if found is not None:
            node[head] = value = copy.deepcopy(found)
    _expand_path(value, rest, lookup)
