"""A large rendered/ is read by a forked child while the spec renders (render/output.py).

What a user sees must be what a sequential read gives: the same changes and diff, the same error,
and no child left behind, whether the child succeeds, fails, or is no longer needed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.render import output
from tests.conftest import snapshot_tree

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import synth


@pytest.fixture
def large(tmp_path: Path) -> Path:
    """A rendered repository with enough environments for the read-ahead."""
    root = synth.generate(tmp_path / "repo", output.READ_AHEAD_FROM + 2, 1)
    assert CliRunner().invoke(main, ["-C", str(root), "render"]).exit_code == 0
    return root


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the forked children the commands start (the read, half the spec files, half a
    render)."""
    pids: list[int] = []
    real_child = output.forked.Child

    def recording_child(work: Callable[[], Any]) -> Any:
        child = real_child(work)
        pids.append(child._pid)
        return child

    monkeypatch.setattr(output.forked, "Child", recording_child)
    return pids


def all_reaped(pids: list[int]) -> bool:
    """Every child was waited for: none is left running or as a zombie."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        return False
    return True


def change_one_environment(root: Path) -> None:
    values = root / "rendered" / "environments" / "env-007" / "app-00" / "values.yaml"
    values.write_text(values.read_text() + "# edited by hand\n")
    (root / "rendered" / "environments" / "env-040" / "stray.txt").write_text("x\n")


def run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def test_check_and_render_read_ahead_and_agree_with_a_sequential_read(
    large: Path, monkeypatch: pytest.MonkeyPatch, children: list[int]
) -> None:
    change_one_environment(large)
    ahead = run(large, "check")
    monkeypatch.setenv("GITOPS_GEN_NO_FORK", "1")
    sequential = run(large, "check")
    monkeypatch.delenv("GITOPS_GEN_NO_FORK")
    assert ahead == sequential
    assert ahead[0] == 1 and "+# edited by hand" not in ahead[1] and "-# edited by hand" in ahead[1]
    assert "stray.txt" in ahead[1]
    reads_ahead = len(children)
    assert reads_ahead >= 2  # the read, and the second half of the render
    code, _ = run(large, "render")
    assert code == 0 and len(children) > reads_ahead
    assert run(large, "check")[0] == 0
    assert not (large / "rendered" / "environments" / "env-040" / "stray.txt").exists()
    assert all_reaped(children)


def test_a_child_that_fails_to_read_leaves_the_read_to_this_process(
    large: Path, monkeypatch: pytest.MonkeyPatch, children: list[int]
) -> None:
    parent = os.getpid()
    real_read_tree = output.read_tree

    def fails_in_the_child(directory: Path) -> dict[str, bytes]:
        if os.getpid() != parent:
            os._exit(3)  # the child dies without a word
        return real_read_tree(directory)

    monkeypatch.setattr(output, "read_tree", fails_in_the_child)
    change_one_environment(large)
    code, out = run(large, "check")
    assert code == 1 and "-# edited by hand" in out
    assert children and all_reaped(children)


def test_an_error_before_the_tree_is_needed_stops_the_child(
    large: Path, children: list[int]
) -> None:
    before = snapshot_tree(large / "rendered")
    project = large / "environments" / "_project.yaml"
    project.write_text(project.read_text() + "unknownKey: 1\n")
    for command in ("check", "render"):
        code, out = run(large, command)
        assert code == 2 and "unknownKey" in out, out
    # Per command: a read ahead, and a second half of the spec files parsed (spec/files.py).
    assert len(children) == 4 and all_reaped(children)
    assert snapshot_tree(large / "rendered") == before


def test_rendered_as_a_link_is_refused_as_before(large: Path, children: list[int]) -> None:
    (large / "rendered").rename(large / "elsewhere")
    (large / "rendered").symlink_to(large / "elsewhere")
    for command in ("check", "render"):
        code, out = run(large, command)
        assert code == 2 and "rendered is not a plain directory" in out, out
    assert all_reaped(children)
