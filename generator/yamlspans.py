"""Where the nodes of a YAML document sit: exact spans for in-place edits, positions for errors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from generator import yamlio

COMPLEX_KEY = "<complex key>"

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Span:
    """Where a scalar value sits in the text: [start, end) character offsets and its style."""

    start: int
    end: int
    line: int
    """1-based."""
    col: int
    """1-based."""
    style: str | None
    """None for plain, ``'``/``"`` for quoted, ``|``/``>`` for block scalars, ``*`` for aliases."""
    value: str
    flow: bool = False
    """The scalar is a value in a flow collection (``{a: 1}`` or ``[1]``)."""
    key_col: int = 0
    """0-based column of the key it is the value of (of the item itself in a sequence)."""


@dataclass(slots=True)
class _Frame:
    path: Path_
    is_map: bool
    role_key: bool
    """The container itself is a mapping key (a complex key)."""
    flow: bool = False
    key: str | int | None = None
    key_col: int = 0
    expect_key: bool = True
    index: int = 0

    def slot(self) -> Path_:
        return (*self.path, self.key if self.is_map else self.index)  # type: ignore[arg-type]

    def advance(self) -> None:
        if self.is_map:
            self.expect_key = True
        else:
            self.index += 1


def _value_start(text: str, start: int, end: int) -> int:
    """Where a scalar's value begins: after its anchor and tag (either order), which stay put."""
    at = start
    while at < end and text[at] in "&!":
        while at < end and not text[at].isspace() and text[at] not in ",[]{}":
            at += 1
        while at < end:
            if text[at] in " \t\r\n":
                at += 1
            elif text[at] == "#":
                newline = text.find("\n", at, end)
                at = end if newline < 0 else newline
            else:
                break
    return at


