"""publish's guards, each as a user meets it: never backwards, other branches, no-op notes."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from generator.publish.branches import publish
from generator.publish.results import PublishResult, describe
from generator.render.repository import render_repository
from tests.conftest import git

ENVS = ("staging", "demo", "prod")


def set_host(root: Path, env: str, host: str, message: str) -> str:
    """A dry commit that changes one environment's ingress host; returns its sha."""
    path = root / "environments" / f"{env}.yaml"
    path.write_text(re.sub(r"host: \S+", f"host: {host}", path.read_text(), count=1))
    render_repository(root)
    git(root, "add", "environments", "rendered")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def refs(repo: Path) -> dict[str, str]:
    out = git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    return dict(line.split() for line in out.splitlines())


def carried(repo: Path, rev: str) -> str:
    """The dry sha a hydrated commit carries: its note first, then its hydrator.metadata."""
    shown = subprocess.run(
        ["git", "-C", str(repo), "notes", "--ref=hydrator.metadata", "show", rev],
        capture_output=True,
        text=True,
    )
    if shown.returncode == 0:
        return str(json.loads(shown.stdout)["drySha"])
    return str(json.loads(git(repo, "show", f"{rev}:hydrator.metadata"))["drySha"])


def actions(result: PublishResult) -> dict[str, str]:
    return {e.name: e.action for e in result.environments}


def test_a_publish_from_another_branch_does_not_stop_main(dry_repo: Path) -> None:
    """A feature branch published first is not 'newer' than main's next commit: main commits."""
    base = git(dry_repo, "rev-parse", "HEAD")
    publish(dry_repo)
    git(dry_repo, "checkout", "-q", "-b", "feature")
    feature = set_host(dry_repo, "staging", "feature.example.com", "Try a staging host")
    assert actions(publish(dry_repo)) == {
        "staging": "committed",
        "demo": "note",
        "prod": "note",
    }
    git(dry_repo, "checkout", "-q", "main")
    assert git(dry_repo, "rev-parse", "HEAD") == base
    main = set_host(dry_repo, "prod", "prod2.example.com", "Move prod")
    result = publish(dry_repo)
    # staging's tree differs from the feature's, prod's changed, demo's is the same as before.
    assert actions(result) == {"staging": "committed", "demo": "note", "prod": "committed"}
    assert all(e.newer is None for e in result.environments)
    for env in ENVS:
        assert carried(dry_repo, f"environment/{env}-next") == main
    lines = describe(result)
    assert not any("skipped" in line for line in lines)
    assert lines[-1] == f"published {main[:7]}: 3 environments updated locally"
    assert feature != main


def test_the_main_commit_a_feature_branched_from_is_older(dry_repo: Path) -> None:
    """The other side of the rule: the feature's dry commit descends from HEAD, so it is newer."""
    base = git(dry_repo, "rev-parse", "HEAD")
    git(dry_repo, "checkout", "-q", "-b", "feature")
    feature = set_host(dry_repo, "demo", "demo2.example.com", "Move demo")
    publish(dry_repo)
    before = refs(dry_repo)
    git(dry_repo, "checkout", "-q", "main")
    assert git(dry_repo, "rev-parse", "HEAD") == base
    result = publish(dry_repo)
    assert actions(result) == dict.fromkeys(ENVS, "skipped")
    assert describe(result)[:3] == [
        f"{env}: skipped (newer: {feature[:7]} is already there)" for env in ENVS
    ]
    assert describe(result)[-1] == f"{base[:7]} is already published"
    assert refs(dry_repo) == before


def test_a_no_op_commit_is_noted_and_says_so(dry_repo: Path) -> None:
    first = publish(dry_repo)
    tips = {e.name: e.commit for e in first.environments}
    git(dry_repo, "commit", "-q", "--allow-empty", "-m", "Touch nothing")
    head = git(dry_repo, "rev-parse", "HEAD")
    result = publish(dry_repo)
    assert actions(result) == dict.fromkeys(ENVS, "note")
    for env in result.environments:
        # the -next tip stays where it was and is reported as such
        assert env.commit == env.previous == tips[env.name]
        assert git(dry_repo, "rev-parse", f"environment/{env.name}-next") == tips[env.name]
        assert carried(dry_repo, f"environment/{env.name}-next") == head
    assert describe(result) == [
        *(f"{env}: note on {tips[env][:7]} (tree unchanged)" for env in ENVS),
        f"published {head[:7]}: 3 environments updated locally",
    ]
    again = publish(dry_repo)
    assert actions(again) == dict.fromkeys(ENVS, "up-to-date")
    assert describe(again)[-1] == f"{head[:7]} is already published"


