"""gitops-gen commit-status: a CommitStatus manifest for a gate."""

from __future__ import annotations

import click

from generator.cli._common import root


@click.command("commit-status")
@click.option(
    "--env",
    "env",
    required=True,
    metavar="ENV",
    help="The environment whose active head gets the status.",
)
@click.option(
    "--key", required=True, help="The gate's commit-status key (the label the Promoter matches)."
)
@click.option(
    "--phase",
    required=True,
    type=click.Choice(["pending", "success", "failure"]),
    help="What the gate does with the commit: pending holds the promotion, success opens the "
    "gate, failure blocks it.",
)
@click.option("--url", help="Link shown with the status (http or https).")
@click.option("--description", default="", help="Short description.")
@click.option("--sha", help="The commit (full SHA); default: the head of ENV's active branch.")
@click.option("--remote", metavar="NAME|URL", help="Read the active head from this remote.")
@click.pass_context
def commit_status(
    ctx: click.Context,
    env: str,
    key: str,
    phase: str,
    url: str | None,
    description: str,
    sha: str | None,
    remote: str | None,
) -> None:
    """Print a CommitStatus manifest for kubectl apply -f -."""
    from generator.promotion import state as promotion

    manifest = promotion.commit_status(
        root(ctx), env, key, phase, url=url, description=description, sha=sha, remote=remote
    )
    click.echo(manifest, nl=False)
