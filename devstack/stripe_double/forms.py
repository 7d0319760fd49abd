"""Stripe's form encoding (``metadata[k]=v``, ``expand[0]=x``) and parameter coercion.

Stripe's v1 API takes ``application/x-www-form-urlencoded`` bodies (and query strings)
whose keys use bracket notation for nesting. Values stay strings, as on the wire; the
helpers below coerce them the way Stripe validates them and raise :class:`ApiError`
with Stripe's error codes on bad input.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


class ApiError(Exception):
    """An error rendered as Stripe's ``{"error": {...}}`` object.

    ``store`` tells the idempotency layer whether Stripe would save this result for
    the key: Stripe does not save results of requests that failed parameter validation.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        extra: dict[str, Any] | None = None,
        store: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param
        self.extra = extra or {}
        self.store = store

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}


def invalid(message: str, *, code: str | None = None, param: str | None = None) -> ApiError:
    """A 400 parameter-validation error (never saved for an idempotency key)."""
    return ApiError(400, message, code=code, param=param, store=False)


def _split_key(key: str) -> list[str]:
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    return [head, *_SEGMENT.findall("[" + rest)]


def _insert(root: dict[str, Any], parts: list[str], value: str) -> None:
    node = root
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    leaf = parts[-1]
    if leaf == "":  # ``expand[]=a&expand[]=b``: append in order
        leaf = str(sum(1 for k in node if k.isdigit()))
    node[leaf] = value


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def parse_form(raw: str) -> dict[str, Any]:
    """Decode a form body or query string into nested dicts/lists of strings."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        _insert(root, _split_key(key), value)
    result = _listify(root)
    return result if isinstance(result, dict) else {}


def check_params(params: dict[str, Any], allowed: frozenset[str]) -> None:
    for name in params:
        if name not in allowed:
            raise invalid(
                f"Received unknown parameter: {name}", code="parameter_unknown", param=name
            )


def require(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if value is None or value == "":
        raise invalid(f"Missing required param: {name}.", code="parameter_missing", param=name)
    return value


def as_int(value: Any, param: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise invalid(f"Invalid integer: {value}", code="parameter_invalid_integer", param=param)


def as_bool(value: Any, param: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid(f"Invalid boolean: {value}", code="parameter_invalid_boolean", param=param)


def as_str(value: Any, param: str) -> str | None:
    """A string param; ``""`` means "unset" as in Stripe."""
    if isinstance(value, str):
        return value or None
    raise invalid(f"Invalid string: {value!r}", code="parameter_invalid_string", param=param)


def as_enum(value: Any, param: str, choices: tuple[str, ...]) -> str:
    if isinstance(value, str) and value in choices:
        return value
    raise invalid(
        f"Invalid {param}: must be one of {', '.join(choices)}",
        code="parameter_invalid_string" if isinstance(value, str) else None,
        param=param,
    )


def as_str_list(value: Any, param: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise invalid(f"Invalid array: {param}", code="parameter_invalid_array", param=param)


def as_metadata(value: Any, param: str = "metadata") -> dict[str, str | None]:
    """Metadata updates: ``{key: value}``; an empty value (``None``) deletes the key."""
    if value == "":
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid("Invalid object", code="parameter_invalid_object", param=param)
    if len(value) > 50:
        raise invalid("Metadata can have at most 50 keys.", param=param)
    for key, item in value.items():
        if len(key) > 40 or len(item) > 500:
            raise invalid(
                "Metadata keys are limited to 40 characters and values to 500 characters.",
                param=f"{param}[{key}]",
            )
    return {key: (item or None) for key, item in value.items()}


def merge_metadata(current: dict[str, str], update: Any) -> dict[str, str]:
    if update == "":  # ``metadata=`` clears every key
        return {}
    merged = dict(current)
    for key, item in as_metadata(update).items():
        if item is None:
            merged.pop(key, None)
        else:
            merged[key] = item
    return merged
