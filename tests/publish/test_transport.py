"""publish, status and wait over a real network transport: git daemon on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from tests.conftest import git, init_dry_repo
from tests.publish.test_branches import set_host


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A git daemon serving tmp_path/served (push enabled); yields (base URL, served directory)."""
    served = tmp_path / "served"
    served.mkdir()
    port = free_port()
    process = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--listen=127.0.0.1",
            f"--port={port}",
            f"--base-path={served}",
            "--export-all",
            "--enable=receive-pack",
            "--informative-errors",
            str(served),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("git daemon did not start")
                time.sleep(0.05)
        yield f"git://127.0.0.1:{port}", served
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_publish_status_and_wait_over_git_daemon(
    example_repo: Path, daemon: tuple[str, Path], tmp_path: Path
) -> None:
    base, served = daemon
    bare = served / "gitops.git"
    git(served, "init", "-q", "--bare", str(bare))
    url = f"{base}/gitops.git"
    dry_repo = init_dry_repo(example_repo)
    git(dry_repo, "push", "-q", url, "main")
    runner = CliRunner()

    first = runner.invoke(
        main, ["-C", str(dry_repo), "publish", "--push", "--remote", url, "--format", "json"]
    )
    assert first.exit_code == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["pushed"] and data["remote"] == url
    heads = git(bare, "for-each-ref", "--format=%(refname)", "refs/heads/environment/")
    assert len(heads.splitlines()) == 6

    # the SCM merges staging's promotion; then a new dry commit is published on top
    scm = tmp_path / "scm"
    git(tmp_path, "clone", "-q", url, str(scm))
    git(scm, "checkout", "-q", "-B", "active", "origin/environment/staging")
    git(scm, "merge", "-q", "--no-ff", "-m", "Promote staging", "origin/environment/staging-next")
    git(scm, "push", "-q", "origin", "HEAD:refs/heads/environment/staging")
    old_tip = git(bare, "rev-parse", "environment/staging-next")
    head = set_host(dry_repo, "staging", "stg.example.com", "Move staging")
    git(dry_repo, "push", "-q", url, "main")
    second = runner.invoke(main, ["-C", str(dry_repo), "publish", "--push", "--remote", url])
    assert second.exit_code == 0, second.stderr
    assert "demo: note on" in second.stderr and "staging: committed" in second.stderr
    assert git(bare, "rev-parse", "environment/staging-next^") == old_tip

    status = runner.invoke(
        main, ["-C", str(dry_repo), "status", "--remote", url, "--format", "json"]
    )
    assert status.exit_code == 0, status.stderr
    envs = json.loads(status.stdout)["environments"]
    assert [e["proposed"]["drySha"] for e in envs] == [head] * 3
    assert envs[0]["state"] == "pending"

    first_dry = data["drySha"]
    waited = runner.invoke(
        main,
        [
            "-C",
            str(dry_repo),
            "wait",
            "--env",
            "staging",
            "--dry-sha",
            first_dry,
            "--remote",
            url,
            "--timeout",
            "5s",
            "--interval",
            "0.1s",
        ],
    )
    assert waited.exit_code == 0, waited.stderr

    unreachable = f"git://127.0.0.1:{free_port()}/gitops.git"
    failed = runner.invoke(
        main, ["-C", str(dry_repo), "publish", "--push", "--remote", unreachable]
    )
    assert failed.exit_code == 1
    assert failed.stderr.startswith(f"error: cannot fetch from {unreachable}: ")
    assert len(failed.stderr.strip().splitlines()) == 1
