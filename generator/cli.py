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
    """Turns expected errors into one clear message and their exit code; bugs keep their traceback."""

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
    click.echo("rendered/: " + ("updated" if changes else "up to date"), err=True)
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
            f"rendered/ is stale: {total} file{'s' if total != 1 else ''} differ. "
            "Run `gitops-gen render` and commit the result.",
            err=True,
        )
        ctx.exit(1)
    click.echo("rendered/ is up to date", err=True)


@main.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of the spec files."""
    from importlib import resources

    text = resources.files("generator").joinpath("schemas/spec.schema.json").read_text("utf-8")
    sys.stdout.write(text)


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
