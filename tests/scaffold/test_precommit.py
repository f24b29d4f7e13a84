"""The pre-commit hooks, run by the real pre-commit against a temporary GitOps repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator.scaffold.project import init_repository
from tests.conftest import REPO, git, snapshot_tree

HOOKS = ("gitops-gen-check", "gitops-gen-render")


def test_hooks_file_declares_both_hooks() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert [hook["id"] for hook in hooks] == list(HOOKS)
    for hook in hooks:
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False
        assert hook["entry"] == "gitops-gen " + hook["id"].removeprefix("gitops-gen-")
        assert hook["files"] == "^(environments|templates|rendered)/"


def snapshot_checkout(destination: Path) -> str:
    """A git repository holding this checkout's working tree (uncommitted changes included)."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        source = REPO / rel
        if source.is_file():
            (destination / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / rel)
    git(destination, "init", "-q")
    git(destination, "add", "-A")
    git(destination, "commit", "-q", "-m", "snapshot")
    return git(destination, "rev-parse", "HEAD")


def pre_commit(root: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_real_pre_commit_runs_both_hooks(tmp_path: Path) -> None:
    hooks_repo = tmp_path / "gitops-gen"
    sha = snapshot_checkout(hooks_repo)
    root = tmp_path / "shop-gitops"
    init_repository(root, name="shop")
    (root / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {hooks_repo}\n"
        f"    rev: {sha}\n"
        "    hooks:\n" + "".join(f"      - id: {hook}\n" for hook in HOOKS)
    )
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "scaffold")
    home = tmp_path / "pre-commit-home"

    # Up to date: both hooks pass (pre-commit builds its own environment from the hooks repo).
    result = pre_commit(root, home, "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gitops-gen check (rendered/ is up to date)" in result.stdout
    assert "Passed" in result.stdout

    # A spec change without a render: check fails with the diff and writes nothing.
    staging = root / "environments/staging.yaml"
    staging.write_text(
        staging.read_text().replace("namespace: shop-staging", "namespace: shop-stg")
    )
    git(root, "add", "environments/staging.yaml")
    before = snapshot_tree(root / "rendered")
    result = pre_commit(root, home, "run", "gitops-gen-check")
    assert result.returncode == 1, result.stdout
    assert "Failed" in result.stdout
    assert "+    namespace: shop-stg" in result.stdout
    assert "rendered/ is stale" in result.stdout
    assert snapshot_tree(root / "rendered") == before

    # Changes elsewhere do not run the hook at all.
    result = pre_commit(root, home, "run", "gitops-gen-check", "--files", "README.md")
    assert result.returncode == 0, result.stdout
    assert "Skipped" in result.stdout

    # The render hook fixes rendered/ and stops the commit, as formatters do; then check passes.
    result = pre_commit(root, home, "run", "gitops-gen-render")
    assert result.returncode == 1, result.stdout
    assert "files were modified by this hook" in result.stdout
    assert snapshot_tree(root / "rendered") != before
    git(root, "add", "rendered")
    result = pre_commit(root, home, "run", "gitops-gen-check")
    assert result.returncode == 0, result.stdout + result.stderr
