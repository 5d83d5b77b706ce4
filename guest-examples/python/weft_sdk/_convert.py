"""Values decoded from JSON, converted to the types a function's hints name,
as temporalio's default payload converter does: a parameter hinted as a
dataclass gets the dataclass (not the dict JSON gives), `List[X]`,
`Dict[str, X]`, `Optional[X]`, enums, `datetime` (ISO 8601) and `UUID`
likewise. Anything else passes through as decoded.
"""

import collections.abc
import dataclasses
import inspect
import typing
import uuid
from datetime import datetime
from enum import Enum
from typing import Any, Callable, List, Optional

__all__ = ["convert", "convert_args", "param_hints", "return_hint"]


def convert(value: Any, hint: Any) -> Any:
    """`value` (as JSON decoded it) as type `hint`, where one is known."""
    if value is None or hint is None or hint is Any or hint is inspect.Parameter.empty:
        return value
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union:
        options = [a for a in args if a is not type(None)]
        return convert(value, options[0]) if len(options) == 1 else value
    if origin in (list, tuple, set, frozenset) or _is_abc(origin, "Sequence"):
        if not isinstance(value, list):
            return value
        if origin is tuple and args and args[-1] is not Ellipsis:
            return tuple(convert(v, h) for v, h in zip(value, args))
        items = [convert(v, args[0] if args else None) for v in value]
        return origin(items) if origin in (tuple, set, frozenset) else items
    if origin is dict or _is_abc(origin, "Mapping"):
        if not isinstance(value, dict) or len(args) != 2:
            return value
        return {k: convert(v, args[1]) for k, v in value.items()}
    if not isinstance(hint, type):
        return value
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        hints = _type_hints(hint)
        fields = {f.name for f in dataclasses.fields(hint) if f.init}
        return hint(**{k: convert(v, hints.get(k)) for k, v in value.items() if k in fields})
    if issubclass(hint, Enum) and not isinstance(value, hint):
        return hint(value)
    if hint is datetime and isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    if hint is uuid.UUID and isinstance(value, str):
        return uuid.UUID(value)
    return value


def _is_abc(origin: Any, name: str) -> bool:
    return origin is getattr(collections.abc, name)


def _type_hints(obj: Any) -> dict:
    """`obj`'s type hints, or none when they cannot be resolved."""
    try:
        return typing.get_type_hints(obj)
    except Exception:  # noqa: BLE001 - a hint naming something undefined
        return {}


def param_hints(fn: Callable[..., Any], skip_self: bool) -> Optional[List[Any]]:
    """The hints of `fn`'s positional parameters in order (None for an
    unhinted one), or None when it takes `*args`."""
    hints = _type_hints(fn)
    params = list(inspect.signature(fn).parameters.values())
    if skip_self and params:
        params = params[1:]
    out: List[Any] = []
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            out.append(hints.get(p.name))
    return out


def convert_args(fn: Callable[..., Any], values: List[Any], skip_self: bool) -> List[Any]:
    """`values` converted by `fn`'s parameter hints."""
    hints = param_hints(fn, skip_self)
    if not hints:
        return values
    return [convert(v, hints[i]) if i < len(hints) else v for i, v in enumerate(values)]


def return_hint(fn: Any) -> Any:
    """The return hint of a function, or None."""
    if not callable(fn) or isinstance(fn, (str, type)):
        return None
    return _type_hints(fn).get("return")
