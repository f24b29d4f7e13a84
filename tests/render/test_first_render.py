"""A render where there is no rendered/ yet: each renderer writes its part as soon as it has it.

The parallel threshold is lowered so that the example (three environments) takes the forked
path: the parent renders and writes the bootstrap files and staging, a child demo and prod. Whatever happens to the
child, the tree that lands is the one a single process writes; whatever fails, rendered/ does
not appear and nothing is left behind; and errors are those of a sequential run.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from generator import forked
from generator.render import output, plan
from tests.conftest import ForkedChildren, snapshot_tree
from tests.render.test_faults import _render_stopped_at, cli, leftovers, run_cli
from tests.render.test_parallel_write import _FailingInChild, render_failing_to_write

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
import synth  # noqa: E402

pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="needs fork and two CPUs")


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch, forked_children: ForkedChildren) -> ForkedChildren:
    monkeypatch.setattr(plan, "PARALLEL_FROM", 2)
    return forked_children


@pytest.fixture
def first(example_repo: Path) -> dict[str, bytes]:
    """The example without rendered/; returns the tree a render must create."""
    expected = snapshot_tree(example_repo / "rendered")
    shutil.rmtree(example_repo / "rendered")
    return expected


def _child_part(expected: dict[str, bytes]) -> list[str]:
    """The files of the child's environments (demo and prod, the last two of three), sorted."""
    assert max(1, int(3 * plan.MINE)) == 1, "the parent's share is no longer staging alone"
    prefixes = tuple(
        f"{base}/{env}/"
        for env in ("demo", "prod")
        for base in ("environments", "bootstrap/applications")
    )
    return sorted(p for p in expected if p.startswith(prefixes))


def test_each_renderer_writes_its_part(
    example_repo: Path, first: dict[str, bytes], children: ForkedChildren
) -> None:
    code, out = cli(example_repo, "render")
    assert code == 0, out
    assert "rendered/: created" in out
    # The child wrote its part and sent back only the paths, not the text.
    [paths] = children.results
    assert sorted(paths) == _child_part(first)
    assert snapshot_tree(example_repo / "rendered") == first
    assert leftovers(example_repo) == []
    assert cli(example_repo, "check")[0] == 0


def test_the_report_lists_every_file_as_created(
    example_repo: Path, first: dict[str, bytes], children: ForkedChildren
) -> None:
    import json

    code, out = cli(example_repo, "render", "--format", "json")
    assert code == 0, out
    report = json.loads(out[: out.rindex("}") + 1])
    assert sorted(report["created"]) == sorted(first)
    assert report["updated"] == report["removed"] == []


@pytest.mark.parametrize(
    ("call", "after"),
    [
        ("open", 0),  # the child writes nothing
        ("open", 2),  # the child wrote two files: they are written again
        ("mkdir", 0),
    ],
)
def test_a_child_that_fails_leaves_its_part_to_this_process(
    example_repo: Path,
    first: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
    children: ForkedChildren,
    call: str,
    after: int,
) -> None:
    monkeypatch.setattr(output, "os", _FailingInChild(call, after, errno.EIO))
    code, out = cli(example_repo, "render")
    monkeypatch.setattr(output, "os", os)
    assert code == 0, out
    assert children.results == [None], "the child did not fail: the test proved nothing"
    assert snapshot_tree(example_repo / "rendered") == first
    assert leftovers(example_repo) == []


@pytest.mark.parametrize("part", ["parent", "child"])
def test_a_write_that_fails_creates_nothing(
    example_repo: Path,
    first: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
    children: ForkedChildren,
    part: str,
) -> None:
    pick = "environments/staging/README.md" if part == "parent" else "environments/prod/README.md"
    out = render_failing_to_write(example_repo, monkeypatch, pick)
    assert f"could not write rendered/ ({os.strerror(errno.ENOSPC)}); nothing was created" in out
    # The parent's own failure stops the child; the child's makes the parent write its part.
    assert children.results == (["cancelled"] if part == "parent" else [None])
    assert not (example_repo / "rendered").exists()
    assert leftovers(example_repo) == []


def _override(root: Path, name: str, text: str) -> None:
    path = root / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _failing_for(env: str) -> str:
    """The built-in README template, failing for one environment."""
    builtin = (REPO / "generator/render/templates/environment/README.md.j2").read_text()
    return f"{{% if env.name == {env!r} %}}{{{{ no_such_variable.x }}}}{{% endif %}}" + builtin


