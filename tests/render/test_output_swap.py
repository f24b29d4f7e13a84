"""Replacing rendered/ where the C library lacks renameat2 or syncfs, or the filesystem refuses the
exchange; and what the next run does with what a killed one left behind."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.render import output
from tests.conftest import snapshot_tree


def render(root: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "render"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def change_demo(root: Path) -> None:
    path = root / "environments" / "demo.yaml"
    path.write_text(path.read_text() + "autoMerge: false\n", encoding="utf-8")


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".gitops-gen-tmp"))


def expected_tree(root: Path) -> dict[str, bytes]:
    """What a render of root's spec writes (rendered in memory)."""
    from generator.render.repository import plan_repository

    return {path: text.encode() for path, text in plan_repository(root).files.items()}


class _Libc:
    """A C library without some functions (older glibc, musl, macOS): those names are missing."""

    def __init__(self, real: Any, missing: set[str]) -> None:
        self._real, self._missing = real, missing

    def __getattr__(self, name: str) -> Any:
        if name in self._missing:
            raise AttributeError(name)
        return getattr(self._real, name)


@pytest.mark.parametrize("missing", [{"renameat2"}, {"renameat2", "syncfs"}, {"syncfs"}])
def test_a_c_library_without_renameat2_or_syncfs_still_renders(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch, missing: set[str]
) -> None:
    real_cdll = ctypes.CDLL
    monkeypatch.setattr(ctypes, "CDLL", lambda *a, **k: _Libc(real_cdll(*a, **k), missing))
    change_demo(example_repo)
    code, out = render(example_repo)
    assert code == 0, out
    assert snapshot_tree(example_repo / "rendered") == expected_tree(example_repo)
    assert leftovers(example_repo) == []


@pytest.mark.parametrize("err", [errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP])
def test_a_filesystem_that_cannot_exchange_falls_back_to_two_renames(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch, err: int
) -> None:
    calls: list[int] = []

    def refusing(*args: Any) -> int:
        calls.append(args[-1])
        ctypes.set_errno(err)
        return -1

    monkeypatch.setattr(output, "_load_renameat2", lambda: refusing)
    change_demo(example_repo)
    code, out = render(example_repo)
    assert code == 0, out
    assert calls == [2]  # RENAME_EXCHANGE was asked for
    assert snapshot_tree(example_repo / "rendered") == expected_tree(example_repo)
    assert leftovers(example_repo) == []


@pytest.mark.parametrize("err", [errno.EIO, errno.ENOSPC, errno.EXDEV])
def test_any_other_exchange_failure_is_reported_and_changes_nothing(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch, err: int
) -> None:
    def failing(*args: Any) -> int:
        ctypes.set_errno(err)
        return -1

    monkeypatch.setattr(output, "_load_renameat2", lambda: failing)
    change_demo(example_repo)
    before = snapshot_tree(example_repo / "rendered")
    code, out = render(example_repo)
    assert code == 1
    assert out == (
        f"error: could not write rendered/ ({os.strerror(err)}); it is unchanged. "
        "Fix the cause and run again.\n"
    )
    assert snapshot_tree(example_repo / "rendered") == before
    assert leftovers(example_repo) == []


def test_the_exchange_really_swaps_the_two_directories(tmp_path: Path) -> None:
    for name, text in (("new", "n"), ("old", "o")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "f").write_text(text)
    holder = output._exchange(tmp_path / "new", tmp_path / "old", tmp_path)
    assert (tmp_path / "old" / "f").read_text() == "n"
    assert (holder / "f").read_text() == "o"


@pytest.mark.parametrize("swap", ["renameat2", "rename"])
def test_a_first_render_creates_rendered(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch, swap: str
) -> None:
    if swap == "rename":
        monkeypatch.setenv("GITOPS_GEN_SWAP", "rename")
    expected = expected_tree(example_repo)
    shutil.rmtree(example_repo / "rendered")
    code, out = render(example_repo)
    assert code == 0, out
    assert snapshot_tree(example_repo / "rendered") == expected
    assert leftovers(example_repo) == []


# --- what a killed run leaves, and the next run's repair --------------------------------------------


def _tree(path: Path, text: str) -> Path:
    (path / "sub").mkdir(parents=True)
    (path / "sub" / "f.yaml").write_text(text)
    return path


def test_a_moved_aside_tree_is_put_back_before_anything_else(tmp_path: Path) -> None:
    """Killed between the two renames: no rendered/, the old tree in -old-<pid>, the new one
    half-swapped in -<pid>. The old one goes back (the render never finished)."""
    _tree(tmp_path / ".gitops-gen-tmp-old-41", "old\n")
    _tree(tmp_path / ".gitops-gen-tmp-41", "new\n")
    _tree(tmp_path / ".gitops-gen-tmp-7", "older staging\n")
    output.clean_leftovers(tmp_path)
    assert snapshot_tree(tmp_path) == {"rendered/sub/f.yaml": b"old\n"}


def test_of_two_moved_aside_trees_one_is_put_back_and_the_other_dropped(tmp_path: Path) -> None:
    _tree(tmp_path / ".gitops-gen-tmp-old-200", "b\n")
    _tree(tmp_path / ".gitops-gen-tmp-old-100", "a\n")
    output.clean_leftovers(tmp_path)
    assert snapshot_tree(tmp_path) == {"rendered/sub/f.yaml": b"a\n"}


def test_with_rendered_in_place_every_leftover_is_dropped(tmp_path: Path) -> None:
    _tree(tmp_path / "rendered", "current\n")
    _tree(tmp_path / ".gitops-gen-tmp-old-41", "old\n")
    _tree(tmp_path / ".gitops-gen-tmp-42", "new\n")
    (tmp_path / "keep.txt").write_text("k\n")
    output.clean_leftovers(tmp_path)
    assert snapshot_tree(tmp_path) == {"keep.txt": b"k\n", "rendered/sub/f.yaml": b"current\n"}


def test_a_render_after_a_kill_between_the_renames_ends_on_the_new_tree(
    example_repo: Path,
) -> None:
    old = snapshot_tree(example_repo / "rendered")
    (example_repo / "rendered").rename(example_repo / ".gitops-gen-tmp-old-99999")
    change_demo(example_repo)
    code, out = render(example_repo)
    assert code == 0, out
    now = snapshot_tree(example_repo / "rendered")
    assert now == expected_tree(example_repo) and now != old
    assert leftovers(example_repo) == []


def test_a_failed_exchange_reports_the_kernels_reason(tmp_path: Path) -> None:
    """renameat2's own errno is what the user reads, not a stale or empty one."""
    (tmp_path / "rendered").mkdir()
    (tmp_path / "a-file").write_text("")
    with pytest.raises(OSError) as info:  # a path through a file: ENOTDIR, not a common errno
        output._exchange(tmp_path / "a-file" / "staging", tmp_path / "rendered", tmp_path)
    assert info.value.errno == errno.ENOTDIR
    assert info.value.strerror == os.strerror(errno.ENOTDIR)
    assert (tmp_path / "rendered").is_dir()
