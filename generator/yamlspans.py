"""Where each scalar of a YAML document sits in its text: exact spans for in-place edits."""

from __future__ import annotations

from dataclasses import dataclass

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
