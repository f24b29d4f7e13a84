"""The markdown report of a Diff: a pull-request comment that never exceeds its size limit."""

from __future__ import annotations

import re
from collections.abc import Sequence

from generator.diff.compare import BOOTSTRAP, Diff, Section
from generator.diff.files import ObjectDiff
from generator.diff.wording import (
    README_LINE,
    change_line,
    headline,
    name_list,
    plural,
    report_title,
    section_counts,
    show_value,
    side_label,
    what,
)

DEFAULT_MAX_CHARS = 65_000
MIN_MAX_CHARS = 2_000
# Section names longer than this are clipped in the truncation note.
NOTE_NAME_CHARS = 64
# Lets a CI job find and update its earlier comment instead of adding a new one.
MARKER = "<!-- gitops-gen diff -->"


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
        f"| {name_list(row.environments, md_cell)} |"
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
        f"### {report_title(diff, md_code)}",
        "",
        f"{side_label(diff.base, md_code)} → {side_label(diff.head, md_code)}",
        "",
    ]
    for note in diff.notes:
        lines += [f"_{note}_", ""]
    if names:
        lines += [headline(diff, md_code), ""]
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
    text = f"{changed} of {total} environment{plural(total)} change{'s' if total == 1 else ''}."
    if diff.bootstrap is not None and diff.bootstrap.status != "unchanged":
        count = len(diff.bootstrap.objects)
        text += (
            f" {count} shared bootstrap object{plural(count)} change{'s' if count == 1 else ''}."
        )
    return text


def _rows_left_out(count: int, some_shown: bool) -> str:
    if some_shown:
        return f"_{count} more summary rows left out to stay under the size limit._"
    return (
        f"_The summary ({count} row{plural(count)}) is left out to stay under the size limit; "
        "run `gitops-gen diff --format json` to see it._"
    )


def _cell(value: str | None) -> str:
    return md_cell(show_value(value)) if value is not None else ""


def _markdown_section(section: Section) -> str:
    label = "shared bootstrap objects" if section.name == BOOTSTRAP else section.name
    lines = [
        "<details>",
        f"<summary><b>{label}</b> — {section_counts(section)}</summary>",
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
                op, text = change_line(change, md_code)
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
        parts.append(
            f"{len(left_out)} of {total} sections are left out: {name_list(names, md_code)}"
        )
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