def test_a_note_is_never_left_below_a_tip_that_moved_meanwhile(dry_repo: Path) -> None:
    """A -next tip moved by another writer (a hand-made commit that leaves the notes alone) while a
    note-only publish runs: the note must not land on the commit that is no longer the tip. The
    publish notices, retries, and notes the new tip."""
    publish(dry_repo, only=["staging"])
    git(dry_repo, "commit", "-q", "--allow-empty", "-m", "Touch nothing")
    head = git(dry_repo, "rev-parse", "HEAD")
    moved: list[str] = []

    def interfere(message: str) -> None:
        if message.startswith("building") and not moved:
            tip = git(dry_repo, "rev-parse", "environment/staging-next")
            by_hand = git(dry_repo, "commit-tree", f"{tip}^{{tree}}", "-p", tip, "-m", "By hand")
            git(dry_repo, "update-ref", "refs/heads/environment/staging-next", by_hand, tip)
            moved.append(by_hand)

    result = publish(dry_repo, only=["staging"], progress=interfere, sleep=lambda s: 0)
    assert moved
    assert result.attempts == 2
    assert actions(result) == {"staging": "note"}
    assert result.environments[0].commit == moved[0]
    assert git(dry_repo, "rev-parse", "environment/staging-next") == moved[0]
    assert carried(dry_repo, moved[0]) == head


def test_a_sha256_repository_tells_unchanged_trees_from_changed_ones(example_repo: Path) -> None:
    """Tree entries are 32 bytes there: a no-op commit is still a note, a change still a commit."""
    git(example_repo, "init", "-q", "--object-format=sha256")
    git(example_repo, "add", ".")
    git(example_repo, "commit", "-q", "-m", "Add the environments")
    assert len(git(example_repo, "rev-parse", "HEAD")) == 64
    publish(example_repo)
    git(example_repo, "commit", "-q", "--allow-empty", "-m", "Touch nothing")
    assert actions(publish(example_repo)) == dict.fromkeys(ENVS, "note")
    head = set_host(example_repo, "demo", "demo2.example.com", "Move demo")
    assert actions(publish(example_repo)) == {
        "staging": "note",
        "demo": "committed",
        "prod": "note",
    }
    for env in ENVS:
        assert carried(example_repo, f"environment/{env}-next") == head


def test_a_new_environment_does_not_stop_the_others_from_being_decided(dry_repo: Path) -> None:
    """staging has no branches yet (it is first in the order); demo and prod do."""
    publish(dry_repo, only=["demo", "prod"])
    git(dry_repo, "commit", "-q", "--allow-empty", "-m", "Touch nothing")
    result = publish(dry_repo)
    assert actions(result) == {"staging": "committed", "demo": "note", "prod": "note"}
    assert result.environments[0].created == ("environment/staging", "environment/staging-next")


def test_a_missing_active_branch_with_an_older_dry_commit_on_next_gets_a_commit(
    dry_repo: Path,
) -> None:
    """The active branch was deleted, -next carries an older dry commit: HEAD is committed onto
    -next, which also descends from the new active root."""
    first = publish(dry_repo).environments[0].commit
    git(dry_repo, "update-ref", "-d", "refs/heads/environment/staging")
    head = set_host(dry_repo, "staging", "stg2.example.com", "Move staging")
    result = publish(dry_repo)
    # and the environments after it in the order are decided as usual
    assert actions(result) == {"staging": "committed", "demo": "note", "prod": "note"}
    staging = result.environments[0]
    assert staging.newer is None
    assert staging.created == ("environment/staging",)
    tip, active = git(
        dry_repo, "rev-parse", "environment/staging-next", "environment/staging"
    ).split()
    assert git(dry_repo, "log", "-1", "--format=%P", tip) == f"{first} {active}"
    assert carried(dry_repo, tip) == head
