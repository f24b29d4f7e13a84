"""The command line: parse options, call one core function, print, map errors to exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from generator import __version__
from generator.errors import GitopsGenError

FORMAT_TEXT_JSON = click.Choice(["text", "json"])
# Above this many groups, unchanged environments are counted instead of listed.
LIST_UNCHANGED_UP_TO = 50


class _Group(click.Group):
    """Turns expected errors into one clear message and their exit code; bugs keep a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GitopsGenError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(e.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=".",
    help="Run as if started in DIR (like git -C).",
)
@click.version_option(__version__, prog_name="gitops-gen")
@click.pass_context
def main(ctx: click.Context, directory: Path) -> None:
    """Render GitOps environments and publish them onto the GitOps Promoter's branches."""
    ctx.obj = directory.resolve()


def _root(ctx: click.Context) -> Path:
    root: Path = ctx.find_root().obj
    return root


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


def _changes_json(changes: Any) -> dict[str, Any]:
    return {
        "created": changes.created,
        "updated": changes.updated,
        "removed": changes.removed,
        "changed": bool(changes),
    }


def _report_groups(changes: Any, names: list[str]) -> None:
    """One line per environment (and bootstrap) on stderr."""
    counts = changes.by_group()
    unchanged = [name for name in names if name not in counts]
    listed = names if len(names) <= LIST_UNCHANGED_UP_TO else [n for n in names if n in counts]
    width = max((len(n) for n in listed), default=0)
    for name in listed:
        if name in counts:
            created, updated, removed = counts[name]
            click.echo(
                f"  {name:<{width}}  {created} created, {updated} updated, {removed} removed",
                err=True,
            )
        else:
            click.echo(f"  {name:<{width}}  unchanged", err=True)
    for name in sorted(set(counts) - set(names)):
        created, updated, removed = counts[name]
        click.echo(f"  {name}  {created} created, {updated} updated, {removed} removed", err=True)
    if len(names) > LIST_UNCHANGED_UP_TO and unchanged:
        click.echo(f"  ({len(unchanged)} unchanged)", err=True)


@main.command()
@click.option("--format", "fmt", type=FORMAT_TEXT_JSON, default="text", help="Report format.")
@click.pass_context
def render(ctx: click.Context, fmt: str) -> None:
    """Render environments/ into rendered/ (atomically; unchanged files are not rewritten)."""
    from generator.api import render_repository

    plan, changes = render_repository(_root(ctx))
    names = ["bootstrap", *(env.name for env in plan.spec.environments)]
    if fmt == "json":
        _emit_json(_changes_json(changes))
    created = (
        changes
        and not (changes.updated or changes.removed)
        and len(changes.created) == len(plan.files)
    )
    state = "created" if created else "updated" if changes else "up to date"
    click.echo(f"rendered/: {state}", err=True)
    _report_groups(changes, names)


@main.command()
@click.option("--format", "fmt", type=FORMAT_TEXT_JSON, default="text", help="Report format.")
@click.pass_context
def check(ctx: click.Context, fmt: str) -> None:
    """Exit 1 with a unified diff when rendered/ is stale; writes nothing."""
    from generator.api import check_repository

    changes, diff = check_repository(_root(ctx))
    if fmt == "json":
        _emit_json({**_changes_json(changes), "stale": bool(changes)})
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


@main.command()
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
    from generator.scaffold import schema_text, write_schema

    if output is None:
        sys.stdout.write(schema_text())
        return
    changed = write_schema(_root(ctx), output)
    click.echo(f"{output.as_posix()}: {'updated' if changed else 'up to date'}", err=True)


# --- release: tags, bump, init ---------------------------------------------------------------
# Shell completion comes from click: add one of these lines to the shell's start-up file.
#   bash: eval "$(_GITOPS_GEN_COMPLETE=bash_source gitops-gen)"
#   zsh:  eval "$(_GITOPS_GEN_COMPLETE=zsh_source gitops-gen)"
#   fish: _GITOPS_GEN_COMPLETE=fish_source gitops-gen | source


@main.command()
@click.option("--version", "version", required=True, help="The release's semver version (1.0.70).")
@click.option(
    "--commit", required=True, help="The released commit: 40 hex digits (64 for SHA-256)."
)
@click.option("--prefix", default="v", show_default=True, help="Prefix of the version tag.")
@click.option(
    "--extra", "extra", multiple=True, metavar="TAG", help="An extra static tag (repeatable)."
)
@click.option("--format", "fmt", type=FORMAT_TEXT_JSON, default="text", help="Output format.")
def tags(version: str, commit: str, prefix: str, extra: tuple[str, ...], fmt: str) -> None:
    """Print the OCI tags a release pushes, one per line: v<VERSION>, sha-<COMMIT>, latest.

    A pre-release (1.0.70-rc.1) does not move latest.
    """
    from generator.tags import release_tags

    result = release_tags(version, commit, prefix=prefix, extra=extra)
    if fmt == "json":
        _emit_json(result.to_json())
    else:
        for tag in result.tags:
            click.echo(tag)


