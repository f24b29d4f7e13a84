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

Documents that repeat a shape (the same lines with other values, as a template writes them) are
built from what the reader learned on the second one (see "documents of a known shape" below);
``tests/spec/test_yamlblock_shapes.py`` holds those to a read without it, and to ruamel.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# Characters the reader accepts anywhere: printable ASCII, and Unicode above U+009F that no YAML
# reader treats as a line break or a byte-order mark (U+2028, U+2029 and U+FEFF are left out).
# Compiling the second class costs milliseconds of start-up, so it waits for a text that is not
# ASCII; an ASCII text needs only the first.
_UNUSUAL_ASCII = re.compile("[^\n\x20-\x7e]")
_UNUSUAL_SOURCE = (
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)


def _has_unusual(text: str) -> bool:
    if text.isascii():
        return _UNUSUAL_ASCII.search(text) is not None
    return re.search(_UNUSUAL_SOURCE, text) is not None  # compiled once, in re's own cache


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
    if len(text) > max_scalar or _has_unusual(text):
        raise Unread
    result = Result()
    reader = _Reader([], plain, result, max_depth, max_integer)
    infos, known_lines = [], _raw_lines
    for raw in text.split("\n"):
        info = known_lines.get(raw) or reader.raw_line(raw)
        if info is not _BLANK:
            infos.append(info)
    if not infos:
        raise Unread
    shape = tuple([info[0] for info in infos])
    known = _shapes.get(shape)
    if type(known) is _Shape and known.depth <= max_depth and known.nodes <= max_nodes:
        return known.build([info[1][2] for info in infos]), known.result(infos)
    lines = [(info[2], info[3]) for info in infos]
    original = list(lines) if known is _SEEN else None  # reading (below) changes ``lines``
    reader.lines = lines
    data, end = reader.node(0, 0)
    if end != len(lines) or result.nodes > max_nodes:
        raise Unread
    if original is not None:
        entries = [info[1] for info in infos]
        _shapes[shape] = _learn(original, reader, data, result, entries) or _UNLEARNABLE
    elif known is None and len(_shapes) < _SHAPES_KEPT:
        _shapes[shape] = _SEEN
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

    def raw_line(self, raw: str) -> Any:
        """What a line of the text is, cached by its text: ``_BLANK`` (blank or a comment), or
        (indentation and shape as one number, the line holding its value, indentation, content);
        Unread for a document marker or a line the reader does not read."""
        content = raw.lstrip(" ")
        if not content or content[0] == "#":
            info: Any = _BLANK
        else:
            indent = len(raw) - len(content)
            if indent == 0 and (content.startswith(("---", "...", "%"))):
                raise Unread
            content = content.rstrip(" ")
            shape_id, entry = self.line_shape(content)
            info = (indent * _SHAPE_IDS + shape_id, entry, indent, content)
        if len(_raw_lines) < _LINES_KEPT:
            _raw_lines[raw] = info
        return info

    def line_shape(self, content: str) -> tuple[int, _Line]:
        """A line's shape id, and the line that holds its value (for ``- key: value``, the
        ``key: value`` part); cached with the line."""
        known = _line_shapes.get(content)
        if known is not None:
            return known
        entry = self.line(content)
        kind, key, value = entry[0], entry[1], entry[2]
        if kind == ITEM and value is _MAP_ITEM:
            inner_id, inner = self.line_shape(key)
            form: tuple[Any, ...] = (ITEM, len(content) - len(key), inner_id)
            entry = inner
        elif kind == ITEM:
            form = (ITEM, _form(value))
        else:  # a key's type and text, not only its value: True and 1, 0.0 and -0.0 differ
            form = (KEY, type(key), repr(key), _form(value))
        shape_id = _shape_ids.get(form)
        if shape_id is None:
            if len(_shape_ids) >= _SHAPE_IDS:
                raise Unread  # no more ids (a document with a million distinct lines)
            shape_id = _shape_ids[form] = len(_shape_ids)
        known = (shape_id, entry)
        if len(_line_shapes) < _LINES_KEPT:
            _line_shapes[content] = known
        return known

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


# --- documents of a known shape --------------------------------------------------------------
#
# Templates write the same lines again and again with other values: two Applications differ in
# their names, branch and namespace, not in their keys or their nesting. A line's *shape* is what
# it holds except its value's text: a key (its type and text) or a list entry, and whether the value
# is a scalar, ``{}``, ``[]``, a list of n words, or nothing (a map or a list follows). Documents
# whose lines have the same indentation and the same shapes read to the same nesting of maps and
# lists, with each scalar from the same line. So the second document of a shape is read as usual
# and also once more with a marker in place of each line's value; the result becomes a function
# that builds that nesting from the values of a line list, checked against the real read. From
# the third document of that shape on, reading is that function.


