"""The command line: one module per command; each parses options, calls one library function,
prints, and leaves error translation to the group below.

Shell completion comes from click: add one of these lines to the shell's start-up file.
  bash: eval "$(_GITOPS_GEN_COMPLETE=bash_source gitops-gen)"
  zsh:  eval "$(_GITOPS_GEN_COMPLETE=zsh_source gitops-gen)"
  fish: _GITOPS_GEN_COMPLETE=fish_source gitops-gen | source
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from generator import __version__
from generator.cli import (
    bump,
    check,
    commit_status,
    diff,
    init,
    publish,
    render,
    schema,
    status,
    tags,
    verify,
    wait,
)
from generator.errors import GitopsGenError, take_warnings


class _Group(click.Group):
    """Turns expected errors into one clear message and their exit code; bugs keep a traceback.
    Warnings (``errors.warn``) follow the command's own output."""

    def invoke(self, ctx: click.Context) -> Any:
        take_warnings()  # none left from an earlier command run in this process
        try:
            return super().invoke(ctx)
        except GitopsGenError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(e.exit_code)
        finally:
            for message in take_warnings():
                click.echo(f"warning: {message}", err=True)


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


# In the order of the old single module, which is the order --help lists them in (sorted).
for _command in (
    render.render,
    check.check,
    schema.schema,
    tags.tags,
    bump.bump,
    init.init,
    diff.diff_command,
    publish.publish,
    status.status,
    wait.wait,
    commit_status.commit_status,
    verify.verify,
):
    main.add_command(_command)
