"""gitops-gen schema: the spec's JSON Schema."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator.cli._common import root


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to FILE (relative to -C DIR) instead of stdout; rewritten only when it "
    "changed. For the copy that spec files reference in their yaml-language-server line.",
)
@click.pass_context
def schema(ctx: click.Context, output: Path | None) -> None:
    """Print the JSON Schema (draft 2020-12) of the spec files."""
    from generator.scaffold.project import schema_text, write_schema

    if output is None:
        sys.stdout.write(schema_text())
        return
    changed = write_schema(root(ctx), output)
    click.echo(f"{output.as_posix()}: {'updated' if changed else 'up to date'}", err=True)
