"""Reports of a Diff: text (coloured on a terminal) and JSON here, markdown in markdown.py;
``render_report`` picks one."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from generator.diff.compare import Diff, Section, Side, SummaryRow
from generator.diff.data import MISSING, Change
from generator.diff.markdown import DEFAULT_MAX_CHARS, format_markdown
from generator.diff.wording import (
    README_LINE,
    change_line,
    headline,
    json_safe,
    name_list,
    report_title,
    section_counts,
    side_label,
    what,
)

_COLOURS = {"+": "green", "-": "red", "~": "yellow"}


def format_text(diff: Diff, color: bool = False) -> str:
    import click

    def style(text: str, **kwargs: Any) -> str:
        return click.style(text, **kwargs) if color else text

    lines = [
        style(report_title(diff), bold=True),
        f"{side_label(diff.base)} → {side_label(diff.head)}",
    ]
    lines += diff.notes
    lines.append(headline(diff))
    rows = diff.summary_rows()
    if rows:
        lines += ["", style("Summary", bold=True)]
        for row in rows:
            lines.append(f"  {_summary_text(row)}  [{name_list(row.environments)}]")
    for section in diff.sections:
        if section.status == "unchanged":
            continue
        title = f"{section.name} ({section_counts(section)})"
        lines += ["", style(title, bold=True)]
        if section.readme:
            lines.append(f"  {README_LINE}")
        for obj in section.objects:
            lines.append(f"  {obj.id} ({obj.status})" if obj.status != "changed" else f"  {obj.id}")
            if obj.note:
                lines.append(f"    {obj.note}")
            for change in obj.changes:
                op, text = change_line(change)
                lines.append("    " + style(f"{op} {text}", fg=_COLOURS[op]))
    return "\n".join(lines) + "\n"


def _summary_text(row: SummaryRow, code: Callable[[str], str] = str) -> str:
    head = what(row.kind, row.subject, code)
    if row.before is not None and row.after is not None:
        return f"{head}: {code(row.before)} → {code(row.after)}"
    value = row.after if row.after is not None else row.before
    return f"{head}: {code(value)}" if value is not None else head


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
                "changes": [change_json(c) for c in o.changes],
            }
            for o in section.objects
        ],
    }


def change_json(change: Change) -> dict[str, Any]:
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