def position(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset."""
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def scalar_spans(text: str) -> dict[Path_, Span]:
    """Every scalar value (and alias) of the first document, by its path from the root.

    A span covers the value only: an anchor (``&v``) or tag (``!!str``) before it is not part of it,
    so an edit keeps them.
    """
    spans: dict[Path_, Span] = {}
    stack: list[_Frame] = []
    for event in yamlio.parse_events(text):
        kind = type(event).__name__
        top = stack[-1] if stack else None
        if kind in ("MappingStartEvent", "SequenceStartEvent"):
            as_key = top is not None and top.is_map and top.expect_key
            if as_key:
                assert top is not None
                top.key, top.expect_key = COMPLEX_KEY, False
            path = top.slot() if top is not None else ()
            flow = bool(getattr(event, "flow_style", False))
            stack.append(_Frame(path, kind == "MappingStartEvent", as_key, flow))
        elif kind in ("MappingEndEvent", "SequenceEndEvent"):
            done = stack.pop()
            if stack and not done.role_key:
                stack[-1].advance()
        elif kind in ("ScalarEvent", "AliasEvent"):
            if top is not None and top.is_map and top.expect_key:
                top.key = event.value if kind == "ScalarEvent" else COMPLEX_KEY
                top.key_col = event.start_mark.column
                top.expect_key = False
                continue
            mark, end = event.start_mark, event.end_mark
            style = event.style if kind == "ScalarEvent" else "*"
            value = event.value if kind == "ScalarEvent" else ""
            path = top.slot() if top is not None else ()
            start = (
                _value_start(text, mark.index, end.index) if kind == "ScalarEvent" else mark.index
            )
            line, col = position(text, start)
            flow = top.flow if top is not None else False
            key_col = top.key_col if top is not None and top.is_map else mark.column
            spans[path] = Span(start, end.index, line, col, style, value, flow, key_col)
            if top is not None:
                top.advance()
        elif kind == "DocumentEndEvent":
            break
    return spans


@dataclass(frozen=True, slots=True)
class _Node:
    start: tuple[int, int]
    """1-based (line, column) of the node itself (its anchor or tag, when it has one)."""
    key: tuple[int, int] | None
    """1-based (line, column) of its key; None for list items and the root."""
    scalar: bool
    alias: str | None = None
    """For an alias (``*name``), the anchor it refers to."""


@dataclass(slots=True)
class _Open:
    """A collection being read: where its children go."""

    path: Path_ | None
    """None when its children are not kept (too deep, or inside a complex key)."""
    is_map: bool
    role_key: bool = False
    scalars: list[Any] | None = None
    """A complex key's scalars, in order: a flat list key loads as a tuple of them."""
    expect_key: bool = True
    key: Any = None
    key_at: tuple[int, int] = (1, 1)
    index: int = 0


class Locator:
    """Where the nodes of one YAML document sit, for error messages.

    It reads the parser's events lazily, once, and keeps every position it passes: locating many
    paths costs at most one pass over the text, and a path near the top of a large file costs only
    the lines above it. No document is built. Paths deeper than ``max_depth`` are located at their
    deepest kept ancestor (the loader refuses documents nested deeper than its limit anyway).
    """

    def __init__(self, text: str, max_depth: int = yamlio.MAX_DEPTH + 1) -> None:
        self._text = text
        self._max_depth = max_depth
        self._pure = False
        self._events: Iterator[Any] | None = None
        self._done = False
        self._nodes: dict[Path_, _Node] = {}
        self._anchors: dict[str, Path_] = {}
        self._closed: set[Path_] = set()
        self._open: list[_Open] = []

    def locate(self, path: Sequence[str | int], at_key: bool = False) -> tuple[int, int]:
        """The 1-based line and column of ``path``, as far as it exists in the text.

        A scalar at the end of the path is located at its value unless ``at_key``; maps and lists
        at their key; list items where they start. Through an alias, the path continues in the
        anchored node.
        """
        position = (1, 1)
        real: Path_ = ()
        last = len(path) - 1
        for index, part in enumerate(path):
            found = self._child(real, part)
            if found is None:
                break
            real, node = found
            target = self._nodes.get(self._anchors.get(node.alias, ())) if node.alias else node
            scalar = target.scalar if target is not None else True
            if node.key is None:
                position = node.start
            else:
                position = node.start if index == last and not at_key and scalar else node.key
            if node.alias is not None:
                if node.alias not in self._anchors:
                    break
                real = self._anchors[node.alias]
        return position

    def _child(self, parent: Path_, part: Any, merged: int = 0) -> tuple[Path_, _Node] | None:
        child = (*parent, part)
        if len(child) > self._max_depth:
            return None
        while child not in self._nodes and parent not in self._closed and self._read():
            pass
        node = self._nodes.get(child)
        if node is not None:
            return child, node
        # A merge key (<<: *base, or a list of them) brings the key from the anchored maps.
        merge = self._nodes.get((*parent, "<<"))
        if merge is None or merged > 8:
            return None
        sources = [merge] if merge.alias else []
        index = 0
        while merge.alias is None and (item := self._nodes.get((*parent, "<<", index))):
            sources.append(item)
            index += 1
        for source in sources:
            anchored = self._anchors.get(source.alias or "")
            if anchored is not None and (found := self._child(anchored, part, merged + 1)):
                return found
        return None

    def _read(self) -> bool:
        """Take one more event; False when the document is over."""
        from ruamel.yaml.error import YAMLError

        if self._done:
            return False
        if self._events is None:
            self._events = yamlio.iter_events(self._text, self._pure)
        try:
            event = next(self._events)
        except StopIteration:
            self._done = True
            return False
        except YAMLError:
            if self._pure:
                self._done = True
                return False
            # libyaml reads YAML 1.1 and refuses some YAML 1.2 text: start over with ruamel's.
            self._pure, self._events = True, None
            self._nodes, self._anchors, self._closed, self._open = {}, {}, set(), []
            return True
        self._feed(event)
        return True

    def _feed(self, event: Any) -> None:
        kind = type(event).__name__
        stack = self._open
        top = stack[-1] if stack else None
        if kind in ("MappingEndEvent", "SequenceEndEvent"):
            done = stack.pop()
            if done.path is not None:
                self._closed.add(done.path)
            if stack and done.role_key:
                if not done.is_map and done.scalars is not None:
                    stack[-1].key = tuple(done.scalars)
            elif stack:
                _advance(stack[-1])
            return
        if kind == "DocumentEndEvent":
            self._done = True
            return
        if kind not in ("ScalarEvent", "AliasEvent", "MappingStartEvent", "SequenceStartEvent"):
            return
        mark = event.start_mark
        at = (mark.line + 1, mark.column + 1)
        opens = kind in ("MappingStartEvent", "SequenceStartEvent")
        is_map = kind == "MappingStartEvent"
        if top is not None and top.is_map and top.expect_key:
            top.key = yamlio.key_value(event) if kind == "ScalarEvent" else COMPLEX_KEY
            top.key_at, top.expect_key = at, False
            if opens:
                stack.append(_Open(None, is_map, role_key=True, scalars=[]))
            return
        if top is not None and top.scalars is not None:
            if kind == "ScalarEvent" and not top.is_map:
                top.scalars.append(yamlio.key_value(event))
            else:
                top.scalars = None  # nested or a map: no path names it
        path: Path_ | None
        if top is None:
            path = ()
        elif top.path is None:
            path = None
        else:
            path = (*top.path, top.key if top.is_map else top.index)
        if path is not None and len(path) > self._max_depth:
            path = None
        if path is not None:
            alias = event.anchor if kind == "AliasEvent" else None
            key_at = top.key_at if top is not None and top.is_map else None
            self._nodes.setdefault(path, _Node(at, key_at, not opens, alias))
            if alias is None and event.anchor is not None:
                self._anchors[event.anchor] = path
        if opens:
            stack.append(_Open(path, is_map))
        elif top is not None:
            _advance(top)


def _advance(frame: _Open) -> None:
    if frame.is_map:
        frame.expect_key = True
    else:
        frame.index += 1
