"""gitops-gen bump: set a release's version pins in the spec."""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli._common import FORMAT_TEXT_JSON, emit_json, root


@click.command()
@click.argument("version")
@click.option(
    "--app",
    "apps",
    multiple=True,
    metavar="NAME",
    help="App to bump (repeatable; required when the project has more than one).",
)
@click.option("--image-tag", metavar="TAG", help="Image tag to pin (default: v<VERSION>).")
@click.option(
    "--chart-yaml",
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="Also set version and appVersion in this Helm Chart.yaml (relative to -C DIR).",
)
@click.option(
    "--allow-downgrade", is_flag=True, help="Accept a version lower than the current one."
)
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--format", "fmt", type=FORMAT_TEXT_JSON, default="text", help="Report format.")
@click.pass_context
def bump(
    ctx: click.Context,
    version: str,
    apps: tuple[str, ...],
    image_tag: str | None,
    chart_yaml: Path | None,
    allow_downgrade: bool,
    dry_run: bool,
    fmt: str,
) -> None:
    """Set the release VERSION in the spec (chart version, image tag), then render.

    Only the changed scalars are rewritten: comments, key order, quoting and blank lines stay.
    Pins in environment files are left alone and reported.
    """
    from generator.release.bump import bump_repository

    result = bump_repository(
        root(ctx),
        version,
        apps=apps,
        image_tag=image_tag,
        chart_yaml=chart_yaml,
        allow_downgrade=allow_downgrade,
        dry_run=dry_run,
    )
    if fmt == "json":
        emit_json(result.to_json())
    for edit in result.edits:
        click.echo(str(edit), err=True)
    if not result.edits:
        click.echo(f"already at {result.version}: nothing to change", err=True)
    for override in result.overrides:
        click.echo(("note: " if override.mutable else "warning: ") + str(override), err=True)
    if result.rendered is None:
        click.echo("dry run: nothing written", err=True)
    else:
        click.echo("rendered/: " + ("updated" if result.rendered else "up to date"), err=True)
