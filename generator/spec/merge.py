"""The spec's merge rules: maps merge deeply (the later wins), lists are replaced, null removes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def deep_merge(base: Any, override: Any) -> Any:
    """Merge ``override`` over ``base`` without modifying either.

    - Two maps merge key by key, recursively.
    - A ``None`` value in ``override`` removes the key from the result.
    - Anything else (scalars, lists, a map over a scalar) replaces the base value whole.

    The result shares every part that the merge leaves as it was with ``base`` or ``override``
    (300 environments share one app's base values instead of holding 300 copies), so it must be
    treated as read-only: ``set_path`` copies the maps it changes.
    """
    if not _is_map(base) or not _is_map(override):
        return _strip_nulls(override)
    if not override:
        return base
    merged = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif key in merged:
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = _strip_nulls(value)
    return merged


def _strip_nulls(value: Any) -> Any:
    """A map that arrives through an override has nothing to remove: its nulls mean 'absent'.

    A map with no null in it (the usual case) is shared as it is, like the rest of the merge.
    """
    if not _is_map(value) or (type(value) is dict and _null_free(value)):
        return value
    return {key: _strip_nulls(item) for key, item in value.items() if item is not None}


def _null_free(mapping: dict[Any, Any]) -> bool:
    """No null among the values of ``mapping`` or of the maps inside it (lists keep theirs)."""
    for item in mapping.values():
        if item is None:
            return False
        if type(item) is dict:
            if not _null_free(item):
                return False
        elif _is_map(item):
            return False  # another kind of map: copied into a plain dict
    return True


# What YAML gives besides maps: asking the Mapping ABC about each of these would cost more than
# the rest of the merge (hundreds of thousands of values in a large spec).
_NOT_MAPS = frozenset({str, int, float, bool, list, type(None)})


def _is_map(value: Any) -> bool:
    kind = type(value)
    return kind is dict or (kind not in _NOT_MAPS and isinstance(value, Mapping))


class NotAMapError(TypeError):
    """``set_path`` met something other than a map on its way."""

    def __init__(self, path: tuple[str, ...]) -> None:
        super().__init__(".".join(path))
        self.path = path
        """The path, from the top of the data, of the value that is not a map."""


def set_path(data: dict[str, Any], path: Sequence[str], value: Any) -> None:
    """Set ``data[p0][p1]...`` to ``value``, creating maps; NotAMapError through a non-map.

    Each map on the way is replaced by a copy, since merged maps are shared (``deep_merge``):
    only ``data`` itself is changed in place.
    """
    node = data
    for index, part in enumerate(path[:-1]):
        child = node.get(part)
        if child is None:
            child = {}
        elif not isinstance(child, dict):
            raise NotAMapError(tuple(path[: index + 1]))
        else:
            child = dict(child)
        node[part] = child
        node = child
    node[path[-1]] = value
