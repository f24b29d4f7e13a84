"""A line reader for plain block YAML: the shape of nearly every spec file and rendered object.

Templates write Applications and wrapper charts as indented ``key: value`` lines and ``- item``
lists, with plain or simply quoted scalars; people write spec files the same way. Read line by line,
such a document costs a fraction of what libyaml's parser events cost through Python.

The reader takes no decision of its own. It reads a document only when every line is one of:

- a blank line or a comment line;
- ``key:`` or ``key: value`` at the indentation of its map;
- ``-``, ``- value`` or ``- key: value`` at the indentation of its list;

where a key or a value is a plain scalar that cannot mean anything else (it does not start with
an indicator, holds no ``: `` or `` #``, does not end with ``:``), a quoted scalar on one line with
no escapes, ``{}``, ``[]``, or a one-line list of words that are strings (``[a, b.c]``). Plain
scalars are typed by the YAML 1.2 resolver table that ``yamlio`` uses for every load. Anything
else (tabs, CR, characters outside printable Unicode, block scalars, other flow collections,
anchors, tags, trailing comments, multi-line scalars, duplicate keys, an indentation that does not
match, a document marker, anything over a limit) raises ``Unread``, and the caller hands the text
to the general loaders, which decide what it means or which error it is.
``tests/spec/test_yamlblock.py`` holds this reader to ruamel's result on generated documents and
on the same documents broken line by line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# Characters the reader accepts anywhere: printable ASCII, and Unicode above U+009F that no YAML
# reader treats as a line break or a byte-order mark (U+2028, U+2029 and U+FEFF are left out).
_UNUSUAL = re.compile(
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
# A plain scalar in block context: no indicator first (``-``, ``?`` and ``:`` only before a
# non-space), no ``: `` or `` #`` inside, no ``:`` at the end.
_PLAIN = re.compile(r"(?:[^-?:,\[\]{}#&*!|>'\"%@`\s]|[-?:][^\s])(?:(?!: | #).)*(?<![\s:])")
_DOUBLE = re.compile(r'"([^"\\]*)"')
_SINGLE = re.compile(r"'((?:[^']|'')*)'")
# A list of names on one line, ``[a, b]``: words that read as plain scalars in any context.
_WORD = r"[A-Za-z0-9_./][A-Za-z0-9_./=+-]*"
_FLOW_WORDS = re.compile(rf"\[ *((?:{_WORD}(?: *, *{_WORD})*)?) *\]")
_COMMA = re.compile(r" *, *")
# libyaml refuses an implicit key longer than 1,024 characters; such keys go to it.
_MAX_KEY = 1000


class Unread(Exception):
    """The document is not plain block YAML (or is over a limit): another loader decides."""


class Result:
    """What the reader noticed on its way through the document."""

    __slots__ = ("nodes", "string_keys", "unsafe")

    def __init__(self) -> None:
        self.nodes = 0
        self.string_keys = True
        self.unsafe = False


# What a line holds. Lines repeat a great deal (keys above all, across thousands of objects), so
# each distinct line is read once and kept: ``(kind, key, value, key is a string, unsafe int)``.
ITEM, KEY = 0, 1
# The value of a KEY line: a scalar (kept as is), or one of these, made fresh for each use.
_OPEN, _EMPTY_MAP, _EMPTY_LIST, _MAP_ITEM = object(), object(), object(), object()
_Line = tuple[int, Any, Any, bool, bool]
_lines: dict[str, _Line] = {}
_LINES_KEPT = 50_000


def read(
    text: str,
    plain: Callable[[str], Any],
    max_depth: int,
    max_nodes: int,
    max_scalar: int,
    max_integer: int,
) -> tuple[Any, Result]:
    """The document's data, and what was noticed; ``Unread`` when it is not plain block YAML.

    ``plain(text)`` types a plain scalar (it may raise to refuse one).
    """
    if len(text) > max_scalar or _UNUSUAL.search(text):
        raise Unread
    lines: list[tuple[int, str]] = []
    for line in text.split("\n"):
        content = line.lstrip(" ")
        if not content or content[0] == "#":
            continue
        indent = len(line) - len(content)
        if indent == 0 and (content.startswith(("---", "...", "%"))):
            raise Unread
        lines.append((indent, content.rstrip(" ")))
    if not lines:
        raise Unread
    result = Result()
    reader = _Reader(lines, plain, result, max_depth, max_integer)
    data, end = reader.node(0, 0)
    if end != len(lines) or result.nodes > max_nodes:
        raise Unread
    return data, result


class _Reader:
    def __init__(
        self,
        lines: list[tuple[int, str]],
        plain: Callable[[str], Any],
        result: Result,
        max_depth: int,
        max_integer: int,
    ) -> None:
        self.lines = lines
        self.plain = plain
        self.result = result
        self.max_depth = max_depth
        self.max_integer = max_integer

    def enter(self, depth: int) -> None:
        """Count a map or a list at ``depth`` (the top is 0); a deeper one goes to the loaders."""
        if depth > self.max_depth:
            raise Unread
        self.result.nodes += 1

    def line(self, content: str) -> _Line:
        entry = _lines.get(content)
        if entry is None:
            entry = self.read_line(content)
            if len(_lines) < _LINES_KEPT:
                _lines[content] = entry
        if entry[4]:
            self.result.unsafe = True
        return entry

    def node(self, i: int, depth: int) -> tuple[Any, int]:
        """The map or list that starts at line ``i`` (at that line's indentation)."""
        self.enter(depth)
        indent, content = self.lines[i]
        if self.line(content)[0] == ITEM:
            return self.sequence(i, indent, depth)
        return self.mapping(i, indent, depth)

    def mapping(self, i: int, indent: int, depth: int) -> tuple[dict[Any, Any], int]:
        lines, count, result, known = self.lines, len(self.lines), self.result, _lines
        mapping: dict[Any, Any] = {}
        while i < count:
            at, content = lines[i]
            if at != indent:
                if at > indent:
                    raise Unread  # a line deeper than the map's keys, not under one of them
                break
            kind, key, value, string_key, unsafe = known.get(content) or self.line(content)
            if unsafe:
                result.unsafe = True
            if kind == ITEM or key in mapping:
                raise Unread  # a list beside the map's keys, or a duplicate key
            if not string_key:
                result.string_keys = False
            i += 1
            if value is _OPEN:
                if i < count and lines[i][0] > indent:
                    value, i = self.node(i, depth + 1)
                elif i < count and lines[i][0] == indent and self.line(lines[i][1])[0] == ITEM:
                    self.enter(depth + 1)
                    value, i = self.sequence(i, indent, depth + 1)
                else:
                    value = None
                    result.nodes += 1
            else:
                result.nodes += _size(value)
                value = _fresh(value)
                if i < count and lines[i][0] > indent:
                    raise Unread  # a multi-line scalar, or an error
            mapping[key] = value
        return mapping, i

    def sequence(self, i: int, indent: int, depth: int) -> tuple[list[Any], int]:
        lines, count, result, known = self.lines, len(self.lines), self.result, _lines
        sequence: list[Any] = []
        while i < count:
            at, content = lines[i]
            if at != indent:
                if at > indent:
                    raise Unread
                break
            kind, rest, value, _, unsafe = known.get(content) or self.line(content)
            if unsafe:
                result.unsafe = True
            if kind != ITEM:
                break  # the next key of the map this list is the value of (checked there)
            if value is _OPEN:  # "-" alone
                i += 1
                if i < count and lines[i][0] > indent:
                    item, i = self.node(i, depth + 1)
                else:
                    item = None
                    result.nodes += 1
            elif value is _MAP_ITEM:
                # A map whose first key shares the item's line: read it at that key's column.
                lines[i] = (indent + len(content) - len(rest), rest)
                self.enter(depth + 1)
                item, i = self.mapping(i, lines[i][0], depth + 1)
            else:
                result.nodes += _size(value)
                item = _fresh(value)
                i += 1
                if i < count and lines[i][0] > indent:
                    raise Unread
            sequence.append(item)
        return sequence, i

    def read_line(self, content: str) -> _Line:
        """What one line holds (cached by the caller); Unread for anything unusual."""
        if content == "-":
            return (ITEM, "", _OPEN, True, False)
        if content.startswith("- "):
            rest = content[2:].lstrip(" ")
            if rest == "-" or rest.startswith("- "):
                raise Unread  # a list inside a list on one line
            if _is_key_line(rest):
                self.read_line(rest)  # refuses it now if it is not a plain key line
                return (ITEM, rest, _MAP_ITEM, True, False)
            value, unsafe = self.scalar(rest)
            return (ITEM, rest, value, True, unsafe)
        key, rest = self.key(content)
        if not rest:
            return (KEY, key, _OPEN, type(key) is str, False)
        value, unsafe = self.scalar(rest)
        return (KEY, key, value, type(key) is str, unsafe)

    def key(self, content: str) -> tuple[Any, str]:
        """The key of a ``key:`` line, typed, and the text after the colon."""
        if content[0] in "\"'":
            quoted = _DOUBLE if content[0] == '"' else _SINGLE
            match = quoted.match(content)
            if match is None:
                raise Unread
            key: Any = match.group(1)
            if content[0] == "'":
                key = key.replace("''", "'")
            after = content[match.end() :].lstrip(" ")
            if not after.startswith(":") or (len(after) > 1 and after[1] != " "):
                raise Unread
            rest = after[1:].lstrip(" ")
        else:
            at = content.find(": ")
            if at < 0:
                if not content.endswith(":"):
                    raise Unread  # a scalar where a key was expected
                at = len(content) - 1
            text, rest = content[:at].rstrip(" "), content[at + 1 :].lstrip(" ")
            if len(text) > _MAX_KEY or not _PLAIN.fullmatch(text):
                raise Unread
            key = self.plain(text)
        if type(key) is str and len(key) > _MAX_KEY:
            raise Unread
        return key, rest

    def scalar(self, text: str) -> tuple[Any, bool]:
        """A value on the line of its key or list entry, and whether it is an unsafe integer."""
        first = text[0]
        if first == '"' or first == "'":
            match = (_DOUBLE if first == '"' else _SINGLE).fullmatch(text)
            if match is None:
                raise Unread  # escapes, a second line, or text after the closing quote
            value = match.group(1)
            return (value if first == '"' else value.replace("''", "'")), False
        if text == "{}":
            return _EMPTY_MAP, False
        if text == "[]":
            return _EMPTY_LIST, False
        if first == "[":
            words = _FLOW_WORDS.fullmatch(text)
            if words is None:
                raise Unread
            if not words.group(1):
                return _EMPTY_LIST, False
            items = tuple(self.plain(word) for word in _COMMA.split(words.group(1)))
            if any(type(item) is not str for item in items):
                raise Unread  # numbers and booleans in a flow list: libyaml decides
            return items, False
        if not _PLAIN.fullmatch(text):
            raise Unread
        value = self.plain(text)
        unsafe = type(value) is int and not -self.max_integer <= value <= self.max_integer
        return value, unsafe


def _is_key_line(content: str) -> bool:
    if content[0] in "\"'":
        match = (_DOUBLE if content[0] == '"' else _SINGLE).match(content)
        return match is not None and content[match.end() :].lstrip(" ").startswith(":")
    return ": " in content or content.endswith(":")


def _size(value: Any) -> int:
    """Nodes, as the limits walk counts them: a list of words is one, plus one per word."""
    return 1 + len(value) if type(value) is tuple else 1


def _fresh(value: Any) -> Any:
    """A line's value for one document: containers are made anew, scalars are shared."""
    if value is _EMPTY_MAP:
        return {}
    if value is _EMPTY_LIST:
        return []
    if type(value) is tuple:
        return list(value)
    return value
