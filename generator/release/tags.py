"""The OCI tags a release pushes: the version tag, the commit tag, and latest for final releases."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from generator.errors import TagsError
from generator.spec import naming

DEFAULT_PREFIX = "v"
LATEST = "latest"
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class ReleaseTags:
    version: str
    """The semver version without a leading ``v``."""
    commit: str
    """The full commit name, lowercase (40 hex for SHA-1, 64 for SHA-256 repositories)."""
    prerelease: bool
    """A pre-release (``1.0.70-rc.1``) does not move ``latest``."""
    tags: tuple[str, ...]
    """In push order: ``<prefix><version>``, ``sha-<commit>``, ``latest`` (final only), extras."""

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "commit": self.commit,
            "prerelease": self.prerelease,
            "latest": LATEST in self.tags,
            "tags": list(self.tags),
        }


def strip_v(version: str) -> str:
    """``v1.0.70`` → ``1.0.70`` (CI often hands over the git tag); anything else is kept."""
    return version[1:] if version[:1] in ("v", "V") and version[1:2].isdigit() else version


def release_tags(
    version: str,
    commit: str,
    prefix: str = DEFAULT_PREFIX,
    extra: Iterable[str] = (),
) -> ReleaseTags:
    """Validate the inputs and list the tags; raises TagsError naming every bad option at once."""
    problems: list[str] = []
    version = strip_v(version.strip())
    core, _, build = version.partition("+")
    semver_problem = naming.semver_problem(version)
    if semver_problem:
        problems.append(f"--version: {semver_problem}")
    elif build:
        problems.append(
            f"--version: {version!r} carries build metadata (+{build}), which an OCI tag cannot "
            f"hold ('+' is not allowed in a tag); drop it: --version {core}"
        )
    commit_hex = commit.strip().lower()
    commit_ok = bool(_COMMIT.fullmatch(commit_hex))
    if not commit_ok:
        problems.append(
            f"--commit: {commit!r} is not a full commit name (40 hex digits, or 64 for SHA-256); "
            "pass the output of `git rev-parse HEAD`"
        )
    # Every other option is checked too, whatever the version and the commit: one run names every
    # problem. The prefix is checked against the version without its build metadata.
    prerelease = semver_problem is None and "-" in core
    candidates: list[tuple[str, str]] = []
    if semver_problem is None:
        candidates.append(("--prefix", prefix + core))
    if commit_ok:
        candidates.append(("--commit", "sha-" + commit_hex))
    if not prerelease:
        candidates.append(("", LATEST))
    candidates.extend(("--extra", tag) for tag in extra)
    tags: list[str] = []
    for option, tag in candidates:
        if prerelease and option == "--extra" and tag == LATEST:
            problems.append(
                f"--extra: {LATEST!r} is not pushed for the pre-release {core}: a "
                f"pre-release never moves {LATEST}; drop --extra {LATEST}"
            )
        elif problem := _tag_problem(tag):
            problems.append(f"{option}: {problem}")
        elif tag not in tags:
            tags.append(tag)
    if problems:
        raise TagsError(problems)
    return ReleaseTags(version, commit_hex, prerelease, tuple(tags))


def _tag_problem(tag: str) -> str | None:
    """Tags only: a digest is not something a release pushes."""
    if naming.OCI_TAG.fullmatch(tag):
        return None
    return f"{tag!r} is not a valid OCI tag ([A-Za-z0-9_][A-Za-z0-9._-]{{0,127}})"
