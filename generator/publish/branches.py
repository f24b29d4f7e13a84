"""Publishing: plan each environment's step, build the commits, move the branches in one atomic
update or push, and plan again when another writer moved them meanwhile."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from generator.errors import GitError, PublishError, UsageError
from generator.git import plumbing as gitio
from generator.git.drycommit import (
    DEFAULT_IDENTITY,
    DryCommit,
    Identity,
    check_clean,
    check_fresh,
    environment_trees,
    head_spec,
)
from generator.git.envbranches import Snapshot, default_remote, snapshot
from generator.publish.plan import Step, plan_steps, ref_updates
from generator.publish.results import EnvironmentResult, PublishResult
from generator.publish.stream import build_commits
from generator.spec.model import Environment, Spec

# Identity and DEFAULT_IDENTITY are part of publish's interface (the CLI builds them).
__all__ = ["DEFAULT_IDENTITY", "Identity", "publish"]

MAX_ATTEMPTS = 5
WRITES = ("committed", "note")
# Seconds to wait before attempt 2, 3, ...: a concurrent publisher usually finishes within these.
BACKOFF = (0.2, 0.5, 1.0, 2.0)

Progress = Callable[[str], None]


def publish(
    root: Path,
    *,
    only: Sequence[str] = (),
    push: bool = False,
    remote: str | None = None,
    dry_run: bool = False,
    identity: Identity = DEFAULT_IDENTITY,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PublishResult:
    """Publish HEAD's rendered environments onto their -next branches (see docs/publish.md)."""
    say = progress or (lambda message: None)
    gitio.require_repository(root)
    head = gitio.rev_parse(root, "HEAD")
    if head is None:
        raise PublishError("HEAD has no commit: commit environments/ and rendered/ first")
    if remote and not push:
        raise UsageError("--remote is only used with --push (add --dry-run to preview a push)")
    check_clean(root, head)
    spec = head_spec(root, head)
    envs = _select(spec, only)
    trees = environment_trees(root, head)
    missing = [e.name for e in envs if e.name not in trees]
    if missing:
        raise PublishError(
            f"HEAD has no rendered/environments/{missing[0]}/; run gitops-gen render"
        )
    dry = DryCommit.read(root, head)
    digest_size = len(head) // 2
    branches = [b for e in envs for b in (e.branch, e.next_branch)]
    target = default_remote(root, remote) if push else None
    if target is None:
        _check_not_behind_origin(root, branches)

    fresh = False
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if target:
            say(f"fetching {target}")
        with snapshot(root, target, spec.project.branch_prefix, branches) as snap:
            steps = plan_steps(root, dry, envs, trees, snap, digest_size)
            if not fresh and (dry_run or any(s.action in WRITES or s.created for s in steps)):
                # Rendering is the slow part; when HEAD is already everywhere it is not needed.
                say("checking rendered/")
                check_fresh(root, head, spec)
                fresh = True
            if dry_run:
                return _result(dry, target, False, True, attempt, steps, snap, {}, {})
            say(_count(sum(s.action == "committed" for s in steps), "building {} commit"))
            roots, tips, notes = build_commits(
                root, dry, steps, snap, trees, spec.project.repo_url, identity
            )
            updates = ref_updates(steps, snap, roots, tips, notes)
            if all(new == old for _, new, old in updates):
                return _result(dry, target, False, False, attempt, steps, snap, roots, tips)
            if target:
                say(_count(len(updates), "pushing {} ref") + f" to {target}")
                refspecs = [f"{new}:{ref}" for ref, new, _ in updates]
                accepted, stale, message = gitio.push_atomic(root, target, refspecs)
                if accepted:
                    return _result(dry, target, True, False, attempt, steps, snap, roots, tips)
                if not stale:
                    raise GitError(f"push to {target} failed: {message}")
            else:
                try:
                    gitio.update_refs(root, updates)
                    return _result(dry, None, False, False, attempt, steps, snap, roots, tips)
                except GitError as e:
                    if "but expected" not in str(e) and "already exists" not in str(e):
                        raise
        if attempt < MAX_ATTEMPTS:
            say(f"the branches moved; retrying ({attempt + 1}/{MAX_ATTEMPTS})")
            sleep(BACKOFF[min(attempt - 1, len(BACKOFF) - 1)] * (1 + secrets.randbelow(100) / 100))
    where = target or "the local repository"
    raise GitError(
        f"the environment branches in {where} kept moving; gave up after {MAX_ATTEMPTS} attempts"
    )


def _check_not_behind_origin(root: Path, branches: Sequence[str]) -> None:
    """Refuse to bootstrap a local branch that origin already has (by its remote-tracking ref).

    A local root beside origin's branch is an unrelated history that could never be pushed.
    Offline: only what the last fetch recorded under refs/remotes/origin/ is known.
    """
    refs = gitio.list_refs(root, "refs/heads/", "refs/remotes/origin/")
    for branch in branches:
        if f"refs/heads/{branch}" not in refs and f"refs/remotes/origin/{branch}" in refs:
            raise UsageError(
                f"origin has {branch} but there is no local branch of that name; publish with "
                "--push to publish to origin, or create the local branches from origin first "
                f"(git branch {branch} origin/{branch})"
            )


def _select(spec: Spec, only: Sequence[str]) -> list[Environment]:
    known = {e.name for e in spec.environments}
    unknown = [name for name in only if name not in known]
    if unknown:
        known_list = ", ".join(e.name for e in spec.environments)
        raise UsageError(f"--env {unknown[0]}: no such environment; known: {known_list}")
    return [e for e in spec.environments if not only or e.name in only]


def _result(
    dry: DryCommit,
    remote: str | None,
    pushed: bool,
    dry_run: bool,
    attempts: int,
    steps: list[Step],
    snap: Snapshot,
    roots: dict[str, str],
    tips: dict[str, str],
) -> PublishResult:
    results = []
    for step in steps:
        name = step.env.name
        if name in tips:
            commit: str | None = tips[name]
        elif step.action == "committed" or step.link:
            commit = None  # a dry run did not make it
        else:
            commit = step.base or roots.get(name)
        results.append(
            EnvironmentResult(
                name,
                step.env.branch,
                step.env.next_branch,
                step.action,
                commit,
                snap.heads.get(step.env.next_branch),
                tuple(step.created),
                step.newer,
            )
        )
    return PublishResult(dry.sha, remote, pushed, dry_run, attempts, tuple(results))


def _count(count: int, text: str) -> str:
    """``_count(2, "pushing {} ref")`` → ``pushing 2 refs``."""
    return text.format(count) + ("" if count == 1 else "s")
