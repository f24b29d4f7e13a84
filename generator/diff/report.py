"""Reports of a Diff: text (coloured on a terminal), markdown for a PR comment, and JSON."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from generator.diff.compare import BOOTSTRAP, Diff, ObjectDiff, Section, Side, SummaryRow
from generator.diff.data import MISSING, Change
from generator.git.revisions import WORKING_TREE

DEFAULT_MAX_CHARS = 65_000
MIN_MAX_CHARS = 2_000
MAX_VALUE_CHARS = 160
NAMES_SHOWN = 8
# Section names longer than this are clipped in the truncation note.
NOTE_NAME_CHARS = 64
# Lets a CI job find and update its earlier comment instead of adding a new one.
MARKER = "<!-- gitops-gen diff -->"

_NUMBER = re.compile(r"[-+]?(\d[\d_]*)?(\.\d*)?([eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_AMBIGUOUS = frozenset({"", "true", "false", "null", "~", "yes", "no", "on", "off", "y", "n"})

_WHAT = {
    "environment-added": "environment added",
    "environment-removed": "environment removed",
    "app-added": "{} added",
    "app-removed": "{} removed",
    "chart": "{} chart",
    "chart-version": "{} chart version",
    "image-tag": "{} image tag",
    "pull-policy": "{} pull policy",
    "namespace": "namespace",
    "cluster": "cluster",
    "auto-merge": "autoMerge",
    "active-gates": "gates before the next environment",
    "proposed-gates": "gates before this environment",
    "object-added": "{} added",
    "object-removed": "{} removed",
    "object-changed": "{} changed",
}


def show_value(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """A value on one line: strings bare unless they read as another type, the rest as JSON."""
    if isinstance(value, str):
        lowered = value.lower()
        ambiguous = (
            lowered in _AMBIGUOUS
            or bool(_NUMBER.fullmatch(value))
            or value != value.strip()
            or bool(_CONTROL.search(value))  # newlines, and escapes that would drive a terminal
        )
        text = json.dumps(value, ensure_ascii=False) if ambiguous else value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, (int, float)):
        text = str(json_safe(value))
    else:
        text = json.dumps(
            json_safe(value), ensure_ascii=False, default=str, separators=(", ", ": ")
        )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def what(kind: str, subject: str | None, code: Callable[[str], str] = str) -> str:
    return _WHAT.get(kind, kind).format(code(subject or ""))


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _names(names: Sequence[str], code: Callable[[str], str] = str) -> str:
    shown = ", ".join(code(n) for n in names[:NAMES_SHOWN])
    more = len(names) - NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def _side(side: Side, code: Callable[[str], str] = str) -> str:
    if side.commit is None and side.label == WORKING_TREE:
        return "the working tree"
    text = code(side.label)
    if side.commit and not side.commit.startswith(side.label):
        text += f" at {side.commit[:12]}"
    if side.dry_sha:
        text += f" (dry commit {side.dry_sha[:12]})"
    return text


def _title(diff: Diff, code: Callable[[str], str] = str) -> str:
    if diff.mode == "promotion" and diff.environments:
        return f"gitops-gen diff: promotion of {code(diff.environments[0].name)}"
    if diff.mode == "between":
        return f"gitops-gen diff: drift from {code(diff.base.label)} to {code(diff.head.label)}"
    return "gitops-gen diff"


def _headline(diff: Diff, code: Callable[[str], str] = str) -> str:
    """One sentence: how many environments change, which, and which do not."""
    changed = [s.name for s in diff.environments if s.status != "unchanged"]
    unchanged = [s.name for s in diff.environments if s.status == "unchanged"]
    if diff.mode == "between":
        section = diff.environments[0]
        return "The environments differ." if section.status != "unchanged" else "No drift."
    total = len(diff.environments)
    parts = []
    if total == 1:
        name = code(diff.environments[0].name)
        parts.append(f"{name} changes." if changed else f"{name} does not change.")
    elif changed:
        parts.append(
            f"{len(changed)} of {total} environment{_s(total)} change: {_names(changed, code)}."
        )
    else:
        parts.append("No environment changes." if total else "No environments.")
    if unchanged and changed:
        parts.append(f"Unchanged: {_names(unchanged, code)}.")
    if diff.bootstrap is not None and diff.bootstrap.status != "unchanged":
        count = len(diff.bootstrap.objects)
        parts.append(
            f"{count} shared bootstrap object{_s(count)} change{'s' if count == 1 else ''}."
        )
    return " ".join(parts)


README_LINE = "README.md changed (documentation, not deployed)"


def _counts(section: Section) -> str:
    paths = sum(len(o.changes) for o in section.objects)
    objects = len(section.objects)
    if section.readme and not objects and section.status == "changed":
        return f"{section.status}: README.md only"
    text = (
        f"{objects} object{'s' if objects != 1 else ''}, {paths} value{'s' if paths != 1 else ''}"
    )
    return (
        section.status
        if section.status in ("added", "removed") and not objects
        else f"{section.status}: {text}"
    )


def _change_line(change: Change, code: Callable[[str], str] = str) -> tuple[str, str]:
    """(op marker, text) of one changed path."""
    if change.before is MISSING:
        return "+", f"{code(change.path)}: {code(show_value(change.after))}"
    if change.after is MISSING:
        return "-", f"{code(change.path)}: {code(show_value(change.before))}"
    return (
        "~",
        f"{code(change.path)}: {code(show_value(change.before))} → "
        f"{code(show_value(change.after))}",
    )


# --- text ---------------------------------------------------------------------------------------

_COLOURS = {"+": "green", "-": "red", "~": "yellow"}


def format_text(diff: Diff, color: bool = False) -> str:
    import click

    def style(text: str, **kwargs: Any) -> str:
        return click.style(text, **kwargs) if color else text

    lines = [style(_title(diff), bold=True), f"{_side(diff.base)} → {_side(diff.head)}"]
    lines += diff.notes
    lines.append(_headline(diff))
    rows = diff.summary_rows()
    if rows:
        lines += ["", style("Summary", bold=True)]
        for row in rows:
            lines.append(f"  {_summary_text(row)}  [{_names(row.environments)}]")
    for section in diff.sections:
        if section.status == "unchanged":
            continue
        title = f"{section.name} ({_counts(section)})"
        lines += ["", style(title, bold=True)]
        if section.readme:
            lines.append(f"  {README_LINE}")
        for obj in section.objects:
            lines.append(f"  {obj.id} ({obj.status})" if obj.status != "changed" else f"  {obj.id}")
            if obj.note:
                lines.append(f"    {obj.note}")
            for change in obj.changes:
                op, text = _change_line(change)
                lines.append("    " + style(f"{op} {text}", fg=_COLOURS[op]))
    return "\n".join(lines) + "\n"


def _summary_text(row: SummaryRow, code: Callable[[str], str] = str) -> str:
    head = what(row.kind, row.subject, code)
    if row.before is not None and row.after is not None:
        return f"{head}: {code(row.before)} → {code(row.after)}"
    value = row.after if row.after is not None else row.before
    return f"{head}: {code(value)}" if value is not None else head


# --- markdown -----------------------------------------------------------------------------------


def md_code(text: str, table: bool = False) -> str:
    """Inline code that survives backticks; pipes are escaped only for a table cell (``table``),
    where GitHub needs ``\\|``; anywhere else the backslash would show literally."""
    text = text.replace("\n", " ")
    if table:
        text = text.replace("|", "\\|")
    if "`" not in text:
        return f"`{text}`"
    fence = "`" * (max(len(run) for run in re.findall(r"`+", text)) + 1)
    return f"{fence} {text} {fence}"


def md_cell(text: str) -> str:
    """Inline code inside a table cell."""
    return md_code(text, table=True)


def format_markdown(diff: Diff, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """A pull request comment: header and summary table, then one <details> per section.

    It never exceeds ``max_chars`` (at least MIN_MAX_CHARS). When everything does not fit, room is
    first kept for the truncation note (its longest possible text), then the header takes what it
    needs (summary rows, then the headline's names, give way with a note when it would not fit),
    and the sections fill what is left; sections that do not fit are cut short or left out.
    """
    max_chars = max(max_chars, MIN_MAX_CHARS)
    blocks = [(s.name, _markdown_section(s)) for s in diff.sections if s.status != "unchanged"]
    head, whole = _markdown_head(diff, max_chars)
    out = _finish(head + "".join(block for _, block in blocks))
    if whole and len(out) <= max_chars:
        return out
    names = [name for name, _ in blocks]
    reserve = len(_worst_truncation_note(max_chars, names)) if blocks else 0
    head, whole = _markdown_head(diff, max_chars - reserve)
    out = head
    room = max_chars - reserve - len(head)
    left_out: list[str] = []
    cut_short: str | None = None
    for index, (name, block) in enumerate(blocks):
        if len(block) <= room:
            out += block
            room -= len(block)
            continue
        partial = _cut(block, room)
        if partial:
            out += partial
            cut_short = name
        left_out = names[index + (1 if partial else 0) :]
        break
    if left_out or cut_short:
        out += _truncation_note(max_chars, left_out, cut_short, len(blocks), whole)
    return _finish(out)


def _finish(text: str) -> str:
    """Exactly one line break at the end (never longer than ``text``, which ends with one)."""
    return text.rstrip("\n") + "\n"


_TABLE_HEAD = ("| change | before | after | environments |", "|---|---|---|---|")


def _markdown_head(diff: Diff, budget: int) -> tuple[str, bool]:
    """The header within ``budget`` characters where possible, and whether its summary is whole.

    In order, until it fits: every summary row; as many rows as fit, with a note of how many are
    left out; the headline without environment names; a bounded minimal header.
    """
    rows = [
        f"| {what(row.kind, row.subject, md_cell)} "
        f"| {_cell(row.before)} | {_cell(row.after)} "
        f"| {_names(row.environments, md_cell)} |"
        for row in diff.summary_rows()
    ]
    table = [*_TABLE_HEAD, *rows, ""] if rows else []
    for intro in (_intro(diff, names=True), _intro(diff, names=False)):
        text = _lines(intro + table)
        if len(text) <= budget:
            return text, True
        kept: list[str] = []
        note = max(_rows_left_out(len(rows), True), _rows_left_out(len(rows), False), key=len)
        room = budget - len(_lines([*intro, *_TABLE_HEAD, "", note, ""]))
        for row in rows:
            if len(row) + 1 > room:
                break
            kept.append(row)
            room -= len(row) + 1
        if room < 0:
            continue
        dropped = len(rows) - len(kept)
        lines = intro + ([*_TABLE_HEAD, *kept, ""] if kept else [])
        return _lines([*lines, _rows_left_out(dropped, bool(kept)), ""]), False
    minimal = [
        MARKER,
        "### gitops-gen diff",
        "",
        _short_headline(diff),
        "",
        "_The revisions, the headline's names and the summary are left out to stay under the size "
        "limit; run `gitops-gen diff --format json` to see them._",
        "",
    ]
    return _lines(minimal), False


def _lines(lines: Sequence[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _intro(diff: Diff, names: bool) -> list[str]:
    lines = [
        MARKER,
        f"### {_title(diff, md_code)}",
        "",
        f"{_side(diff.base, md_code)} → {_side(diff.head, md_code)}",
        "",
    ]
    for note in diff.notes:
        lines += [f"_{note}_", ""]
    if names:
        lines += [_headline(diff, md_code), ""]
    else:
        lines += [
            _short_headline(diff) + " _(Names left out to stay under the size limit.)_",
            "",
        ]
    return lines


def _short_headline(diff: Diff) -> str:
    """The headline with counts only: its length does not depend on any name."""
    changed = sum(s.status != "unchanged" for s in diff.environments)
    total = len(diff.environments)
    text = f"{changed} of {total} environment{_s(total)} change{'s' if total == 1 else ''}."
    if diff.bootstrap is not None and diff.bootstrap.status != "unchanged":
        count = len(diff.bootstrap.objects)
        text += f" {count} shared bootstrap object{_s(count)} change{'s' if count == 1 else ''}."
    return text


def _rows_left_out(count: int, some_shown: bool) -> str:
    if some_shown:
        return f"_{count} more summary rows left out to stay under the size limit._"
    return (
        f"_The summary ({count} row{_s(count)}) is left out to stay under the size limit; "
        "run `gitops-gen diff --format json` to see it._"
    )


def _cell(value: str | None) -> str:
    return md_cell(show_value(value)) if value is not None else ""


def _markdown_section(section: Section) -> str:
    label = "shared bootstrap objects" if section.name == BOOTSTRAP else section.name
    lines = [
        "<details>",
        f"<summary><b>{label}</b> — {_counts(section)}</summary>",
        "",
    ]
    if section.readme:
        lines += [f"_{md_code('README.md')}{README_LINE.removeprefix('README.md')}._", ""]
    for obj in section.objects:
        lines += [_markdown_object_title(obj), ""]
        if obj.note:
            lines += [f"_{obj.note}_", ""]
        if obj.changes:
            for change in obj.changes:
                op, text = _change_line(change, md_code)
                lines.append(f"- {_OP_WORDS[op]}{text}")
            lines.append("")
    lines += ["</details>", ""]
    return "\n".join(lines) + "\n"


_OP_WORDS = {"+": "added ", "-": "removed ", "~": ""}


def _markdown_object_title(obj: ObjectDiff) -> str:
    status = "" if obj.status == "changed" else f" ({obj.status})"
    return f"**{md_code(obj.id)}**{status}"


def _cut(block: str, room: int) -> str:
    """The first lines of a section that fit in ``room``, closed; "" if nothing useful fits."""
    closing = "- …\n\n</details>\n\n"
    lines = block.splitlines(keepends=True)
    out = ""
    for line in lines:
        if len(out) + len(line) + len(closing) > room:
            break
        out += line
    if out.count("\n") < 4:
        return ""
    return out + closing


def _truncation_note(
    max_chars: int, left_out: Sequence[str], cut_short: str | None, total: int, whole: bool
) -> str:
    parts = []
    if cut_short:
        parts.append(f"the details of {md_code(_note_name(cut_short))} are cut short")
    if left_out:
        names = [_note_name(n) for n in left_out]
        parts.append(f"{len(left_out)} of {total} sections are left out: {_names(names, md_code)}")
    return (
        f"> **Truncated** to stay under {max_chars:,} characters: {'; '.join(parts)}. "
        + ("The summary above is complete. " if whole else "")
        + "Run `gitops-gen diff --env ENV` (or `--format json`) "
        "to see every change.\n"
    )


def _note_name(name: str) -> str:
    """A section's name as the note shows it: bounded, so the note's length is too."""
    name = "shared bootstrap objects" if name == BOOTSTRAP else name
    return name if len(name) <= NOTE_NAME_CHARS else name[: NOTE_NAME_CHARS - 1] + "…"


def _worst_truncation_note(max_chars: int, names: Sequence[str]) -> str:
    """The longest note any truncation of these sections can need.

    Every part of a real note is at most as long as here: the cut-short name is the longest, the
    first names listed are the longest, and the counts have the most digits.
    """
    by_length = sorted(names, key=lambda n: len(md_code(_note_name(n))), reverse=True)
    return _truncation_note(max_chars, by_length, by_length[0], len(names), True)


# --- json ---------------------------------------------------------------------------------------


def to_json(diff: Diff) -> dict[str, Any]:
    return {
        "mode": diff.mode,
        "base": _side_json(diff.base),
        "head": _side_json(diff.head),
        "changed": diff.changed,
        "notes": list(diff.notes),
        "summary": [
            {
                "kind": row.kind,
                "subject": row.subject,
                "before": row.before,
                "after": row.after,
                "environments": list(row.environments),
            }
            for row in diff.summary_rows()
        ],
        "environments": [_section_json(s) for s in diff.environments],
        "bootstrap": _section_json(diff.bootstrap) if diff.bootstrap else None,
    }


def format_json(diff: Diff) -> str:
    """Strict JSON (no NaN or Infinity, which most readers reject): see ``json_safe``."""
    data = json_safe(to_json(diff))
    text = json.dumps(
        data, indent=2, sort_keys=True, ensure_ascii=False, default=str, allow_nan=False
    )
    return text + "\n"


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float as its YAML spelling: ``.nan``, ``.inf``, ``-.inf``."""
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def _side_json(side: Side) -> dict[str, Any]:
    return {"label": side.label, "commit": side.commit, "drySha": side.dry_sha}


def _section_json(section: Section) -> dict[str, Any]:
    return {
        "name": section.name,
        "status": section.status,
        "readmeChanged": section.readme,
        "summary": [
            {"kind": i.kind, "subject": i.subject, "before": i.before, "after": i.after}
            for i in section.summary
        ],
        "objects": [
            {
                "id": o.id,
                "kind": o.kind,
                "status": o.status,
                "note": o.note,
                "changes": [_change_json(c) for c in o.changes],
            }
            for o in section.objects
        ],
    }


def _change_json(change: Change) -> dict[str, Any]:
    out: dict[str, Any] = {"path": change.path, "op": change.op}
    if change.before is not MISSING:
        out["before"] = change.before
    if change.after is not MISSING:
        out["after"] = change.after
    return out


def render_report(diff: Diff, fmt: str, max_chars: int | None = None, color: bool = False) -> str:
    if fmt == "json":
        return format_json(diff)
    if fmt == "markdown":
        return format_markdown(diff, DEFAULT_MAX_CHARS if max_chars is None else max_chars)
    return format_text(diff, color)
