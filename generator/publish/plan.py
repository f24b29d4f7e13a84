"""What each environment needs from a publish (a commit, a note, a skip or nothing), and the
refs the publish then moves, each with the old value it must still have."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import GitError
from generator.git import plumbing as gitio
from generator.git.drycommit import DryCommit
from generator.git.envbranches import METADATA_FILE, NOTES_REF, Snapshot, dry_shas
from generator.spec.model import Environment


@dataclass(slots=True)
class Step:
    """What one environment needs; commits are fast-import marks until built."""

    env: Environment
    action: str
    base: str | None
    previous: str | None
    bootstrap: bool = False
    merge_root: bool = False
    """-next exists but the active branch does not: the new commit also descends from its root."""
    created: list[str] = field(default_factory=list)
    newer: str | None = None
    link: bool = False
    """A skipped merge_root step: -next keeps its tree in a merge with the new active root."""


def plan_steps(
    root: Path,
    dry: DryCommit,
    envs: Sequence[Environment],
    trees: dict[str, str],
    snap: Snapshot,
    digest_size: int,
) -> list[Step]:
    """Each environment's step, decided from its branches and their dry commits in ``snap``."""
    steps: list[Step] = []
    for env in envs:
        active, proposed = snap.heads.get(env.branch), snap.heads.get(env.next_branch)
        step = Step(env, "committed", proposed or active, proposed)
        if active is None:
            step.bootstrap = True
            step.created.append(env.branch)
            step.merge_root = proposed is not None
        if proposed is None:
            step.created.append(env.next_branch)
        steps.append(step)

    carried = dry_shas(root, [s.base for s in steps if s.base], snap.notes)
    _check_known(root, {d for d in carried.values() if d and d != dry.sha}, snap.remote)
    newer = {
        other: gitio.is_ancestor(root, dry.sha, other)
        for other in {d for d in carried.values() if d and d != dry.sha}
    }

    def undecided(step: Step) -> bool:
        if not step.base or step.merge_root:
            return False
        d = carried.get(step.base)
        return d != dry.sha and not (d and newer[d])

    candidates = [s for s in steps if undecided(s)]
    objects = gitio.cat_objects(
        root, [f"{s.base}^{{tree}}" for s in candidates] + [trees[s.env.name] for s in candidates]
    )
    same_tree: dict[str, bool] = {}
    for i, step in enumerate(candidates):
        base_obj, env_obj = objects[i], objects[len(candidates) + i]
        assert base_obj and env_obj
        base_entries = gitio.parse_tree(base_obj[1], digest_size)
        base_entries.pop(METADATA_FILE, None)
        same_tree[step.env.name] = base_entries == gitio.parse_tree(env_obj[1], digest_size)

    for step in steps:
        if not step.base:
            continue  # a new root: always a commit
        d = carried.get(step.base)
        if step.merge_root:
            # The active branch is missing: -next must still descend from its new root, but
            # never take an older dry commit's tree; a newer one keeps its tree in the merge.
            if d and d != dry.sha and newer[d]:
                step.action, step.newer, step.link = "skipped", d, True
            continue
        if d == dry.sha:
            step.action = "up-to-date"
        elif d and newer[d]:
            step.action, step.newer = "skipped", d
        elif same_tree[step.env.name]:
            step.action = "note"
    return steps


def _check_known(root: Path, shas: set[str], remote: str | None) -> None:
    """Dry commits on the branches must be in this repository to tell older from newer."""
    missing = gitio.missing_commits(root, sorted(shas))
    if missing and remote:
        gitio.fetch(root, remote, sorted(missing), check=False)
        missing = gitio.missing_commits(root, sorted(missing))
    if missing:
        raise GitError(
            f"the environment branches carry dry commit {sorted(missing)[0]}, which is not in this "
            "repository, so publish cannot tell whether it is newer than HEAD; fetch the dry "
            "branch's full history (for example actions/checkout with fetch-depth: 0) and retry"
        )


def ref_updates(
    steps: list[Step],
    snap: Snapshot,
    roots: dict[str, str],
    tips: dict[str, str],
    notes: str | None,
) -> list[tuple[str, str, str | None]]:
    """(ref, new, expected old or None to create) for every ref this publish moves or creates.

    A noted -next tip is listed with new == old: it must still be the tip when the notes land,
    or an older publisher's commit pushed meanwhile would end up on -next with our note
    stranded below it.

    The notes ref comes first: if git fails part way through moving the refs (a reflog it cannot
    write), every branch that moved has its note, and a note on a commit that no branch has yet
    is harmless: the next run makes that commit again, with the same id.
    """
    updates: list[tuple[str, str, str | None]] = [(NOTES_REF, notes, snap.notes)] if notes else []
    for step in steps:
        env = step.env
        if env.name in roots:
            updates.append((f"refs/heads/{env.branch}", roots[env.name], None))
        new_tip = tips.get(env.name) or step.base or roots.get(env.name)
        old_tip = snap.heads.get(env.next_branch)
        if new_tip and (new_tip != old_tip or step.action == "note"):
            updates.append((f"refs/heads/{env.next_branch}", new_tip, old_tip))
    return updates
