"""Rendered trees to compare: a git revision, the working tree, or an environment's branches."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from generator.errors import GitError, Problem, RenderError, SpecError, UsageError
from generator.git import envbranches
from generator.git import plumbing as gitio
from generator.spec import naming
from generator.spec.files import PROJECT_FILE, SPEC_DIR
from generator.spec.model import Spec

WORKING_TREE = "working tree"


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
    from generator.spec.files import read_spec_files

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

    sha = resolve(root, rev)
    label = label or rev
    spec_files = spec_files_at(root, sha, rev)
    if not spec_files:
        return Tree(label, sha, {}, None)
    templates = templates_at(root, sha, rev)
    sources = digest(spec_files, templates)
    if reuse is not None and reuse.sources == sources:
        return Tree(label, sha, reuse.files, reuse.spec, sources=sources)
    spec = spec_at(spec_files, rev)
    try:
        files = render(spec, templates)
    except SpecError as e:
        raise SpecError(_at(rev, p) for p in e.problems) from None
    except RenderError as e:
        raise RenderError(f"at {rev}: {e}") from None
    return Tree(label, sha, files, spec, sources=sources)


# --- the spec and templates at a revision: read from git objects, never the working tree ---


def spec_files_at(root: Path, sha: str, rev: str | None) -> dict[str, str]:
    """The spec files (``environments/*.yaml``) of commit ``sha``, as {environments/NAME: text}.

    ``rev`` is how the user named the commit; a problem's file says ``rev:environments/...``
    (None: files are named as in the working tree, which matches HEAD for publish).
    """
    return {
        f"{SPEC_DIR}/{name}": text
        for name, text in _text_files(
            root, sha, rev, SPEC_DIR, lambda n: "/" not in n and n.endswith(".yaml")
        ).items()
    }


def templates_at(root: Path, sha: str, rev: str | None) -> dict[str, str]:
    """The repository's template overrides (``templates/``) of commit ``sha``."""
    from generator.render.templating import TEMPLATE_DIR

    return _text_files(root, sha, rev, TEMPLATE_DIR, lambda n: True)


def spec_at(spec_files: Mapping[str, str], rev: str | None) -> Spec:
    """The spec that ``spec_files_at`` read; its problems name the revision."""
    from generator.spec.model import parse_spec

    try:
        return parse_spec(spec_files)
    except SpecError as e:
        if rev is None:
            raise
        raise SpecError(_at(rev, p) for p in e.problems) from None


def _text_files(
    root: Path, sha: str, rev: str | None, folder: str, wanted: Callable[[str], bool]
) -> dict[str, str]:
    prefix = repository_prefix(root)
    files: dict[str, str] = {}
    for name, data in gitio.read_files(root, sha, prefix + folder).items():
        if not wanted(name):
            continue
        try:
            files[name] = data.decode("utf-8")
        except UnicodeDecodeError as e:
            where = f"{prefix}{folder}/{name}"
            raise SpecError(
                [Problem(_in(rev, where), 0, 0, "", f"is not UTF-8 text (byte {e.start})")]
            ) from None
    return files


def _in(rev: str | None, file: str) -> str:
    return f"{rev}:{file}" if rev is not None else file


def _at(rev: str, problem: Problem) -> Problem:
    return Problem(_in(rev, problem.file), problem.line, problem.col, problem.path, problem.message)


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
    from generator.spec.model import load_spec

    if (root / SPEC_DIR / PROJECT_FILE).is_file():
        return load_spec(root).project.branch_prefix
    try:
        rev = default_branch(root)
        files = spec_files_at(root, resolve(root, rev), rev)
    except (UsageError, GitError):
        return naming.DEFAULT_BRANCH_PREFIX
    if f"{SPEC_DIR}/{PROJECT_FILE}" not in files:
        return naming.DEFAULT_BRANCH_PREFIX
    return spec_at(files, rev).project.branch_prefix


def environment_branches(root: Path, env: str, remote: str | None = None) -> tuple[Tree, Tree]:
    """The environment's active and -next branches: exactly what its promotion PR merges.

    They are read as ``status`` reads them: fetched from ``remote`` (default: origin, when it
    exists) with the notes, or the local branches and notes when there is no remote.
    """
    if problem := naming.dns_label_problem(env):
        raise UsageError(f"--promotion: environment name {problem}")
    _require_repository(root)
    remote = envbranches.source_remote(root, remote)
    prefix = branch_prefix(root)
    active, proposed = prefix + env, prefix + env + "-next"
    if remote is None:
        labels = (active, proposed)
    elif remote in gitio.remote_names(root):
        labels = (f"{remote}/{active}", f"{remote}/{proposed}")
    else:  # a URL
        shown = envbranches.shown_remote(remote)
        labels = (f"{active} ({shown})", f"{proposed} ({shown})")
    with envbranches.snapshot(root, remote, prefix, [active, proposed]) as snap:
        for branch in (active, proposed):
            if branch not in snap.heads:
                raise UsageError(
                    f"branch {branch!r} not found on {envbranches.shown_remote(remote)}; publish "
                    "the environment first (gitops-gen publish --push)"
                    if remote
                    else f"branch {branch!r} not found (refs/heads/{branch}); publish the "
                    "environment first, or pass --remote"
                )
        commits = (snap.heads[active], snap.heads[proposed])
        dry = envbranches.dry_shas(root, commits, snap.notes)
        base, head = (
            Tree(label, commit, _branch_files(root, env, commit), None, dry[commit])
            for label, commit in zip(labels, commits, strict=True)
        )
    return base, head


def _branch_files(root: Path, env: str, commit: str) -> dict[str, str]:
    """A hydrated commit's files in the rendered/ layout (under environments/<env>/)."""
    return {
        f"environments/{env}/{path}": data.decode("utf-8", "replace")
        for path, data in gitio.read_files(root, commit, "").items()
    }