@pytest.mark.parametrize("where", ["bootstrap", "staging", "prod"])
def test_a_template_error_is_the_sequential_one_and_creates_nothing(
    example_repo: Path,
    first: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
    children: ForkedChildren,
    where: str,
) -> None:
    """An error in the bootstrap files, the parent's environment or the child's, with the
    kustomization broken as well (and, for the bootstrap case, prod too): the error reported is
    the one a sequential run meets first (bootstrap, environments, kustomization)."""
    _override(
        example_repo,
        "environment/README.md.j2",
        _failing_for("prod" if where == "bootstrap" else where),
    )
    _override(example_repo, "bootstrap/kustomization.yaml.j2", "{{ resources.nope.x }}\n")
    if where == "bootstrap":
        _override(example_repo, "bootstrap/scm-provider.yaml.j2", "{{ scm.nope.x }}\n")
    with monkeypatch.context() as m:
        m.setenv("GITOPS_GEN_NO_FORK", "1")
        sequential = cli(example_repo, "render")
    assert not (example_repo / "rendered").exists()
    code, out = cli(example_repo, "render")
    assert (code, out) == sequential
    failing = "scm-provider.yaml.j2" if where == "bootstrap" else "README.md.j2"
    assert code == 2 and f"/{failing}" in out and "kustomization" not in out, out
    assert children.results == ([None] if where == "prod" else ["cancelled"])
    assert not (example_repo / "rendered").exists()
    assert leftovers(example_repo) == []


def test_an_error_of_the_kustomization_alone_creates_nothing(
    example_repo: Path, first: dict[str, bytes], children: ForkedChildren
) -> None:
    _override(example_repo, "bootstrap/kustomization.yaml.j2", "{{ resources.nope.x }}\n")
    code, out = cli(example_repo, "render")
    assert code == 2 and "templates/bootstrap/kustomization.yaml.j2" in out, out
    assert isinstance(children.results[0], list)  # the child's part was fine, and written
    assert not (example_repo / "rendered").exists()
    assert leftovers(example_repo) == []


# --- killed at each step, in a repository large enough to fork for real -------------------------


@pytest.fixture
def large_first(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """50 environments (past the parallel threshold) and no rendered/; the tree to expect."""
    root = tmp_path / "repo"
    synth.generate(root, max(plan.PARALLEL_FROM, 50), 1)
    run_cli(root, "render", check=True)
    expected = snapshot_tree(root / "rendered")
    shutil.rmtree(root / "rendered")
    return root, expected


@pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="needs /proc to see a stopped process"
)
@pytest.mark.parametrize("point", ["before-staging", "mid-write", "staged", "swapped"])
def test_a_first_render_killed_at_each_step(
    large_first: tuple[Path, dict[str, bytes]], point: str
) -> None:
    root, expected = large_first
    proc = _render_stopped_at(root, point)
    staged = leftovers(root)
    proc.kill()
    proc.wait()
    if point in ("mid-write", "staged"):
        assert staged, "no staging tree existed at the kill: it landed too early"
    if point == "swapped":
        assert snapshot_tree(root / "rendered") == expected
    else:
        assert not (root / "rendered").exists(), "a partial rendered/ appeared"
    # The next render cleans up under the lock and creates the whole tree.
    result = run_cli(root, "render")
    assert result.returncode == 0, result.stderr
    assert snapshot_tree(root / "rendered") == expected
    assert leftovers(root) == []


def test_a_first_render_forks_and_matches_one_process(
    large_first: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    root, expected = large_first
    copy = tmp_path / "sequential"
    shutil.copytree(root, copy)
    env: dict[str, Any] = {**os.environ, "GITOPS_GEN_NO_FORK": "1"}
    subprocess.run(
        [sys.executable, "-m", "generator", "-C", str(copy), "render"],
        env=env,
        check=True,
        capture_output=True,
    )
    assert run_cli(root, "render").returncode == 0
    assert snapshot_tree(root / "rendered") == snapshot_tree(copy / "rendered") == expected


def test_no_process_to_spare_renders_in_this_one(
    example_repo: Path, first: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """fork refused (a pids limit): the render and the parse are done here, the same."""
    monkeypatch.setattr(plan, "PARALLEL_FROM", 2)

    def refused() -> int:
        raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))

    monkeypatch.setattr(os, "fork", refused)
    code, out = cli(example_repo, "render")
    monkeypatch.undo()
    assert code == 0, out
    assert snapshot_tree(example_repo / "rendered") == first
    assert leftovers(example_repo) == []


def test_a_folder_that_cannot_be_synced_after_the_rename_is_a_warning(
    example_repo: Path, first: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """rendered/ is in place and complete when the fsync of the folder above it fails: say so,
    but do not claim that nothing was created."""

    def failing(directory: Path) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(output, "_fsync_dir", failing)
    code, out = cli(example_repo, "render")
    assert code == 0, out
    assert "warning: rendered/ was created, but the folder that holds it could not be synced" in out
    assert "nothing was created" not in out
    assert snapshot_tree(example_repo / "rendered") == first
    assert leftovers(example_repo) == []
