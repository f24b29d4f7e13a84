"""gitops-gen verify: real Helm on every app of every environment, as Argo CD would run it."""

from __future__ import annotations

import click

from generator.cli._common import FORMAT_TEXT_JSON, emit_json, root


@click.command()
@click.option(
    "--env", "envs", multiple=True, metavar="ENV", help="Only this environment (repeatable)."
)
@click.option("--app", "apps", multiple=True, metavar="APP", help="Only this app (repeatable).")
@click.option(
    "--helm",
    "helm_path",
    metavar="PATH",
    help="The helm binary (Helm 3 or 4; default: $GITOPS_GEN_HELM, else helm on PATH).",
)
@click.option(
    "--plain-http",
    is_flag=True,
    help="Reach OCI registries over plain HTTP (a loopback or in-cluster registry).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=0),
    default=0,
    help="Environments x apps verified at once (default 0: the number of cores).",
)
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option(
    "--kube-version",
    metavar="X.Y",
    help="Kubernetes version to render and validate for (default: the newest bundled schemas).",
)
@click.option(
    "--api-versions",
    "api_versions",
    multiple=True,
    metavar="GROUP/VERSION",
    help="An API version the cluster serves, for charts that test .Capabilities (repeatable; "
    "added to those listed in api-versions.txt at the repository root).",
)
@click.option(
    "--skip-schemas",
    is_flag=True,
    help="Don't check objects against the Kubernetes schemas (needs gitops-gen[verify]).",
)
@click.option("--format", "fmt", type=FORMAT_TEXT_JSON, default="text", help="Report format.")
@click.pass_context
def verify(
    ctx: click.Context,
    envs: tuple[str, ...],
    apps: tuple[str, ...],
    helm_path: str | None,
    plain_http: bool,
    jobs: int,
    strict: bool,
    kube_version: str | None,
    api_versions: tuple[str, ...],
    skip_schemas: bool,
    fmt: str,
) -> None:
    """Run real Helm on each app of each environment in rendered/, as Argo CD would, and report
    what only Helm shows: template errors, values the chart ignores, mutable images in pinned
    environments, pull policies, objects outside their namespace, and objects invalid for the
    Kubernetes version. Exit 1 on errors (and on warnings with --strict)."""
    from generator.helm.runner import find_helm
    from generator.verify.report import text_report
    from generator.verify.run import Options, verify_repository

    helm = find_helm(helm_path, plain_http=plain_http)
    options = Options(
        envs=envs,
        apps=apps,
        jobs=jobs,
        kube_version=kube_version,
        api_versions=api_versions,
        schemas=not skip_schemas,
    )
    result = verify_repository(root(ctx), helm, options)
    if fmt == "json":
        emit_json(result.to_json())
    else:
        click.echo(text_report(result), nl=False)
    errors, warnings = result.count("error"), result.count("warning")
    click.echo(
        f"verify: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}",
        err=True,
    )
    ctx.exit(1 if errors or (strict and warnings) else 0)
