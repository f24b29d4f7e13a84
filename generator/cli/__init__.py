"""The command line: one module per command; each parses options, calls one library function,
prints, and leaves error translation to the group below.

Shell completion comes from click: add one of these lines to the shell's start-up file.
  bash: eval "$(_GITOPS_GEN_COMPLETE=bash_source gitops-gen)"
  zsh:  eval "$(_GITOPS_GEN_COMPLETE=zsh_source gitops-gen)"
  fish: _GITOPS_GEN_COMPLETE=fish_source gitops-gen | source
"""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

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


def run() -> NoReturn:
    """The ``gitops-gen`` command: ``main``, then an exit that skips the interpreter's teardown.

    Once a command is done, Python would free every object it made one by one: 20-30 ms after a
    render or check of 300 environments, spent on nothing (mypy's ``hard_exit`` skips it the
    same way). What the ordinary exit does first is done here too, in its order: the ``atexit``
    handlers run, then the standard streams are flushed. The exit is the ordinary one when
    anything else could still need the interpreter: a thread still running (it would be joined),
    a status that is not a number from 0 to 255 (Python prints or converts it), or a stream that
    cannot be flushed (Python reports it; the handlers have run, and do not run twice).
    """
    try:
        main()
        code: object = 0  # click's main ends in SystemExit; this is only for a changed main
    except SystemExit as done:
        code = done.code
    status = 0 if code is None else code
    threading = sys.modules.get("threading")
    if (
        not isinstance(status, int)
        or not 0 <= status <= 255
        or (threading is not None and threading.active_count() > 1)
    ):
        raise SystemExit(code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        raise SystemExit(code) from None
    os._exit(status)
