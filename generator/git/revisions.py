"""Rendered trees to compare: a git revision, the working tree, or an environment's branches."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from generator.errors import GitError, Problem, RenderError, SpecError, UsageError
from generator.git import plumbing as gitio
from generator.spec import naming
from generator.spec.model import PROJECT_FILE, SPEC_DIR, Spec

WORKING_TREE = "working tree"
DEFAULT_PREFIX = "environment/"
TEMPLATE_DIR = "templates"
METADATA_FILE = "hydrator.metadata"
NOTES_REF = "refs/notes/hydrator.metadata"


@dataclass(frozen=True, slots=True)
class Tree:
    """One side of a comparison: files in the rendered/ layout, and the spec behind them."""

    label: str
    """How the user named this side: a revision, a branch, or "working tree"."""
    commit: str | None
    """The full commit name; None for the working tree."""
    files: Mapping[str, str]
    """{path inside rendered/: text}; a branch's files sit under environments/<env>/."""
    spec: Spec | None
    """The spec the files were rendered from; None for a branch or a revision without a spec."""
    dry_sha: str | None = None
    """For an environment branch: the dry commit its hydrator.metadata (or git note) names."""
    sources: str | None = None
    """A digest of the spec files and templates it was rendered from (equal digest, equal files)."""


def digest(spec_files: Mapping[str, str], templates: Mapping[str, str]) -> str:
    """Rendering is pure: the same spec files and templates give the same tree."""
    h = hashlib.sha256()
    for group in (spec_files, templates):
        for name, text in sorted(group.items()):
            h.update(f"{len(name)}:{name}{len(text)}:".encode())
            h.update(text.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def working_tree(root: Path, reuse: Tree | None = None) -> Tree:
    """The spec and templates on disk, rendered in memory (or ``reuse``'s files when the same)."""
    from generator.render.repository import plan_repository
    from generator.render.templating import repository_overrides
    from generator.spec.model import read_spec_files

    sources = digest(read_spec_files(root), repository_overrides(root))
    if reuse is not None and reuse.sources == sources:
        return Tree(WORKING_TREE, None, reuse.files, reuse.spec, sources=sources)
    plan = plan_repository(root)
    return Tree(WORKING_TREE, None, plan.files, plan.spec, sources=sources)


def at_revision(root: Path, rev: str, label: str | None = None, reuse: Tree | None = None) -> Tree:
    """Render the spec and templates of ``rev`` from git objects; the working tree is never read.

    When ``reuse`` was rendered from the same spec files and templates, its files are reused.
    """
    from generator.render.plan import render
    from generator.spec.model import parse_spec

    sha = resolve(root, rev)
    label = label or rev
    prefix = repository_prefix(root)
    spec_files = {
        f"{SPEC_DIR}/{name}": _decode(root, rev, f"{prefix}{SPEC_DIR}/{name}", data)
        for name, data in gitio.read_files(root, sha, prefix + SPEC_DIR).items()
        if "/" not in name and name.endswith(".yaml")
    }
    if not spec_files:
        return Tree(label, sha, {}, None)
    templates = {
        name: _decode(root, rev, f"{prefix}{TEMPLATE_DIR}/{name}", data)
        for name, data in gitio.read_files(root, sha, prefix + TEMPLATE_DIR).items()
    }
    sources = digest(spec_files, templates)
    if reuse is not None and reuse.sources == sources:
        return Tree(label, sha, reuse.files, reuse.spec, sources=sources)
    try:
        spec = parse_spec(spec_files)
        files = render(spec, templates)
    except SpecError as e:
        raise SpecError(_at(rev, p) for p in e.problems) from None
    except RenderError as e:
        raise RenderError(f"at {rev}: {e}") from None
    return Tree(label, sha, files, spec, sources=sources)


def _at(rev: str, problem: Problem) -> Problem:
    return Problem(
        f"{rev}:{problem.file}", problem.line, problem.col, problem.path, problem.message
    )


def _decode(root: Path, rev: str, path: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(
            [Problem(f"{rev}:{path}", 0, 0, "", f"is not UTF-8 text (byte {e.start})")]
        ) from None


def resolve(root: Path, rev: str) -> str:
    """The commit ``rev`` names; exit 2 with a clear message when it names none."""
    if rev.startswith("-"):
        raise UsageError(f"{rev!r} is not a revision (it looks like an option)")
    _require_repository(root)
    sha = gitio.rev_parse(root, rev)
    if sha is None:
        raise UsageError(
            f"{rev!r} is not a commit in this repository; pass a branch, tag or commit"
        )
    return sha


def _require_repository(root: Path) -> None:
    result = gitio.run_git(root, "rev-parse", "--is-inside-work-tree", check=False)
    if result.returncode != 0:
        raise UsageError(f"{root} is not inside a git repository; diff compares git revisions")


def repository_prefix(root: Path) -> str:
    """Where ``root`` sits inside its repository ("" at the top, "gitops/" in a subdirectory)."""
    _require_repository(root)
    return gitio.git_text(root, "rev-parse", "--show-prefix")


def default_branch(root: Path) -> str:
    """origin/HEAD's target when set, else origin/main, origin/master, main, master.

    A clone made by ``git clone`` has origin/HEAD; CI checkouts that fetch branches one by one
    often do not, and their remote-tracking branch is fresher than a local one.
    """
    _require_repository(root)
    result = gitio.run_git(root, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD", check=False)
    target = result.stdout.decode().strip()
    if result.returncode == 0 and target:
        return target.removeprefix("refs/remotes/")
    for name in ("origin/main", "origin/master", "main", "master"):
        ref = f"refs/remotes/{name}" if name.startswith("origin/") else f"refs/heads/{name}"
        if gitio.rev_parse(root, ref):
            return name
    raise UsageError(
        "cannot find the default branch (origin/HEAD, origin/main, origin/master, main or "
        "master); pass BASE"
    )


def default_base(root: Path) -> tuple[str, str]:
    """(default branch, commit) of the merge-base of HEAD with the default branch."""
    branch = default_branch(root)
    if gitio.rev_parse(root, "HEAD") is None:
        raise UsageError("HEAD has no commit yet; commit the spec first or pass BASE")
    result = gitio.run_git(root, "merge-base", "HEAD", branch, check=False)
    sha = result.stdout.decode().strip()
    if result.returncode != 0 or not sha:
        raise UsageError(f"HEAD and {branch} have no common ancestor; pass BASE")
    return branch, sha


def branch_prefix(root: Path) -> str:
    """The branch prefix: from the spec on disk, else on the default branch, else the default."""
    from generator.spec.model import load_spec, parse_spec

    if (root / SPEC_DIR / PROJECT_FILE).is_file():
        return load_spec(root).project.branch_prefix
    try:
        rev = default_branch(root)
        sha = resolve(root, rev)
        prefix = repository_prefix(root)
        raw = gitio.read_files(root, sha, prefix + SPEC_DIR)
    except (UsageError, GitError):
        return DEFAULT_PREFIX
    files = {
        f"{SPEC_DIR}/{name}": _decode(root, rev, f"{SPEC_DIR}/{name}", data)
        for name, data in raw.items()
        if "/" not in name and name.endswith(".yaml")
    }
    if f"{SPEC_DIR}/{PROJECT_FILE}" not in files:
        return DEFAULT_PREFIX
    try:
        return parse_spec(files).project.branch_prefix
    except SpecError as e:
        raise SpecError(_at(rev, p) for p in e.problems) from None


def environment_branches(root: Path, env: str, remote: str | None = None) -> tuple[Tree, Tree]:
    """The environment's active and -next branches: exactly what its promotion PR merges."""
    if problem := naming.dns_label_problem(env):
        raise UsageError(f"--promotion: environment name {problem}")
    if remote is not None and (not remote or remote.startswith("-") or "/" in remote):
        raise UsageError(f"--remote: {remote!r} is not a remote name")
    active = branch_prefix(root) + env
    return _branch_tree(root, env, active, remote), _branch_tree(
        root, env, active + "-next", remote
    )


def _branch_tree(root: Path, env: str, branch: str, remote: str | None) -> Tree:
    _require_repository(root)
    ref = f"refs/remotes/{remote}/{branch}" if remote else f"refs/heads/{branch}"
    sha = gitio.rev_parse(root, ref)
    if sha is None:
        hint = (
            "fetch it from the remote"
            if remote
            else "publish the environment first, or pass --remote"
        )
        raise UsageError(f"branch {branch!r} not found ({ref}); {hint}")
    files = _commit_files(root, sha)
    return Tree(
        label=f"{remote}/{branch}" if remote else branch,
        commit=sha,
        files={f"environments/{env}/{path}": text for path, text in files.items()},
        spec=None,
        dry_sha=_dry_sha(root, sha, files.get(METADATA_FILE)),
    )


def _commit_files(root: Path, sha: str) -> dict[str, str]:
    """Every blob of a commit's tree, as text (one ls-tree and one cat-file batch)."""
    listing = gitio.run_git(root, "ls-tree", "-r", "-z", "--full-tree", sha).stdout
    entries: list[tuple[str, str]] = []
    for record in listing.split(b"\0"):
        meta, _, path = record.partition(b"\t")
        parts = meta.decode().split()
        if len(parts) == 3 and parts[1] == "blob":
            entries.append((path.decode("utf-8", "replace"), parts[2]))
    blobs = gitio.cat_blobs(root, [sha for _, sha in entries])
    return {
        path: blob.decode("utf-8", "replace")
        for (path, _), blob in zip(entries, blobs, strict=True)
    }


def _dry_sha(root: Path, commit: str, metadata: str | None) -> str | None:
    """The dry commit a hydrated commit came from; as in the Promoter, the git note wins."""
    note = gitio.run_git(root, "notes", f"--ref={NOTES_REF}", "show", commit, check=False)
    for text in (
        note.stdout.decode("utf-8", "replace") if note.returncode == 0 else None,
        metadata,
    ):
        if not text:
            continue
        try:
            value = json.loads(text).get("drySha")
        except (ValueError, AttributeError):
            continue
        if isinstance(value, str) and value:
            return value
    return None
