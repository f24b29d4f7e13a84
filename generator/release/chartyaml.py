"""bump's edits of a Helm Chart.yaml (``--chart-yaml``): its version, and its appVersion, which
is inserted after the version when the file has none."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from generator import yamlio
from generator.errors import Problem, UsageError
from generator.release.edits import (
    Edit,
    ProblemCollector,
    check_version,
    editable_span,
    spans_of,
    token_for,
)
from generator.yamlspans import Span, position


def edit_chart_yaml(
    out: ProblemCollector, root: Path, chart_yaml: Path, version: str, allow_downgrade: bool
) -> tuple[tuple[Path, str], str | None, list[Edit]]:
    """((path, path as shown), text, edits) of ``chart_yaml``; a file that is not a readable
    Chart.yaml stops at once, a value bump cannot edit is collected in ``out``."""
    display = chart_yaml.as_posix()
    path = chart_yaml if chart_yaml.is_absolute() else root / chart_yaml
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise UsageError(f"--chart-yaml: {display}: not found") from None
    except IsADirectoryError:
        raise UsageError(
            f"--chart-yaml: {display}: is a directory; name the Chart.yaml file"
        ) from None
    except UnicodeDecodeError as e:
        raise UsageError(f"--chart-yaml: {display}: is not UTF-8 text (byte {e.start})") from None
    try:
        data = yamlio.load(text)
    except yamlio.YAMLLoadError as e:
        raise UsageError(str(Problem(display, e.line, e.col, e.path, e.message))) from None
    if not isinstance(data, dict) or "version" not in data:
        raise UsageError(f"{display}: not a Helm Chart.yaml (it has no top-level version)")
    spans = spans_of(display, text)
    edits: list[Edit] = []
    span = editable_span(out, display, spans, ("version",))
    if span is not None:
        check_version(out, display, span, ("version",), version, allow_downgrade)
        if span.value != version:
            edits.append(
                Edit(display, ("version",), span.line, span.col, span.value, version, span)
            )
    app_span = editable_span(out, display, spans, ("appVersion",))
    if app_span is not None:
        if app_span.value != version or app_span.style is None:
            edits.append(
                Edit(
                    display,
                    ("appVersion",),
                    app_span.line,
                    app_span.col,
                    app_span.value,
                    version,
                    app_span,
                    True,
                )
            )
    elif ("appVersion",) not in spans and span is not None:
        edits.append(_insert_app_version(display, text, span, version))
    return (path, display), text, edits


def _insert_app_version(display: str, text: str, version: Span, new: str) -> Edit:
    """No appVersion yet: an empty span to fill, right after version's value.

    In a flow mapping (``{version: 1.0.0}``) it joins the mapping as ``, appVersion: "..."``;
    in a block mapping it goes on its own line after version's, at the key's indentation.
    """
    if version.flow:
        at = version.end
        line, col = position(text, at)
        empty = Span(at, at, line, col, "insert-flow", "")
    else:
        eol = text.find("\n", version.end)
        at = len(text) if eol < 0 else eol + 1
        indent = version.key_col
        newline = "\r\n" if text[at - 2 : at] == "\r\n" else "\n"
        line = position(text, version.end)[0] + 1
        empty = Span(at, at, line, indent + 1, "insert", " " * indent + newline)
    return Edit(display, ("appVersion",), empty.line, empty.col, "", new, empty, True)


def apply_chart_edits(text: str, edits: Sequence[Edit]) -> str:
    for edit in sorted(edits, key=lambda e: e.span.start, reverse=True):
        if edit.span.style == "insert-flow":
            token = f', appVersion: "{edit.new}"'
            text = text[: edit.span.start] + token + text[edit.span.start :]
        elif edit.span.style == "insert":
            indent, newline = edit.span.value.rstrip("\r\n"), edit.span.value.lstrip(" ")
            token = f'{indent}appVersion: "{edit.new}"{newline}'
            if edit.span.start == len(text) and not text.endswith("\n"):
                token = newline + token  # version was the last line, without a line break
            text = text[: edit.span.start] + token + text[edit.span.start :]
        else:
            text = text[: edit.span.start] + token_for(edit) + text[edit.span.end :]
    return text
