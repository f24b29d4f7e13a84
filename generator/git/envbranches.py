"""Reading the environment branches and their dry commits (notes first, then the file).

``status``, ``wait``, ``diff --promotion`` and ``publish`` all read through here, so they never
tell a user two different things about the same branch.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from generator.errors import GitError, UsageError, warn
from generator.git import plumbing as gitio

NOTES_REF = "refs/notes/hydrator.metadata"
"""Where publish notes each hydrated commit with ``{"drySha": ...}``, as Argo CD's hydrator does."""
METADATA_FILE = "hydrator.metadata"
"""The file at the root of every hydrated commit that names its dry commit."""
DEFAULT_REMOTE = "origin"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The environment branches and the notes ref, as read from the local repository or a remote."""

    heads: dict[str, str]
    """{branch name: tip sha}, only for branches that exist."""
    notes: str | None
    """The notes commit of refs/notes/hydrator.metadata, if any."""
    remote: str | None


def check_remote(remote: str) -> str:
    """A remote name or URL that git cannot take for an option."""
    if not remote or remote.startswith("-"):
        raise UsageError(f"--remote {remote!r}: expected a remote name or URL")
    return remote


def default_remote(root: Path, remote: str | None) -> str:
    """The remote to push to: the one given, else origin, which must then exist."""
    if remote:
        return check_remote(remote)
    if DEFAULT_REMOTE in gitio.remote_names(root):
        return DEFAULT_REMOTE
    raise UsageError("there is no remote named origin; pass --remote NAME|URL")


def source_remote(root: Path, remote: str | None) -> str | None:
    """The remote to read branches from: the one given, else origin if configured, else None
    (the local branches). A CI checkout has no local environment branches, only origin."""
    if remote:
        return check_remote(remote)
    return DEFAULT_REMOTE if DEFAULT_REMOTE in gitio.remote_names(root) else None


def shown_remote(remote: str) -> str:
    """A remote as a user may see it (in a log or a pull-request comment): a name as it is, a URL
    without its user name and password, which may hold a token."""
    parts = urlsplit(remote)
    if parts.scheme and "@" in parts.netloc:
        parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
    return urlunsplit(parts)


@contextmanager
def snapshot(
    root: Path, remote: str | None, prefix: str, branches: Sequence[str]
) -> Iterator[Snapshot]:
    """The branches and notes of ``remote``, fetched now, or the local ones when it is None."""
    if remote is None:
        yield local_snapshot(root, branches)
    else:
        with remote_snapshot(root, remote, prefix, branches) as snap:
            yield snap


def local_snapshot(root: Path, branches: Sequence[str]) -> Snapshot:
    refs = gitio.list_refs(root, "refs/heads/", NOTES_REF)
    heads = {b: refs[f"refs/heads/{b}"] for b in branches if f"refs/heads/{b}" in refs}
    return Snapshot(heads, refs.get(NOTES_REF), None)


@contextmanager
def remote_snapshot(
    root: Path, remote: str, prefix: str, branches: Sequence[str]
) -> Iterator[Snapshot]:
    """Fetch the remote's environment branches and notes into a private namespace for this run.

    The namespace keeps the fetched objects reachable while we work; it is removed afterwards, so
    local branches, local notes and remote-tracking refs are never touched by the fetch.
    """
    scratch = f"refs/gitops-gen/{os.getpid()}-{secrets.token_hex(4)}"
    try:
        gitio.fetch(
            root,
            remote,
            [
                f"+refs/heads/{prefix}*:{scratch}/heads/{prefix}*",
                f"+{NOTES_REF}*:{scratch}/notes*",
            ],
        )
        refs = gitio.list_refs(root, scratch + "/")
        heads = {
            b: refs[f"{scratch}/heads/{b}"] for b in branches if f"{scratch}/heads/{b}" in refs
        }
        yield Snapshot(heads, refs.get(f"{scratch}/notes"), remote)
    finally:
        _drop_scratch(root, scratch, remote)


def _drop_scratch(root: Path, scratch: str, remote: str) -> None:
    """Delete the private refs of one run. When that fails, the run's work stands (a push has
    landed, a status was read), and a failure of the run stays the one reported: the refs left
    behind are a warning, with the command that deletes them."""
    try:
        leftovers = gitio.list_refs(root, scratch + "/")
        if leftovers:
            gitio.update_refs(root, [(ref, None, None) for ref in leftovers])
    except GitError as e:
        warn(
            f"could not delete the temporary refs {scratch}/* (what this run fetched from "
            f"{shown_remote(remote)}): {str(e).rstrip('.')}. They are harmless; once the cause is "
            f"fixed, delete them with: git for-each-ref --format='delete %(refname)' {scratch}/ | "
            "git update-ref --stdin"
        )


def _parse_dry_sha(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        value = json.loads(data).get("drySha")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and gitio.is_full_sha(value) else None


def notes_map(root: Path, notes: str | None) -> dict[str, str]:
    """{annotated object sha: note blob sha} for the notes commit (whatever its fan-out)."""
    if not notes:
        return {}
    return {e.path.replace("/", ""): e.sha for e in gitio.ls_tree(root, notes, recursive=True)}


def dry_shas(root: Path, commits: Sequence[str], notes: str | None) -> dict[str, str | None]:
    """The dry commit each hydrated commit carries: its note first, then its hydrator.metadata.

    As in the GitOps Promoter, the note wins: publish notes a commit whose tree it did not change.
    This is the only reader of dry commits; ``notes`` comes from the same ``snapshot`` as the
    commits, so local and remote reads never mix.
    """
    unique = list(dict.fromkeys(commits))
    annotated = notes_map(root, notes)
    names = [annotated.get(c, c + ":" + METADATA_FILE) for c in unique]
    found: dict[str, str | None] = {}
    fallback: list[str] = []
    for commit, obj in zip(unique, gitio.cat_objects(root, names), strict=True):
        sha = _parse_dry_sha(obj[1] if obj else None)
        if sha is None and commit in annotated:
            fallback.append(commit)  # an unreadable note: the file decides
        found[commit] = sha
    for commit, obj in zip(
        fallback, gitio.cat_objects(root, [c + ":" + METADATA_FILE for c in fallback]), strict=True
    ):
        found[commit] = _parse_dry_sha(obj[1] if obj else None)
    return found
