"""A dry commit published from another branch does not stop a publish from this one.

Only a dry commit that descends from HEAD is newer than HEAD; one on a branch HEAD does not contain
(a feature branch published for a preview) is replaced like any older one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from click.testing import CliRunner

from generator.cli import main
from tests.conftest import git


def _change(root: Path, env: str, old: str, new: str, message: str) -> str:
    path = root / "environments" / f"{env}.yaml"
    path.write_text(path.read_text().replace(old, new))
    assert CliRunner().invoke(main, ["-C", str(root), "render"]).exit_code == 0
    git(root, "commit", "-qam", message)
    return git(root, "rev-parse", "HEAD")


def _publish(root: Path) -> str:
    result = CliRunner().invoke(main, ["-C", str(root), "publish"])
    assert result.exit_code == 0, result.output
    return result.stderr


def _dry_sha(root: Path, branch: str) -> str:
    tree = git(root, "show", f"{branch}:hydrator.metadata")
    return tree.split('"drySha": "')[1].split('"')[0]


def test_a_publish_from_main_replaces_what_a_feature_branch_published(dry_repo: Path) -> None:
    _publish(dry_repo)
    git(dry_repo, "checkout", "-qb", "feature")
    feature = _change(dry_repo, "demo", "demo.serviceradar.cloud", "preview.example.org", "Preview")
    assert "demo: committed" in _publish(dry_repo)
    assert _dry_sha(dry_repo, "environment/demo-next") == feature

    git(dry_repo, "checkout", "-q", "main")
    main_sha = _change(dry_repo, "demo", "demo.serviceradar.cloud", "demo.example.org", "Move demo")
    is_ancestor = ["git", "-C", str(dry_repo), "merge-base", "--is-ancestor", feature, main_sha]
    assert subprocess.run(is_ancestor, check=False).returncode == 1, "main does not contain it"
    report = _publish(dry_repo)
    assert f"demo: committed {git(dry_repo, 'rev-parse', 'environment/demo-next')}"[:17] in report
    assert "skipped" not in report
    assert _dry_sha(dry_repo, "environment/demo-next") == main_sha
    values = git(dry_repo, "show", "environment/demo-next:serviceradar/values.yaml")
    assert "host: demo.example.org" in values


def test_a_dry_commit_that_descends_from_head_is_still_newer(dry_repo: Path) -> None:
    """The other side of the rule: publishing an older commit after a newer one is skipped."""
    old = git(dry_repo, "rev-parse", "HEAD")
    _change(dry_repo, "demo", "demo.serviceradar.cloud", "demo.example.org", "Move demo")
    newer = git(dry_repo, "rev-parse", "HEAD")
    _publish(dry_repo)
    git(dry_repo, "checkout", "-q", old)
    report = _publish(dry_repo)
    assert f"demo: skipped (newer: {newer[:7]} is already there)" in report
    assert _dry_sha(dry_repo, "environment/demo-next") == newer
