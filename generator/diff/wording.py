"""The words every report of a Diff shares: values on one line, what changed, the two sides,
the headline and the per-section counts."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from generator.diff.compare import Diff, Section, Side
from generator.diff.data import MISSING, Change
from generator.git.revisions import WORKING_TREE

MAX_VALUE_CHARS = 160
NAMES_SHOWN = 8
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


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float as its YAML spelling: ``.nan``, ``.inf``, ``-.inf``."""
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def what(kind: str, subject: str | None, code: Callable[[str], str] = str) -> str:
    return _WHAT.get(kind, kind).format(code(subject or ""))


def plural(count: int) -> str:
    return "" if count == 1 else "s"


def name_list(names: Sequence[str], code: Callable[[str], str] = str) -> str:
    shown = ", ".join(code(n) for n in names[:NAMES_SHOWN])
    more = len(names) - NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def side_label(side: Side, code: Callable[[str], str] = str) -> str:
    if side.commit is None and side.label == WORKING_TREE:
        return "the working tree"
    text = code(side.label)
    if side.commit and not side.commit.startswith(side.label):
        text += f" at {side.commit[:12]}"
    if side.dry_sha:
        text += f" (dry commit {side.dry_sha[:12]})"
    return text


def report_title(diff: Diff, code: Callable[[str], str] = str) -> str:
    if diff.mode == "promotion" and diff.environments:
        return f"gitops-gen diff: promotion of {code(diff.environments[0].name)}"
    if diff.mode == "between":
        return f"gitops-gen diff: drift from {code(diff.base.label)} to {code(diff.head.label)}"
    return "gitops-gen diff"


def headline(diff: Diff, code: Callable[[str], str] = str) -> str:
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
            f"{len(changed)} of {total} environment{plural(total)} change: "
            f"{name_list(changed, code)}."
        )
    else:
        parts.append("No environment changes." if total else "No environments.")
    if unchanged and changed:
        parts.append(f"Unchanged: {name_list(unchanged, code)}.")
    if diff.bootstrap is not None and diff.bootstrap.status != "unchanged":
        count = len(diff.bootstrap.objects)
        parts.append(
            f"{count} shared bootstrap object{plural(count)} change{'s' if count == 1 else ''}."
        )
    return " ".join(parts)


README_LINE = "README.md changed (documentation, not deployed)"


def section_counts(section: Section) -> str:
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


def change_line(change: Change, code: Callable[[str], str] = str) -> tuple[str, str]:
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
