# ruff: noqa: F811 - pytest passes the imported daemon fixture by name
"""publish under faults and races, over a real transport (git daemon on 127.0.0.1).

- A remote that rejects one of several refs: nothing is pushed (atomic), one clear line, a rerun
  succeeds once the remote accepts.
- A remote that dies in the middle of a push: no local or remote ref moves; a rerun succeeds.
- Four publishers for four successive dry commits race as separate processes: every environment
  ends on the newest dry commit, no ref is ever rewritten (the remote's reflog is fast-forward
  only), and every note a publisher added is still there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import git, init_dry_repo
from tests.publish.test_branches import ENVS, carried, note, refs, set_host
from tests.publish.test_transport import daemon  # noqa: F401 - the fixture

Remote = tuple[str, Path]  # (URL over git://, the bare repository on disk)


def publish_cli(root: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "-C",
            str(root),
            "publish",
            "--push",
            "--remote",
            url,
            "--format",
            "json",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _remote(daemon: tuple[str, Path], name: str = "gitops.git") -> Remote:
    base, served = daemon
    bare = served / name
    git(served, "init", "-q", "--bare", str(bare))
    git(bare, "config", "core.logAllRefUpdates", "always")
    return f"{base}/{name}", bare


def _hook(bare: Path, name: str, body: str) -> Path:
    hook = bare / "hooks" / name
    hook.write_text("#!/bin/sh\n" + body)
    hook.chmod(0o755)
    return hook


def is_ancestor(repo: Path, old: str, new: str) -> bool:
    return (
        subprocess.run(["git", "-C", str(repo), "merge-base", "--is-ancestor", old, new]).returncode
        == 0
    )


def fast_forward_only(bare: Path, ref: str) -> None:
    """Every value ``ref`` ever had on the remote is an ancestor of its current value."""
    history = git(bare, "reflog", "show", "--format=%H", ref).split()
    assert history, ref
    tip = history[0]
    for old in history:
        assert is_ancestor(bare, old, tip), f"{ref}: {old} was rewritten"


def test_remote_rejecting_one_ref_gets_nothing(
    example_repo: Path, daemon: tuple[str, Path]
) -> None:
    url, bare = _remote(daemon)
    dry = init_dry_repo(example_repo)
    git(dry, "push", "-q", url, "main")
    hook = _hook(
        bare,
        "update",
        'case "$1" in refs/heads/environment/demo-next) echo "demo is frozen" >&2; exit 1;; esac\n'
        "exit 0\n",
    )
    local_before = refs(dry)
    result = publish_cli(dry, url)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and url in lines[-1], result.stderr
    assert "Traceback" not in result.stderr
    # atomic: not one environment branch, not the notes ref
    assert (
        git(bare, "for-each-ref", "--format=%(refname)", "refs/heads/environment/", "refs/notes/")
        == ""
    )
    assert refs(dry) == local_before
    hook.unlink()
    again = publish_cli(dry, url)
    assert again.returncode == 0, again.stderr
    assert [e["action"] for e in json.loads(again.stdout)["environments"]] == ["committed"] * 3
    for env in ENVS:
        assert carried(bare, f"environment/{env}-next") == git(dry, "rev-parse", "HEAD")


def test_remote_dying_mid_push_over_the_network(
    example_repo: Path, daemon: tuple[str, Path]
) -> None:
    url, bare = _remote(daemon)
    dry = init_dry_repo(example_repo)
    git(dry, "push", "-q", url, "main")
    assert publish_cli(dry, url).returncode == 0
    head = set_host(dry, "staging", "stg.example.com", "Move staging")
    git(dry, "push", "-q", url, "main")
    # receive-pack is killed after the pack arrived, before any ref moves: the connection drops.
    hook = _hook(bare, "pre-receive", "cat >/dev/null\nkill -9 $PPID\nsleep 5\n")
    local_before, remote_before = refs(dry), refs(bare)
    result = publish_cli(dry, url)
    assert result.returncode == 1, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and url in result.stderr, result.stderr
    assert refs(dry) == local_before
    assert refs(bare) == remote_before
    hook.unlink()
    again = publish_cli(dry, url)
    assert again.returncode == 0, again.stderr
    assert carried(bare, "environment/staging-next") == head


def test_remote_gone_before_the_push(example_repo: Path, daemon: tuple[str, Path]) -> None:
    url, bare = _remote(daemon)
    dry = init_dry_repo(example_repo)
    git(dry, "push", "-q", url, "main")
    bare.rename(bare.with_name("moved.git"))
    before = refs(dry)
    result = publish_cli(dry, url)
    assert result.returncode == 1 and url in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert refs(dry) == before


def _race(example_repo: Path, daemon: tuple[str, Path], tmp_path: Path, order: list[int]) -> None:
    url, bare = _remote(daemon)
    dry = init_dry_repo(example_repo)
    commits = [git(dry, "rev-parse", "HEAD")]
    # Successive dry commits: each changes one environment, so the others get notes.
    for env, host in (
        ("staging", "s2.example.com"),
        ("demo", "d3.example.com"),
        ("staging", "s4.example.com"),
    ):
        commits.append(set_host(dry, env, host, f"Change {env} to {host}"))
    git(dry, "push", "-q", url, "main")
    clones = []
    for i, sha in enumerate(commits):
        clone = tmp_path / f"publisher-{i}"
        git(tmp_path, "clone", "-q", url, str(clone))
        git(clone, "checkout", "-q", "--detach", sha)
        clones.append(clone)
    start = time.monotonic() + 0.5
    procs = []
    for i in order:  # all four start together, in the given order
        argv = [
            sys.executable,
            "-c",
            "import sys, time; time.sleep(max(0.0, float(sys.argv[1]) - time.monotonic()));"
            "from generator.cli import main; main(sys.argv[2:])",
            str(start),
            "-C",
            str(clones[i]),
            "publish",
            "--push",
            "--remote",
            url,
            "--format",
            "json",
        ]
        procs.append(
            (i, subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        )
    results = {}
    for i, proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
        results[i] = json.loads(out)
    newest = commits[-1]
    for env in ENVS:
        ref = f"refs/heads/environment/{env}-next"
        assert carried(bare, ref) == newest, env
        fast_forward_only(bare, ref)
    if any(
        e["action"] == "note" for r in results.values() for e in r["environments"] if r["pushed"]
    ):
        fast_forward_only(bare, "refs/notes/hydrator.metadata")
    # Every note a publisher added is still there, for its own dry commit or a newer one.
    for i, result in results.items():
        for entry in result["environments"]:
            if entry["action"] == "note" and result["pushed"]:
                kept = note(bare, entry["commit"])
                assert kept is not None, (i, entry)
                assert is_ancestor(bare, commits[i], kept["drySha"]), (i, entry, kept)
    # The newest commit reached every environment, as a commit or a note.
    newest_result = results[len(commits) - 1]
    assert {e["action"] for e in newest_result["environments"]} <= {
        "committed",
        "note",
        "up-to-date",
    }


def test_four_publishers_race_over_git_daemon(
    example_repo: Path,
    daemon: tuple[str, Path],
    tmp_path: Path,
) -> None:
    _race(example_repo, daemon, tmp_path, order=[3, 0, 2, 1])


@pytest.mark.slow
@pytest.mark.parametrize("order", [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2]])
def test_four_publishers_race_many_orders(
    example_repo: Path,
    daemon: tuple[str, Path],
    tmp_path: Path,
    order: list[int],
) -> None:
    _race(example_repo, daemon, tmp_path, order=order)
