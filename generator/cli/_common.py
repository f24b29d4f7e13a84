"""What the commands share: the -C root, JSON on stdout, the per-environment change report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

FORMAT_TEXT_JSON = click.Choice(["text", "json"])
# Above this many groups, unchanged environments are counted instead of listed.
LIST_UNCHANGED_UP_TO = 20
# Above this many changed groups, render prints totals and a few names instead of a line each.
SUMMARY_OVER = 20
SUMMARY_NAMES = 5


def root(ctx: click.Context) -> Path:
    """The repository folder: ``-C DIR``, resolved, or the current directory."""
    folder: Path = ctx.find_root().obj
    return folder


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


def changes_json(changes: Any) -> dict[str, Any]:
    return {
        "created": changes.created,
        "updated": changes.updated,
        "removed": changes.removed,
        "changed": bool(changes),
    }


def report_groups(changes: Any, names: list[str]) -> None:
    """What changed, on stderr: a line per environment (and bootstrap), or, when more than
    SUMMARY_OVER of them changed, the totals and the first few names (``--format json`` lists all).
    """
    counts = changes.by_group()
    ordered = [*names, *sorted(set(counts) - set(names))]
    changed = [name for name in ordered if name in counts]
    unchanged = [name for name in names if name not in counts]
    if len(changed) > SUMMARY_OVER:
        totals = [sum(counts[name][i] for name in changed) for i in range(3)]
        first = ", ".join(changed[:SUMMARY_NAMES])
        click.echo(
            f"  {len(changed)} changed ({totals[0]} created, {totals[1]} updated, "
            f"{totals[2]} removed): {first}, … (--format json lists them all)",
            err=True,
        )
        if unchanged:
            click.echo(f"  {len(unchanged)} unchanged", err=True)
        return
    listed = names if len(names) <= LIST_UNCHANGED_UP_TO else changed
    width = max((len(n) for n in [*listed, *changed]), default=0)
    for name in [*listed, *(n for n in changed if n not in listed)]:
        if name in counts:
            created, updated, removed = counts[name]
            click.echo(
                f"  {name:<{width}}  {created} created, {updated} updated, {removed} removed",
                err=True,
            )
        else:
            click.echo(f"  {name:<{width}}  unchanged", err=True)
    if len(names) > LIST_UNCHANGED_UP_TO and unchanged:
        click.echo(f"  ({len(unchanged)} unchanged)", err=True)
