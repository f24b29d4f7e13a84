"""gitops-gen status: where each environment stands."""

from __future__ import annotations

import click

from generator.cli._common import FORMAT_TEXT_JSON, emit_json, root


@click.command()
@click.option(
    "--remote",
    metavar="NAME|URL",
    help="Fetch the branches and notes from this remote (default: origin; the local branches "
    "when there is no origin).",
)
@click.option("--format", "fmt", type=FORMAT_TEXT_JSON, default="text", help="Output format.")
@click.pass_context
def status(ctx: click.Context, remote: str | None, fmt: str) -> None:
    """Per environment: branch heads, their dry commits, pending promotions, app versions."""
    from generator.promotion import state as promotion

    statuses = promotion.read_status(root(ctx), remote)
    if fmt == "json":
        emit_json({"environments": [s.to_json() for s in statuses]})
    else:
        click.echo(promotion.status_table(statuses), nl=False)
