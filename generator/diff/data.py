"""Two parsed documents compared as data: every changed leaf, key order and formatting ignored."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# List items are matched by the first of these keys that identifies every item on both sides.
LIST_KEYS = ("name", "key", "branch")
_SIMPLE_KEY = re.compile(r"[A-Za-z0-9_-]+")

Normalize = Callable[[str], str]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Stands for "no such key" on one side of a Change."""


@dataclass(frozen=True, slots=True)
class Change:
    """One changed leaf: a value added, removed or replaced."""

    path: str
    before: Any = MISSING
    after: Any = MISSING

    @property
    def op(self) -> str:
        if self.before is MISSING:
            return "added"
        return "removed" if self.after is MISSING else "changed"


def identity(value: str) -> str:
    return value


@dataclass(frozen=True, slots=True)
class _Keyed:
    key: str
    value: Any


def format_path(path: Sequence[str | int | _Keyed]) -> str:
    """``('a', 'b.c', 0, Keyed('name', 'x'))`` → ``a["b.c"][0][name=x]``."""
    out = ""
    for part in path:
        if isinstance(part, _Keyed):
            out += f"[{part.key}={part.value}]"
        elif isinstance(part, int):
            out += f"[{part}]"
        elif _SIMPLE_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def compare_data(
    before: Any,
    after: Any,
    normalize_before: Normalize = identity,
    normalize_after: Normalize = identity,
    ignore: frozenset[str] = frozenset(),
) -> list[Change]:
    """Every changed leaf between two parsed documents; key order and formatting never count.

    Strings are compared through the normalizers (used to ignore names that differ by design);
    paths in ``ignore`` (formatted) are skipped.
    """
    out: list[Change] = []
    _Comparer(normalize_before, normalize_after, ignore, out).compare(before, after, ())
    return out


class _Comparer:
    def __init__(
        self, nb: Normalize, na: Normalize, ignore: frozenset[str], out: list[Change]
    ) -> None:
        self.nb, self.na, self.ignore, self.out = nb, na, ignore, out

    def compare(self, before: Any, after: Any, path: tuple[Any, ...]) -> None:
        if self.ignore and format_path(path) in self.ignore:
            return
        if isinstance(before, dict) and isinstance(after, dict):
            for key in sorted(set(before) | set(after), key=str):
                sub = (*path, key)
                if key not in after:
                    self.leaves(sub, before[key], removed=True)
                elif key not in before:
                    self.leaves(sub, after[key], removed=False)
                else:
                    self.compare(before[key], after[key], sub)
        elif isinstance(before, list) and isinstance(after, list):
            self.compare_lists(before, after, path)
        elif not self.same(before, after):
            self.out.append(Change(format_path(path), before, after))

    def compare_lists(self, before: list[Any], after: list[Any], path: tuple[Any, ...]) -> None:
        key = _list_key(before, after)
        if key is not None:
            old = {item[key]: item for item in before}
            new = {item[key]: item for item in after}
            for value in [*old, *(v for v in new if v not in old)]:
                sub = (*path, _Keyed(key, value))
                if value not in new or value not in old:
                    # The key is in the path already; list the item's other fields.
                    item = old[value] if value not in new else new[value]
                    rest = {k: v for k, v in item.items() if k != key}
                    self.leaves(sub, rest or item, removed=value not in new)
                else:
                    self.compare(old[value], new[value], sub)
        elif all(not isinstance(v, (dict, list)) for v in [*before, *after]):
            # A list of scalars is one value: lists are replaced whole by the spec's merge rules.
            if len(before) != len(after) or not all(map(self.same, before, after)):
                self.out.append(Change(format_path(path), before, after))
        else:
            for index in range(max(len(before), len(after))):
                sub = (*path, index)
                if index >= len(after):
                    self.leaves(sub, before[index], removed=True)
                elif index >= len(before):
                    self.leaves(sub, after[index], removed=False)
                else:
                    self.compare(before[index], after[index], sub)

    def leaves(self, path: tuple[Any, ...], value: Any, removed: bool) -> None:
        """An added or removed subtree, one line per leaf so a reviewer sees every value."""
        if self.ignore and format_path(path) in self.ignore:
            return
        if isinstance(value, dict) and value:
            for key in sorted(value, key=str):
                self.leaves((*path, key), value[key], removed)
        elif removed:
            self.out.append(Change(format_path(path), before=value))
        else:
            self.out.append(Change(format_path(path), after=value))

    def same(self, before: Any, after: Any) -> bool:
        if isinstance(before, bool) or isinstance(after, bool):
            return type(before) is type(after) and before == after
        if isinstance(before, str) and isinstance(after, str):
            return before == after or self.nb(before) == self.na(after)
        if isinstance(before, (int, float)) and isinstance(after, (int, float)):
            # .nan is a value like any other: the same on both sides is no change.
            return before == after or (math.isnan(before) and math.isnan(after))
        return type(before) is type(after) and bool(before == after)


def _list_key(before: list[Any], after: list[Any]) -> str | None:
    items = [*before, *after]
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in LIST_KEYS:
        values = [item.get(key) for item in items]
        if (
            all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values)
            and len({i[key] for i in before}) == len(before)
            and len({i[key] for i in after}) == len(after)
        ):
            return key
    return None
