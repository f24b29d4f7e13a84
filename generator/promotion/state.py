"""Following promotions: what environment branches hold, waiting for a dry commit, CommitStatus."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from generator import yamlemit, yamlio
from generator.errors import GitError, UsageError
from generator.git import drycommit, envbranches
from generator.git import plumbing as gitio
from generator.spec import validate as fastschema
from generator.spec.model import Environment, Spec

COMMIT_STATUS_LABEL = "promoter.argoproj.io/commit-status"
_KEY = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def load_current_spec(root: Path) -> Spec:
    """The spec in the working tree, or at HEAD in a bare repository."""
    gitio.require_repository(root)
    if not gitio.is_bare(root):
        from generator.spec.model import load_spec

        return load_spec(root)
    head = gitio.rev_parse(root, "HEAD")
    if head is None:
        raise UsageError("the repository has no commits, so no spec")
    return drycommit.head_spec(root, head)


def _environment(spec: Spec, name: str) -> Environment:
    try:
        return spec.environment(name)
    except KeyError:
        known = ", ".join(e.name for e in spec.environments)
        raise UsageError(f"--env {name}: no such environment; known: {known}") from None


@contextmanager
def _snapshot(
    root: Path, spec: Spec, envs: Sequence[Environment], remote: str | None
) -> Iterator[envbranches.Snapshot]:
    names = [b for e in envs for b in (e.branch, e.next_branch)]
    with envbranches.snapshot(root, remote, spec.project.branch_prefix, names) as snap:
        yield snap


# --- status ---


@dataclass(frozen=True, slots=True)
class AppVersion:
    name: str
    chart_version: str | None
    image_tag: str | None


@dataclass(frozen=True, slots=True)
class BranchState:
    commit: str
    dry_sha: str | None
    """From the note on the commit, else from its hydrator.metadata; None when neither says."""
    apps: tuple[AppVersion, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "drySha": self.dry_sha,
            "apps": {
                a.name: {"chartVersion": a.chart_version, "imageTag": a.image_tag}
                for a in self.apps
            },
        }


@dataclass(frozen=True, slots=True)
class EnvironmentStatus:
    name: str
    branch: str
    proposed_branch: str
    active: BranchState | None
    proposed: BranchState | None
    pending: bool
    """-next carries another dry commit than the active branch and is not merged into it yet."""

    @property
    def state(self) -> str:
        if self.active is None or self.proposed is None:
            return "missing"
        return "pending" if self.pending else "in sync"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "branch": self.branch,
            "proposedBranch": self.proposed_branch,
            "active": self.active.to_json() if self.active else None,
            "proposed": self.proposed.to_json() if self.proposed else None,
            "pending": self.pending,
            "state": self.state,
        }


def read_status(root: Path, remote: str | None = None) -> list[EnvironmentStatus]:
    """Every environment in promotion order, read from its branches (local, or from ``remote``)."""
    spec = load_current_spec(root)
    remote = envbranches.source_remote(root, remote)
    with _snapshot(root, spec, spec.environments, remote) as snap:
        tips = [
            t
            for e in spec.environments
            for t in (snap.heads.get(e.branch), snap.heads.get(e.next_branch))
            if t
        ]
        dry = envbranches.dry_shas(root, tips, snap.notes)
        apps = _app_versions(root, tips, len(tips[0]) // 2 if tips else 20)
        result = []
        for env in spec.environments:
            states = []
            for branch in (env.branch, env.next_branch):
                tip = snap.heads.get(branch)
                states.append(BranchState(tip, dry[tip], apps[tip]) if tip else None)
            active, proposed = states
            pending = bool(
                active
                and proposed
                and active.dry_sha != proposed.dry_sha
                and not gitio.is_ancestor(root, proposed.commit, active.commit)
            )
            result.append(
                EnvironmentStatus(env.name, env.branch, env.next_branch, active, proposed, pending)
            )
    return result


def _app_versions(
    root: Path, tips: Sequence[str], digest_size: int
) -> dict[str, tuple[AppVersion, ...]]:
    """Each app directory's wrapper chart: its dependency's version and appVersion (image tag)."""
    unique = list(dict.fromkeys(tips))
    trees = gitio.cat_objects(root, [f"{t}^{{tree}}" for t in unique])
    wanted: list[tuple[str, str]] = []
    for tip, tree in zip(unique, trees, strict=True):
        entries = gitio.parse_tree(tree[1], digest_size) if tree else {}
        wanted += [(tip, name) for name, (mode, _) in sorted(entries.items()) if mode == "40000"]
    charts = gitio.cat_objects(root, [f"{tip}:{name}/Chart.yaml" for tip, name in wanted])
    found: dict[str, list[AppVersion]] = {tip: [] for tip in unique}
    for (tip, name), chart in zip(wanted, charts, strict=True):
        if chart is None or chart[0] != "blob":
            continue
        try:
            data = yamlio.load(chart[1].decode("utf-8"))
        except (yamlio.YAMLLoadError, UnicodeDecodeError):
            data = None
        data = data if isinstance(data, dict) else {}
        deps = data.get("dependencies")
        first = deps[0] if isinstance(deps, list) and deps else None
        version = first.get("version") if isinstance(first, dict) else None
        found[tip].append(AppVersion(name, _scalar(version), _scalar(data.get("appVersion"))))
    return {tip: tuple(apps) for tip, apps in found.items()}


def _scalar(value: object) -> str | None:
    """A version as text; None (shown as unknown) for anything a hand edit made of it."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value)


