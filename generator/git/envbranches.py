"""Reading the environment branches and their dry commits (notes first, then the file)."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from generator.errors import UsageError
from generator.git import plumbing as gitio
from generator.git.drycommit import is_full_sha

NOTES_REF = "refs/notes/hydrator.metadata"
METADATA_FILE = "hydrator.metadata"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The environment branches and the notes ref, as read from the local repository or a remote."""

    heads: dict[str, str]
    """{branch name: tip sha}, only for branches that exist."""
    notes: str | None
    """The notes commit of refs/notes/hydrator.metadata, if any."""
    remote: str | None


def default_remote(root: Path, remote: str | None) -> str:
    if remote:
        return remote
    if "origin" in gitio.remote_names(root):
        return "origin"
    raise UsageError("there is no remote named origin; pass --remote NAME|URL")


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
        leftovers = gitio.list_refs(root, scratch + "/")
        if leftovers:
            gitio.update_refs(root, [(ref, None, None) for ref in leftovers])


def _parse_dry_sha(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        value = json.loads(data).get("drySha")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and is_full_sha(value) else None


def notes_map(root: Path, notes: str | None) -> dict[str, str]:
    """{annotated object sha: note blob sha} for the notes commit (whatever its fan-out)."""
    if not notes:
        return {}
    listing = gitio.run_git(root, "ls-tree", "-r", "-z", notes).stdout
    found: dict[str, str] = {}
    for record in listing.split(b"\0"):
        if record:
            meta, _, path = record.partition(b"\t")
            found[path.decode().replace("/", "")] = meta.split()[2].decode()
    return found


def dry_shas(root: Path, commits: Sequence[str], notes: str | None) -> dict[str, str | None]:
    """The dry commit each hydrated commit carries: its note first, then its hydrator.metadata."""
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
