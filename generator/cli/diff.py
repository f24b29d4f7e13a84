"""gitops-gen diff: what a change, a promotion or a drift does to each environment."""

from __future__ import annotations

import sys

import click

from generator.cli._common import root


@click.command("diff")
@click.argument("revisions", nargs=-1, metavar="[BASE [HEAD]]")
@click.option(
    "--promotion", metavar="ENV", help="Compare ENV's active branch with its -next branch."
)
@click.option("--between", nargs=2, metavar="ENV_A ENV_B", help="Drift between two environments.")
@click.option(
    "--env", "envs", multiple=True, metavar="ENV", help="Only this environment (repeatable)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    help="Report format.",
)
@click.option(
    "--max-chars",
    type=click.IntRange(min=2000),
    default=None,
    help="Markdown size limit (default 65000); details are truncated to fit, the summary is kept.",
)
@click.option(
    "--remote",
    metavar="NAME|URL",
    help="With --promotion: fetch the branches and notes from this remote (default: origin; the "
    "local branches when there is no origin).",
)
@click.option(
    "--manifests",
    is_flag=True,
    help="Also compare the Kubernetes objects Argo CD will apply: each side's changed wrapper "
    "charts rendered with real Helm, Secret values and generated fields masked.",
)
@click.option(
    "--helm",
    "helm_path",
    metavar="PATH",
    help="With --manifests: the helm binary (default: $GITOPS_GEN_HELM, else helm on PATH).",
)
@click.option(
    "--plain-http", is_flag=True, help="With --manifests: reach OCI registries over plain HTTP."
)
@click.pass_context
def diff_command(
    ctx: click.Context,
    revisions: tuple[str, ...],
    promotion: str | None,
    between: tuple[str, str] | None,
    envs: tuple[str, ...],
    fmt: str,
    max_chars: int | None,
    remote: str | None,
    manifests: bool,
    helm_path: str | None,
    plain_http: bool,
) -> None:
    """What a change (BASE → HEAD, default: merge-base with the default branch → working tree),
    a promotion, or the drift between two environments does; exit 1 when anything differs."""
    import os

    from generator.diff.compare import diff_repository
    from generator.diff.report import render_report

    if (helm_path or plain_http) and not manifests:
        raise click.UsageError("--helm and --plain-http only apply to --manifests")
    helm = None
    if manifests:
        from generator.helm.runner import find_helm

        helm = find_helm(helm_path, plain_http=plain_http)  # a missing helm fails before any work
    result = diff_repository(
        root(ctx),
        revisions,
        promotion=promotion,
        between=between or None,
        envs=envs,
        remote=remote,
    )
    color = fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    if helm is None:
        click.echo(render_report(result, fmt, max_chars, color), nl=False, color=color or None)
        ctx.exit(1 if result.changed else 0)
    from generator.diff.combined import manifest_diff_for, render_combined

    objects = manifest_diff_for(root(ctx), result, helm, between=between or None)
    click.echo(
        render_combined(result, objects, fmt, max_chars, color), nl=False, color=color or None
    )
    ctx.exit(1 if result.changed or objects.changed else 0)
