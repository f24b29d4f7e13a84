"""gitops-gen tags: the image tags a release pushes."""

from __future__ import annotations

import click

from generator.cli._common import FORMAT_TEXT_JSON, emit_json


@click.command()
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
    from generator.release.tags import release_tags

    result = release_tags(version, commit, prefix=prefix, extra=extra)
    if fmt == "json":
        emit_json(result.to_json())
    else:
        for tag in result.tags:
            click.echo(tag)