def status_table(statuses: Sequence[EnvironmentStatus]) -> str:
    """A compact table: branch heads with their dry commits, state, and what each app runs."""
    rows = [("ENVIRONMENT", "ACTIVE", "PROPOSED", "STATE", "APPS")]
    for s in statuses:
        rows.append(
            (s.name, _head(s.active), _head(s.proposed), s.state, _apps(s.active, s.proposed))
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r[:4], widths, strict=True)) + "  " + r[4]
        for r in rows
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _head(state: BranchState | None) -> str:
    if state is None:
        return "-"
    return f"{state.commit[:7]} (dry {state.dry_sha[:7] if state.dry_sha else '?'})"


def _apps(active: BranchState | None, proposed: BranchState | None) -> str:
    def describe(app: AppVersion | None) -> str:
        return "-" if app is None else f"{app.chart_version or '?'} {app.image_tag or '-'}"

    on_active = {a.name: a for a in active.apps} if active else {}
    on_proposed = {a.name: a for a in proposed.apps} if proposed else {}
    parts = []
    for name in sorted(on_active.keys() | on_proposed.keys()):
        before, after = describe(on_active.get(name)), describe(on_proposed.get(name))
        parts.append(f"{name} {before}" if before == after else f"{name} {before} -> {after}")
    return ", ".join(parts)


# --- wait ---


def parse_duration(text: str, option: str) -> float:
    """``30m``, ``15s``, ``1h30m``, ``500ms`` or plain seconds."""
    value = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    if value and re.fullmatch(rf"(?:{_DURATION_PART.pattern})+", value):
        return sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(value))
    raise UsageError(
        f"{option} {text!r}: expected a duration in h, m, s or ms, such as 30m or 1h30m"
    )


def check_sha(text: str, option: str) -> str:
    sha = text.strip().lower()
    if not gitio.is_full_sha(sha):
        raise UsageError(f"{option} {text!r}: expected a full commit SHA (40 or 64 hex digits)")
    return sha


@dataclass(frozen=True, slots=True)
class Arrival:
    reached: bool
    commit: str | None
    """The active branch's head, None while the branch does not exist."""
    carried: str | None
    """The newest dry commit seen on the head (or, for a merge, on its parents)."""


