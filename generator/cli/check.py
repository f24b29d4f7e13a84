"""gitops-gen check: is rendered/ what render would write?"""

from __future__ import annotations

import click

from generator.cli._common import FORMAT_TEXT_JSON, changes_json, emit_json, root


@click.command()
@click.option("--format", "fmt", type=FORMAT_TEXT_JSON, default="text", help="Report format.")
@click.pass_context
def check(ctx: click.Context, fmt: str) -> None:
    """Exit 1 with a unified diff when rendered/ is stale; writes nothing."""
    from generator.render.repository import check_repository

    changes, diff = check_repository(root(ctx))
    if fmt == "json":
        emit_json({**changes_json(changes), "stale": bool(changes)})
    elif diff:
        click.echo(diff, nl=False)
    if changes:
        total = len(changes.created) + len(changes.updated) + len(changes.removed)
        click.echo(
            f"rendered/ is stale: {total} file{' differs' if total == 1 else 's differ'}. "
            "Run `gitops-gen render` and commit the result.",
            err=True,
        )
        ctx.exit(1)
    click.echo("rendered/ is up to date", err=True)
