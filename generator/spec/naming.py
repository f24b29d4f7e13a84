"""Names, versions and tags: the grammars of Kubernetes, git, the Promoter and OCI registries."""

from __future__ import annotations

import re

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
OCI_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
DIGEST = re.compile(r"@sha256:[a-f0-9]{64}")
SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
# An immutable release tag: v1.2.3 (pre-releases included) or sha-<7..64 hex>.
_IMMUTABLE_TAG = re.compile(r"v" + SEMVER.pattern + r"|sha-[0-9a-f]{7,64}")
MAX_BRANCH = 95  # the Promoter appends "-next" and allows 100 characters


def dns_label_problem(name: str) -> str | None:
    """Why ``name`` is not a DNS-1123 label, or None."""
    if DNS_LABEL.fullmatch(name):
        return None
    return (
        f"{name!r} is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', "
        "starting and ending with a letter or digit"
    )


def branch_problem(branch: str) -> str | None:
    """Why ``branch`` breaks the Promoter's or git's branch rules, or None."""
    if not branch:
        return "branch name is empty"
    if len(branch) > MAX_BRANCH:
        return (
            f"branch {branch!r} is {len(branch)} characters; keep it at {MAX_BRANCH} or fewer "
            "(the Promoter adds -next and allows 100)"
        )
    if branch.startswith("-"):
        return f"branch {branch!r} must not start with '-'"
    if ":" in branch:
        return f"branch {branch!r} must not contain ':'"
    if ".." in branch:
        return f"branch {branch!r} must not contain '..'"
    bad = re.search(r"[\x00-\x20\x7f~^?*\[\\]|@\{|//", branch)
    # git refuses ".lock" at the end of any component, not only of the whole name: env.lock/x.
    locked = any(part.endswith(".lock") for part in branch.split("/"))
    if bad or locked or branch.endswith(("/", ".")) or branch.startswith("/") or "/." in branch:
        return f"branch {branch!r} is not a valid git branch name"
    return None


def semver_problem(version: str) -> str | None:
    if SEMVER.fullmatch(version):
        return None
    return f"{version!r} is not an exact semver version such as 1.0.70"


def semver_key(version: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """A sort key implementing semver precedence (build metadata ignored)."""
    match = SEMVER.fullmatch(version)
    if match is None:
        raise ValueError(version)
    major, minor, patch, pre = int(match[1]), int(match[2]), int(match[3]), match[4]
    if pre is None:
        return (major, minor, patch, 1, ())
    parts = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))
    return (major, minor, patch, 0, parts)


def oci_tag_problem(tag: str) -> str | None:
    if OCI_TAG.fullmatch(tag) or DIGEST.fullmatch(tag):
        return None
    return (
        f"{tag!r} is not a valid OCI tag ([A-Za-z0-9_][A-Za-z0-9._-]{{0,127}}) "
        "or digest (@sha256:<64 hex>)"
    )


def is_immutable_tag(tag: str) -> bool:
    """True for tags that always name the same image: vX.Y.Z, sha-<hex>, @sha256: digests."""
    return bool(_IMMUTABLE_TAG.fullmatch(tag) or DIGEST.fullmatch(tag))


def pull_policy(tag: str, explicit: str | None = None) -> str:
    """The image pull policy for ``tag``: an explicit policy wins, else immutable → IfNotPresent."""
    if explicit:
        return explicit
    return "IfNotPresent" if is_immutable_tag(tag) else "Always"


DEFAULT_BRANCH_PREFIX = "environment/"
"""What ``project.branchPrefix`` is when the spec does not say (not a tag prefix: see ``tags``)."""


def application_name(app: str, env: str) -> str:
    """The Argo CD Application of an app in an environment (unique across the spec)."""
    return f"{app}-{env}"
