"""What the commands share: the -C root, JSON on stdout, the per-environment change report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

FORMAT_TEXT_JSON = click.Choice(["text", "json"])
# Above this many groups, unchanged environments are counted instead of listed.
LIST_UNCHANGED_UP_TO = 50


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
    """One line per environment (and bootstrap) on stderr."""
    counts = changes.by_group()
    unchanged = [name for name in names if name not in counts]
    listed = names if len(names) <= LIST_UNCHANGED_UP_TO else [n for n in names if n in counts]
    width = max((len(n) for n in listed), default=0)
    for name in listed:
        if name in counts:
            created, updated, removed = counts[name]
            click.echo(
                f"  {name:<{width}}  {created} created, {updated} updated, {removed} removed",
                err=True,
            )
        else:
            click.echo(f"  {name:<{width}}  unchanged", err=True)
    for name in sorted(set(counts) - set(names)):
        created, updated, removed = counts[name]
        click.echo(f"  {name}  {created} created, {updated} updated, {removed} removed", err=True)
    if len(names) > LIST_UNCHANGED_UP_TO and unchanged:
        click.echo(f"  ({len(unchanged)} unchanged)", err=True)
