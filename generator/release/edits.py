"""bump's edits: one scalar each, written in the old value's quoting style, every problem
collected before any is raised, and the edited text read back before it is written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from generator import yamlemit, yamlio
from generator.errors import Problem, UsageError
from generator.spec import naming
from generator.yamlspans import Path_, Span, scalar_spans


@dataclass(frozen=True, slots=True)
class Edit:
    """One scalar that bump changes."""

    file: str
    path: Path_
    line: int
    col: int
    old: str
    new: str
    span: Span = field(repr=False, compare=False)
    quote: bool = field(default=False, repr=False, compare=False)
    """Write the new value quoted even where the old one was plain (a Chart.yaml's appVersion)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.col,
            "path": yamlio.format_path(self.path),
            "old": self.old,
            "new": self.new,
        }

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}: {yamlio.format_path(self.path)}"
        return f"{where}: {self.old} -> {self.new}"


def _quote_plainly(text: str) -> bool:
    """True when a plain scalar would still read back as this string (in YAML 1.1 and 1.2)."""
    return yamlemit.is_plain_safe(text) or bool(naming.SEMVER.fullmatch(text) and "+" not in text)


def token_for(edit: Edit) -> str:
    """The new scalar's text in the old one's quoting style (plain stays plain where safe)."""
    style, new = edit.span.style, edit.new
    if style == "'":
        return "'" + new.replace("'", "''") + "'"
    if style == '"' or edit.quote or not _quote_plainly(new):
        return '"' + new.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return new


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Replace exactly the spans of ``edits``; every other character stays as it was."""
    for edit in sorted(edits, key=lambda e: e.span.start, reverse=True):
        text = text[: edit.span.start] + token_for(edit) + text[edit.span.end :]
    return text


class ProblemCollector:
    """Located input problems, all raised at once, so that one run reports every one."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file: str, span: Span | None, path: Path_, message: str) -> None:
        line, col = (span.line, span.col) if span is not None else (0, 0)
        self.problems.append(Problem(file, line, col, yamlio.format_path(path), message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise UsageError("\n".join(str(p) for p in self.problems))


def spans_of(file: str, text: str) -> dict[Path_, Span]:
    """Where each scalar of ``file`` sits; a file that does not parse is a located error."""
    try:
        return scalar_spans(text)
    except yamlio.YAMLLoadError as e:
        raise UsageError(str(Problem(file, e.line, e.col, e.path, e.message))) from None


def editable_span(
    out: ProblemCollector, file: str, spans: Mapping[Path_, Span], path: Path_
) -> Span | None:
    """The span of the scalar at ``path``, or None when there is none or bump cannot edit it."""
    span = spans.get(path)
    if span is None:
        return None
    if span.style == "*":
        out.add(
            file,
            span,
            path,
            "is an alias; bump edits plain or quoted scalars: write the value here",
        )
        return None
    if span.style in ("|", ">") or "\n" in span.value:
        out.add(file, span, path, "is a multi-line scalar; write the version on one line")
        return None
    return span


def check_version(
    out: ProblemCollector, file: str, span: Span, path: Path_, new: str, allow_downgrade: bool
) -> None:
    """``new`` below the semver set now is a problem, unless ``allow_downgrade``."""
    old = span.value
    lower = naming.SEMVER.fullmatch(old) and naming.semver_key(new) < naming.semver_key(old)
    if lower and not allow_downgrade:
        out.add(file, span, path, f"{new} is lower than the current {old}; pass --allow-downgrade")


def check_read_back(file: str, text: str, edits: Sequence[Edit]) -> None:
    """The edited text must read back with exactly the new values.

    Files whose layout bump cannot edit in place (unusual tags, complex keys, ...) end here: a
    located input error, the file left as it was.
    """
    first = min(edits, key=lambda e: e.span.start, default=None)
    if first is None:
        return
    hint = "bump leaves the file unchanged; set the value by hand"
    try:
        data = yamlio.load(text)
    except (yamlio.YAMLLoadError, ValueError, TypeError) as e:
        # ValueError/TypeError: a tag such as !!float or !!int that the new text does not fit.
        reason = e.message if isinstance(e, yamlio.YAMLLoadError) else str(e)
        problem = Problem(
            file, first.line, first.col, yamlio.format_path(first.path),
            f"the edited file would not read back ({reason}); {hint}",
        )  # fmt: skip
        raise UsageError(str(problem)) from None
    problems = []
    for edit in edits:
        node: Any = data
        try:
            for part in edit.path:
                node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
        if node != edit.new or type(node) is not str:
            problems.append(
                Problem(
                    file,
                    edit.line,
                    edit.col,
                    yamlio.format_path(edit.path),
                    f"would read back as {node!r}, not {edit.new!r}; {hint}",
                )
            )
    if problems:
        raise UsageError("\n".join(str(p) for p in problems))
