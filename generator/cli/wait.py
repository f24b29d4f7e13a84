"""gitops-gen wait: block until an environment carries a dry commit."""

from __future__ import annotations

import click

from generator.cli._common import root

DURATIONS = "Units: h, m, s and ms, combined as in 1h30m; a bare number is seconds."


@click.command()
@click.option("--env", "env", required=True, metavar="ENV", help="The environment to watch.")
@click.option(
    "--dry-sha", required=True, metavar="SHA", help="The dry commit to wait for (full SHA)."
)
@click.option(
    "--remote",
    metavar="NAME|URL",
    help="Fetch the branches and notes from this remote on every poll (default: origin; the "
    "local branches when there is no origin).",
)
@click.option(
    "--timeout",
    default="30m",
    show_default=True,
    metavar="DURATION",
    help="Give up after this long (exit 1). " + DURATIONS,
)
@click.option(
    "--interval",
    default="15s",
    show_default=True,
    metavar="DURATION",
    help="Time between polls. " + DURATIONS,
)
@click.pass_context
def wait(
    ctx: click.Context, env: str, dry_sha: str, remote: str | None, timeout: str, interval: str
) -> None:
    """Block until ENV's active branch carries the dry commit (or a later one)."""
    from generator.promotion import state as promotion

    limit = promotion.parse_duration(timeout, "--timeout")
    every = promotion.parse_duration(interval, "--interval")
    if every <= 0:
        raise click.UsageError("--interval must be more than 0")
    sha = promotion.check_sha(dry_sha, "--dry-sha")
    arrival = promotion.wait_for(root(ctx), env, sha, remote=remote, timeout=limit, interval=every)
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
    click.echo(f"{env}: timed out after {with_unit(timeout)}; {where}, not {sha[:7]}", err=True)
    ctx.exit(1)


def with_unit(duration: str) -> str:
    """A duration as the user wrote it, with the unit a bare number means: ``1`` → ``1s``."""
    text = duration.strip()
    return text + "s" if text.replace(".", "", 1).isdigit() else text