def check_arrival(root: Path, env_name: str, dry_sha: str, remote: str | None = None) -> Arrival:
    """Does the active branch of ``env_name`` carry ``dry_sha`` or a dry commit newer than it?"""
    spec = load_current_spec(root)
    env = _environment(spec, env_name)
    remote = envbranches.source_remote(root, remote)
    with _snapshot(root, spec, [env], remote) as snap:
        head = snap.heads.get(env.branch)
        if head is None:
            return Arrival(False, None, None)
        commit = gitio.cat_objects(root, [head])[0]
        assert commit is not None
        # A promotion merges -next into the active branch: the merged -next commit (a parent)
        # may carry the newest dry commit in its note while the merge commit has none.
        candidates = [head, *gitio.parse_commit(commit[1])[1]]
        carried = [d for d in envbranches.dry_shas(root, candidates, snap.notes).values() if d]
        if dry_sha in carried:
            return Arrival(True, head, dry_sha)
        others = sorted(set(carried))
        missing = gitio.missing_commits(root, [dry_sha, *others])
        if missing and remote:
            gitio.fetch(root, remote, sorted(missing), check=False)
            missing = gitio.missing_commits(root, sorted(missing))
        for other in others:
            if (
                dry_sha not in missing
                and other not in missing
                and gitio.is_ancestor(root, dry_sha, other)
            ):
                return Arrival(True, head, other)
        return Arrival(False, head, carried[0] if carried else None)


def wait_for(
    root: Path,
    env_name: str,
    dry_sha: str,
    *,
    remote: str | None = None,
    timeout: float,
    interval: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_poll: Callable[[Arrival], None] | None = None,
) -> Arrival:
    """Poll until the environment's active branch carries ``dry_sha`` (or newer), or time runs out.

    The first poll must succeed (a wrong remote fails at once); later network errors are retried.
    """
    deadline = clock() + timeout
    arrival = check_arrival(root, env_name, dry_sha, remote)
    while True:
        if on_poll:
            on_poll(arrival)
        left = deadline - clock()
        if arrival.reached or left <= 0:
            return arrival
        sleep(min(interval, left))
        try:
            arrival = check_arrival(root, env_name, dry_sha, remote)
        except GitError:
            if clock() >= deadline:
                return arrival


# --- commit-status ---


def commit_status_name(key: str, sha: str) -> str:
    """Deterministic, so re-applying updates the same object: one CommitStatus per key and SHA."""
    return f"{key}-{sha[:12]}"


def commit_status(
    root: Path,
    env_name: str,
    key: str,
    phase: str,
    *,
    url: str | None = None,
    description: str = "",
    sha: str | None = None,
    remote: str | None = None,
) -> str:
    """A CommitStatus manifest (YAML) for the active head of ``env_name``, or for ``sha``."""
    if len(key) > 63 or not _KEY.fullmatch(key):
        raise UsageError(
            f"--key {key!r}: use 1 to 63 characters of a-z, 0-9 and '-' (not at the ends)"
        )
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"--url {url!r}: expected an http(s) URL")
    spec = load_current_spec(root)
    env = _environment(spec, env_name)
    remote = envbranches.source_remote(root, remote) if sha is None else remote
    if sha is not None:
        sha = check_sha(sha, "--sha")
    elif remote:
        sha = gitio.ls_remote(root, remote, f"refs/heads/{env.branch}").get(
            f"refs/heads/{env.branch}"
        )
        if sha is None:
            raise GitError(
                f"{remote} has no branch {env.branch}; run gitops-gen publish --push first"
            )
    else:
        sha = gitio.rev_parse(root, f"refs/heads/{env.branch}")
        if sha is None:
            raise GitError(f"no local branch {env.branch}; pass --remote or --sha")
    spec_fields: dict[str, Any] = {
        "gitRepositoryRef": {"name": spec.project.name},
        "sha": sha,
        "name": key,
        "description": description,
        "phase": phase,
    }
    if url:
        spec_fields["url"] = url
    manifest = {
        "apiVersion": "promoter.argoproj.io/v1alpha1",
        "kind": "CommitStatus",
        "metadata": {
            "name": commit_status_name(key, sha),
            "namespace": spec.project.promoter_namespace,
            "labels": {"app.kubernetes.io/managed-by": "gitops-gen", COMMIT_STATUS_LABEL: key},
        },
        "spec": spec_fields,
    }
    errors = list(fastschema.explainer("kinds", "CommitStatus").iter_errors(manifest))
    if errors:  # a bug, not bad input: every value above was checked
        raise AssertionError(f"invalid CommitStatus: {errors[0].message}")
    return yamlemit.dump_document(manifest, sort_keys=False)
