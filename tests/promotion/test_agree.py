"""status, wait and diff --promotion read branches, notes and dry commits through one layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.publish.branches import publish
from tests.conftest import git
from tests.publish.test_branches import promoter_round, set_host

ENVS = ("staging", "demo", "prod")


def run(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def status_view(root: Path, *remote: str) -> dict[str, dict[str, Any]]:
    """{env: {active|proposed: (commit, dry sha)}} as ``status --format json`` tells it."""
    code, out, err = run(root, "status", *remote, "--format", "json")
    assert code == 0, err
    view: dict[str, dict[str, Any]] = {}
    for env in json.loads(out)["environments"]:
        view[env["name"]] = {
            side: (env[side]["commit"], env[side]["drySha"]) if env[side] else None
            for side in ("active", "proposed")
        }
    return view


def diff_view(root: Path, env: str, *remote: str) -> dict[str, Any]:
    """{active|proposed: (commit, dry sha)} as ``diff --promotion ENV --format json`` tells it."""
    code, out, err = run(root, "diff", "--promotion", env, *remote, "--format", "json")
    assert code in (0, 1), err
    data = json.loads(out)
    return {
        "active": (data["base"]["commit"], data["base"]["drySha"]),
        "proposed": (data["head"]["commit"], data["head"]["drySha"]),
    }


def assert_agree(root: Path, *remote: str) -> dict[str, dict[str, Any]]:
    status = status_view(root, *remote)
    for env in ENVS:
        assert diff_view(root, env, *remote) == status[env], env
    return status


def tracking_refs(root: Path) -> str:
    return git(root, "for-each-ref", "--format=%(objectname) %(refname)", "refs/remotes/")


# --- the reproduction of issue 15 ---------------------------------------------------------------


@pytest.fixture
def note_only(dry_repo: Path, remote: Path) -> tuple[str, str]:
    """Publish, change only prod, publish again: staging and demo get a note only.

    Returns (first dry commit, second dry commit).
    """
    first = git(dry_repo, "rev-parse", "HEAD")
    publish(dry_repo, push=True)
    second = set_host(dry_repo, "prod", "prod.example.com", "Move prod")
    git(dry_repo, "push", "-q", "origin", "main")
    result = publish(dry_repo, push=True)
    assert {e.name: e.action for e in result.environments} == {
        "staging": "note",
        "demo": "note",
        "prod": "committed",
    }
    return first, second


def test_diff_promotion_reads_the_note_that_status_reads(
    dry_repo: Path, note_only: tuple[str, str]
) -> None:
    _, second = note_only
    status = status_view(dry_repo, "--remote", "origin")
    assert status["staging"]["proposed"][1] == second
    diff = diff_view(dry_repo, "staging", "--remote", "origin")
    assert diff["proposed"] == status["staging"]["proposed"]
    assert diff["proposed"][1] == second


def test_diff_promotion_defaults_to_origin(dry_repo: Path, note_only: tuple[str, str]) -> None:
    _, second = note_only
    diff = diff_view(dry_repo, "staging")
    assert diff["proposed"][1] == second
    assert diff == diff_view(dry_repo, "staging", "--remote", "origin")
    _, out, _ = run(dry_repo, "diff", "--promotion", "staging", "--format", "json")
    assert json.loads(out)["base"]["label"] == "origin/environment/staging"


def test_diff_promotion_accepts_a_remote_url(
    dry_repo: Path, remote: Path, note_only: tuple[str, str]
) -> None:
    _, second = note_only
    diff = diff_view(dry_repo, "staging", "--remote", str(remote))
    assert diff["proposed"][1] == second
    assert diff == diff_view(dry_repo, "staging", "--remote", "origin")


def test_a_second_clone_gets_one_answer_before_and_after_status(
    remote: Path, note_only: tuple[str, str], tmp_path: Path
) -> None:
    _, second = note_only
    clone = tmp_path / "second"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    before = {env: diff_view(clone, env) for env in ENVS}
    status = status_view(clone)
    after = {env: diff_view(clone, env) for env in ENVS}
    assert before == after == status
    assert all(status[env]["proposed"][1] == second for env in ENVS)


# --- remote-tracking refs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["wait", "--env", "staging", "--dry-sha", "0" * 40, "--timeout", "0"],
        ["diff", "--promotion", "staging"],
        ["diff", "--promotion", "staging", "--remote", "origin"],
    ],
)
def test_reading_a_remote_never_moves_its_tracking_refs(
    dry_repo: Path, remote: Path, tmp_path: Path, command: list[str]
) -> None:
    publish(dry_repo, push=True)
    git(dry_repo, "fetch", "-q", "origin")
    # Another publisher moves every branch on origin; this clone's tracking refs fall behind.
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    set_host(other, "staging", "staging.example.com", "Move staging")
    git(other, "push", "-q", "origin", "main")
    publish(other, push=True)
    before = tracking_refs(dry_repo)
    assert "refs/remotes/origin/environment/staging-next" in before

    code, _, err = run(dry_repo, *command)
    assert code in (0, 1), err

    assert tracking_refs(dry_repo) == before
    assert git(dry_repo, "for-each-ref", "refs/gitops-gen/") == ""
    assert git(dry_repo, "for-each-ref", "refs/notes/") == ""


# --- status and diff --promotion agree on every environment -------------------------------------


def test_status_and_diff_agree_on_every_environment(
    dry_repo: Path, remote: Path, tmp_path: Path
) -> None:
    """Notes, no-op publishes, moved branches (Promoter merges, another publisher), a second clone."""
    scm = tmp_path / "scm"
    git(tmp_path, "clone", "-q", str(remote), str(scm))
    first = git(dry_repo, "rev-parse", "HEAD")
    publish(dry_repo, push=True)
    assert_agree(dry_repo)

    promoter_round(remote, scm, "staging")  # staging merged: a merge commit with no note
    git(dry_repo, "commit", "-q", "--allow-empty", "-m", "No-op")
    git(dry_repo, "push", "-q", "origin", "main")
    publish(dry_repo, push=True)  # notes only, on the Promoter's ours-merge for staging
    noop = git(dry_repo, "rev-parse", "HEAD")
    status = assert_agree(dry_repo)
    assert {status[env]["proposed"][1] for env in ENVS} == {noop}

    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    newer = set_host(other, "demo", "demo.example.com", "Move demo")
    git(other, "push", "-q", "origin", "main")
    publish(other, push=True)  # the branches move under dry_repo
    promoter_round(remote, scm, "demo")
    status = assert_agree(dry_repo)
    assert {status[env]["proposed"][1] for env in ENVS} == {newer}
    assert status["demo"]["active"][1] == newer
    assert status["staging"]["active"][1] == first  # promoted before the no-op was noted
    assert status["prod"]["active"][1] is None  # the root publish made: no dry commit yet

    second = tmp_path / "second"
    git(tmp_path, "clone", "-q", str(remote), str(second))
    assert assert_agree(second) == status
    assert assert_agree(second, "--remote", str(remote)) == status

    # The local branches and notes of a repository that publishes without pushing.
    local = tmp_path / "local"
    git(tmp_path, "clone", "-q", str(remote), str(local))
    git(local, "remote", "remove", "origin")
    publish(local)
    git(local, "commit", "-q", "--allow-empty", "-m", "Local no-op")
    publish(local)
    status = assert_agree(local)
    assert {status[env]["proposed"][1] for env in ENVS} == {git(local, "rev-parse", "HEAD")}


@pytest.mark.parametrize("command", ["status", "wait", "diff"])
def test_help_says_the_remote_defaults_to_origin(tmp_path: Path, command: str) -> None:
    code, out, _ = run(tmp_path, command, "--help")
    assert code == 0
    help_text = " ".join(out.split())
    assert "--remote NAME|URL" in help_text
    assert "default: origin" in help_text
