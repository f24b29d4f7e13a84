"""The spec's merge rules: maps merge deeply (the later wins), lists are replaced, null removes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def deep_merge(base: Any, override: Any) -> Any:
    """Merge ``override`` over ``base`` without modifying either.

    - Two maps merge key by key, recursively.
    - A ``None`` value in ``override`` removes the key from the result.
    - Anything else (scalars, lists, a map over a scalar) replaces the base value whole.
    """
    if not isinstance(base, Mapping) or not isinstance(override, Mapping):
        return _strip_nulls(override)
    merged = {key: _copy(value) for key, value in base.items()}
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif key in merged:
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = _strip_nulls(value)
    return merged


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _strip_nulls(value: Any) -> Any:
    """A map that arrives through an override has nothing to remove: its nulls mean 'absent'."""
    if isinstance(value, Mapping):
        return {key: _strip_nulls(item) for key, item in value.items() if item is not None}
    return _copy(value)


class NotAMapError(TypeError):
    """``set_path`` met something other than a map on its way."""

    def __init__(self, path: tuple[str, ...]) -> None:
        super().__init__(".".join(path))
        self.path = path
        """The path, from the top of the data, of the value that is not a map."""


def set_path(data: dict[str, Any], path: Sequence[str], value: Any) -> None:
    """Set ``data[p0][p1]...`` to ``value``, creating maps; NotAMapError through a non-map."""
    node = data
    for index, part in enumerate(path[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            raise NotAMapError(tuple(path[: index + 1]))
        node = child
    node[path[-1]] = value
