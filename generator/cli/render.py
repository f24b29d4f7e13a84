"""gitops-gen render: the spec into rendered/."""

from __future__ import annotations

import click

from generator.cli._common import FORMAT_TEXT_JSON, changes_json, emit_json, report_groups, root


@click.command()
@click.option("--format", "fmt", type=FORMAT_TEXT_JSON, default="text", help="Report format.")
@click.pass_context
def render(ctx: click.Context, fmt: str) -> None:
    """Render environments/ into rendered/ (atomically; unchanged files are not rewritten)."""
    from generator.render.repository import render_repository

    rendered, changes = render_repository(root(ctx))
    names = ["bootstrap", *(env.name for env in rendered.spec.environments)]
    if fmt == "json":
        emit_json(changes_json(changes))
    created = (
        changes
        and not (changes.updated or changes.removed)
        and len(changes.created) == len(rendered.paths)
    )
    state = "created" if created else "updated" if changes else "up to date"
    click.echo(f"rendered/: {state}", err=True)
    report_groups(changes, names)