@main.command()
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
    from generator.bump import bump_repository

    result = bump_repository(
        _root(ctx),
        version,
        apps=apps,
        image_tag=image_tag,
        chart_yaml=chart_yaml,
        allow_downgrade=allow_downgrade,
        dry_run=dry_run,
    )
    if fmt == "json":
        _emit_json(result.to_json())
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


@main.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="Project name, a DNS-1123 label (default: the directory's name).")
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
    from generator.scaffold import init_repository

    root = directory if directory.is_absolute() else _root(ctx) / directory
    result = init_repository(root, name=name, chart=chart, version=version, repo_url=repo_url)
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


# --- diff ---


@main.command("diff")
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
    "--remote", metavar="R", help="With --promotion: read the branches from refs/remotes/R/."
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
) -> None:
    """What a change (BASE → HEAD, default: merge-base with the default branch → working tree),
    a promotion, or the drift between two environments does; exit 1 when anything differs."""
    import os

    from generator.diff import diff_repository
    from generator.diffreport import render_report

    result = diff_repository(
        _root(ctx),
        revisions,
        promotion=promotion,
        between=between or None,
        envs=envs,
        remote=remote,
    )
    color = fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    click.echo(render_report(result, fmt, max_chars, color), nl=False, color=color or None)
    ctx.exit(1 if result.changed else 0)


# --- publish, status, wait, commit-status ---


@main.command()
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
    from generator import branches
    from generator.progress import THRESHOLD, phases

    identity = branches.Identity.parse(author) if author else branches.DEFAULT_IDENTITY
    # Every environment is published unless --env names a few.
    with phases(len(envs) or THRESHOLD + 1) as say:
        result = branches.publish(
            _root(ctx),
            only=envs,
            push=push,
            remote=remote,
            dry_run=dry_run,
            identity=identity,
            progress=say,
        )
    if fmt == "json":
        _emit_json(result.to_json())
    for line in branches.describe(result):
        click.echo(line, err=True)


@main.command()
@click.option(
    "--remote",
    metavar="NAME|URL",
    help="Read the branches from this remote (fetched) instead of local ones.",
)
@click.option("--format", "fmt", type=FORMAT_TEXT_JSON, default="text", help="Output format.")
@click.pass_context
def status(ctx: click.Context, remote: str | None, fmt: str) -> None:
    """Per environment: branch heads, their dry commits, pending promotions, app versions."""
    from generator import promotion

    statuses = promotion.read_status(_root(ctx), remote)
    if fmt == "json":
        _emit_json({"environments": [s.to_json() for s in statuses]})
    else:
        click.echo(promotion.status_table(statuses), nl=False)


@main.command()
@click.option("--env", "env", required=True, metavar="ENV", help="The environment to watch.")
@click.option(
    "--dry-sha", required=True, metavar="SHA", help="The dry commit to wait for (full SHA)."
)
@click.option(
    "--remote", metavar="NAME|URL", help="Fetch the branches from this remote on every poll."
)
@click.option(
    "--timeout", default="30m", show_default=True, help="Give up after this long (exit 1)."
)
@click.option("--interval", default="15s", show_default=True, help="Time between polls.")
@click.pass_context
def wait(
    ctx: click.Context, env: str, dry_sha: str, remote: str | None, timeout: str, interval: str
) -> None:
    """Block until ENV's active branch carries the dry commit (or a later one)."""
    from generator import promotion

    limit = promotion.parse_duration(timeout, "--timeout")
    every = promotion.parse_duration(interval, "--interval")
    if every <= 0:
        raise click.UsageError("--interval must be more than 0")
    sha = promotion.check_sha(dry_sha, "--dry-sha")
    arrival = promotion.wait_for(_root(ctx), env, sha, remote=remote, timeout=limit, interval=every)
    if arrival.reached:
        click.echo(
            f"{env}: carries {sha[:7]}"
            + (
                f" (through {arrival.carried[:7]})"
                if arrival.carried and arrival.carried != sha
                else ""
            ),
            err=True,
        )
        return
    if arrival.commit is None:
        where = "the active branch does not exist yet (publish creates it)"
    else:
        seen = arrival.carried[:7] if arrival.carried else "no dry commit"
        where = f"the active branch carries {seen}"
    click.echo(f"{env}: timed out after {timeout}; {where}, not {sha[:7]}", err=True)
    ctx.exit(1)


@main.command("commit-status")
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
@click.option("--phase", required=True, type=click.Choice(["pending", "success", "failure"]))
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
    from generator import promotion

    manifest = promotion.commit_status(
        _root(ctx), env, key, phase, url=url, description=description, sha=sha, remote=remote
    )
    click.echo(manifest, nl=False)
