"""gitops-gen init: scaffold a new GitOps repository."""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli._common import root


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--name",
    help="Project name: a DNS-1123 label of at most 53 characters, Helm's limit for the release "
    "name the app takes from it (default: the directory's name).",
)
@click.option("--chart", metavar="oci://REGISTRY/PATH/CHART", help="The app's Helm chart.")
@click.option("--version", "version", default="0.1.0", show_default=True, help="Chart version.")
@click.option("--repo-url", metavar="URL", help="This repository's https:// URL (for Argo CD).")
@click.pass_context
def init(
    ctx: click.Context,
    directory: Path,
    name: str | None,
    chart: str | None,
    version: str,
    repo_url: str | None,
) -> None:
    """Scaffold a GitOps repository in DIRECTORY that renders and passes check as it is.

    Writes environments/ (staging, demo, prod), a README, .pre-commit-config.yaml, .gitignore and
    the schema copy, then renders. Never overwrites: refuses when any of them exists.
    """
    from generator.scaffold.project import init_repository

    target = directory if directory.is_absolute() else root(ctx) / directory
    result = init_repository(target, name=name, chart=chart, version=version, repo_url=repo_url)
    for path in result.files:
        if not path.startswith("rendered/"):
            click.echo(f"  created {path}", err=True)
    rendered = sum(1 for p in result.files if p.startswith("rendered/"))
    click.echo(f"  rendered {rendered} files into rendered/", err=True)
    click.echo(
        "Next: set project.repoURL and project.scm in environments/_project.yaml, run "
        "`gitops-gen render`, then commit.",
        err=True,
    )