class _Shape:
    """The nesting of one shape of document, as a function of its lines' values."""

    __slots__ = ("build", "depth", "nodes", "string_keys")

    def __init__(self, build: Callable[[list[Any]], Any], depth: int, result: Result) -> None:
        self.build, self.depth = build, depth
        self.nodes, self.string_keys = result.nodes, result.string_keys

    def result(self, infos: list[Any]) -> Result:
        result = Result()
        result.nodes, result.string_keys = self.nodes, self.string_keys
        for info in infos:
            if info[1][4]:
                result.unsafe = True
                break
        return result


class _Slot:
    """Where the value of line ``i`` goes, while a shape is learned; ``fresh``: it is made anew
    for each document (``{}``, ``[]``, a list of words), not shared as a scalar is."""

    __slots__ = ("fresh", "i")

    def __init__(self, i: int, value: Any) -> None:
        self.i, self.fresh = i, _fresh(value) is not value


def _form(value: Any) -> Any:
    if value is _OPEN or value is _EMPTY_MAP or value is _EMPTY_LIST:
        return value
    if type(value) is tuple:
        return len(value)  # a list of words: its length counts in the limits
    return None  # a scalar


_SHAPE_IDS = 1 << 24
_shape_ids: dict[tuple[Any, ...], int] = {}
_line_shapes: dict[str, tuple[int, _Line]] = {}
_raw_lines: dict[str, Any] = {}
_BLANK = object()
# A shape seen once maps to _SEEN; seen twice, to its _Shape (or _UNLEARNABLE).
_SEEN, _UNLEARNABLE = object(), object()
_shapes: dict[tuple[int, ...], Any] = {}
_SHAPES_KEPT = 2_000
_MAX_LEARNED_DEPTH = 40  # deeper documents are read as usual (a deeply nested expression)


def _learn(
    lines: list[tuple[int, str]],
    reader: _Reader,
    data: Any,
    result: Result,
    entries: list[_Line],
) -> _Shape | None:
    """Read ``lines`` once more with a marker for each value, and build the function that makes
    the same nesting; None when the result is not exactly ``data`` (then the shape is always read
    as usual)."""
    slots: dict[str, _Line] = {}
    marked: list[tuple[int, str]] = []
    for i, (indent, content) in enumerate(lines):
        kind, key, value, string_key, _ = reader.line(content)
        if kind == ITEM and value is _MAP_ITEM:
            inner = reader.line(key)
            if inner[2] is not _OPEN:
                inner_mark = f"\x00{i}"
                slots[inner_mark] = (KEY, inner[1], _Slot(i, inner[2]), inner[3], False)
                mark = content[: len(content) - len(key)] + inner_mark
                slots[mark] = (ITEM, inner_mark, _MAP_ITEM, True, False)
                content = mark
        elif value is not _OPEN:
            content = f"\x00{i}"
            slots[content] = (kind, key, _Slot(i, value), string_key, False)
        marked.append((indent, content))
    _lines.update(slots)  # "\x00" is never in a line read: these entries are only for this read
    try:
        marker_reader = _Reader(marked, reader.plain, Result(), 1 << 30, reader.max_integer)
        skeleton, _ = marker_reader.node(0, 0)
    except Unread:
        return None
    finally:
        for mark in slots:
            del _lines[mark]
    keys: list[Any] = []
    depth = _depth(skeleton)
    if depth > _MAX_LEARNED_DEPTH:
        return None
    code = _code(skeleton, keys)
    build = eval(f"lambda v: {code}", {"K": tuple(keys), "F": _fresh})  # the code made above
    if not _identical(build([entry[2] for entry in entries]), data):
        return None
    return _Shape(build, depth, result)


def _code(node: Any, keys: list[Any]) -> str:
    """A Python expression that builds ``node``, with ``v[i]`` for the value of line i."""
    if type(node) is _Slot:
        return f"F(v[{node.i}])" if node.fresh else f"v[{node.i}]"
    if node is None:
        return "None"
    if type(node) is dict:
        items = []
        for key, value in node.items():
            keys.append(key)
            items.append(f"K[{len(keys) - 1}]: {_code(value, keys)}")
        return "{" + ", ".join(items) + "}"
    assert type(node) is list, node
    return "[" + ", ".join(_code(item, keys) for item in node) + "]"


def _depth(node: Any, depth: int = 0) -> int:
    """The deepest map or list that lines make (the top one is 0), as ``_Reader.enter`` counts."""
    if type(node) is dict:
        return max([depth, *(_depth(value, depth + 1) for value in node.values())])
    if type(node) is list:
        return max([depth, *(_depth(item, depth + 1) for item in node)])
    return -1  # a value: no map or list of lines


def _identical(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (True is not 1, 0.0 is not -0.0)."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return len(a) == len(b) and all(
            _identical(ka, kb) and _identical(va, vb)
            for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
        )
    if type(a) is list:
        return len(a) == len(b) and all(map(_identical, a, b))
    if type(a) is float:
        return repr(a) == repr(b)
    return bool(a == b)
