"""gitops-gen publish: rendered environments onto their -next branches."""

from __future__ import annotations

import click

from generator.cli._common import FORMAT_TEXT_JSON, emit_json, root


@click.command()
@click.option(
    "--push",
    is_flag=True,
    help="Push to the remote (one atomic push) instead of updating local branches.",
)
@click.option(
    "--remote", metavar="NAME|URL", help="The remote to fetch from and push to (default: origin)."
)
@click.option(
    "--env", "envs", multiple=True, metavar="ENV", help="Only this environment (repeatable)."
)
@click.option("--dry-run", is_flag=True, help="Report what would happen; write and push nothing.")
@click.option(
    "--author", metavar='"NAME <EMAIL>"', help="Author and committer of the commits publish makes."
)
@click.option(
    "--format", "fmt", type=FORMAT_TEXT_JSON, default="text", help="Report format (json on stdout)."
)
@click.pass_context
def publish(
    ctx: click.Context,
    push: bool,
    remote: str | None,
    envs: tuple[str, ...],
    dry_run: bool,
    author: str | None,
    fmt: str,
) -> None:
    """Publish HEAD's rendered environments onto their <prefix><env>-next branches."""
    from generator.publish import branches
    from generator.publish.results import describe
    from generator.render.progress import THRESHOLD, phases

    identity = branches.Identity.parse(author) if author else branches.DEFAULT_IDENTITY
    # Every environment is published unless --env names a few.
    with phases(len(envs) or THRESHOLD + 1) as say:
        result = branches.publish(
            root(ctx),
            only=envs,
            push=push,
            remote=remote,
            dry_run=dry_run,
            identity=identity,
            progress=say,
        )
    if fmt == "json":
        emit_json(result.to_json())
    for line in describe(result):
        click.echo(line, err=True)
