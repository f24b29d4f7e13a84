"""The staging tree written by two processes: a forked child writes the second half of the files.

The threshold is lowered so that the example takes this path. Whatever happens to the child, the
tree that lands is the one a single process writes, and a failure is reported as in a sequential
write, with rendered/ unchanged.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator import forked
from generator.render import output
from tests.conftest import ForkedChildren, snapshot_tree
from tests.render.test_faults import change_demo, cli, leftovers

pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="needs fork and two CPUs")


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch, forked_children: ForkedChildren) -> ForkedChildren:
    monkeypatch.setattr(output, "PARALLEL_WRITE_FROM", 2)
    return forked_children


def _sequential_tree(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """What one process writes for the repository as it is now (in a copy)."""
    copy = root.parent / "sequential"
    shutil.copytree(root, copy, symlinks=True)
    with monkeypatch.context() as m:
        m.setenv("GITOPS_GEN_NO_FORK", "1")
        assert cli(copy, "render")[0] == 0
    return snapshot_tree(copy / "rendered")


def test_two_writers_write_the_tree_one_would(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch, children: ForkedChildren
) -> None:
    change_demo(example_repo)
    expected = _sequential_tree(example_repo, monkeypatch)
    code, out = cli(example_repo, "render")
    assert code == 0, out
    # The child wrote its half: it reports how many files, the second half of the plan.
    assert len(children.results) == 1 and isinstance(children.results[0], int)
    assert children.results[0] == len(expected) - len(expected) // 2
    assert snapshot_tree(example_repo / "rendered") == expected
    assert leftovers(example_repo) == []
    assert cli(example_repo, "check")[0] == 0


class _FailingInChild:
    """The os module as output.py sees it: ``name`` fails in any process but this one, after
    ``after`` calls there (a forked child starts with the count at the fork)."""

    def __init__(self, name: str, after: int, err: int) -> None:
        self.name, self.after, self.err = name, after, err
        self.parent, self.calls = os.getpid(), 0

    def __getattr__(self, attr: str) -> Any:
        real = getattr(os, attr)
        if attr != self.name:
            return real

        def failing(*args: Any, **kwargs: Any) -> Any:
            if os.getpid() != self.parent:
                self.calls += 1
                if self.calls > self.after:
                    raise OSError(self.err, os.strerror(self.err))
            return real(*args, **kwargs)

        return failing


@pytest.mark.parametrize(
    ("call", "after"),
    [
        ("open", 0),  # the child writes nothing
        ("open", 2),  # the child wrote two files: they are written again
        ("link", 1),  # the child linked one unchanged file and wrote none
        ("mkdir", 0),
    ],
)
def test_a_child_that_fails_leaves_its_half_to_this_process(
    example_repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    children: ForkedChildren,
    call: str,
    after: int,
) -> None:
    change_demo(example_repo)
    expected = _sequential_tree(example_repo, monkeypatch)
    monkeypatch.setattr(output, "os", _FailingInChild(call, after, errno.EIO))
    code, out = cli(example_repo, "render")
    monkeypatch.setattr(output, "os", os)
    assert code == 0, out
    if call == "link":  # a failed link falls back to writing the file: the child succeeds
        assert isinstance(children.results[0], int)
    else:
        assert children.results == [None], "the child did not fail: the test proved nothing"
    assert snapshot_tree(example_repo / "rendered") == expected
    assert leftovers(example_repo) == []


class _FailingFor:
    """``write`` fails with ``err`` in every process for one file of the plan."""

    def __init__(self, path: str, err: int) -> None:
        self.file, self.err, self.fds, self.parent = path, err, set(), os.getpid()
        self.fired_here = 0

    def __getattr__(self, attr: str) -> Any:
        real = getattr(os, attr)
        if attr == "open":

            def opening(path: Any, *args: Any, **kwargs: Any) -> Any:
                fd = real(path, *args, **kwargs)
                if os.fspath(path).endswith(self.file):
                    self.fds.add(fd)
                return fd

            return opening
        if attr == "write":

            def writing(fd: int, data: Any) -> Any:
                if fd in self.fds:
                    if os.getpid() == self.parent:
                        self.fired_here += 1
                    raise OSError(self.err, os.strerror(self.err))
                return real(fd, data)

            return writing
        return real


def render_failing_to_write(root: Path, monkeypatch: pytest.MonkeyPatch, path: str) -> str:
    """render's output when writing ``path`` fails (ENOSPC) in every process: exit 1, the fault
    fired in this process."""
    fake = _FailingFor(path, errno.ENOSPC)
    monkeypatch.setattr(output, "os", fake)
    code, out = cli(root, "render")
    monkeypatch.setattr(output, "os", os)
    assert fake.fired_here == 1, "the fault never fired in this process"
    assert code == 1, out
    return out


@pytest.mark.parametrize("half", ["first", "second"])
def test_a_write_that_fails_is_reported_and_changes_nothing(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch, children: ForkedChildren, half: str
) -> None:
    change_demo(example_repo)
    before = snapshot_tree(example_repo / "rendered")
    expected = _sequential_tree(example_repo, monkeypatch)
    paths = sorted(expected)
    # A file that changes (so it is written, not linked), in the parent's half or the child's.
    changed = [p for p in paths if before.get(p) != expected[p]]
    pick = next(p for p in changed if (paths.index(p) < len(paths) // 2) == (half == "first"))
    out = render_failing_to_write(example_repo, monkeypatch, pick)
    assert f"could not write rendered/ ({os.strerror(errno.ENOSPC)}); it is unchanged" in out
    # The parent's own failure stops the child; the child's makes the parent write that half.
    assert children.results == (["cancelled"] if half == "first" else [None])
    assert snapshot_tree(example_repo / "rendered") == before
    assert leftovers(example_repo) == []


# --- the staging tree's folders (output._make_directory) -----------------------------------------


class _OsWithMkdir:
    """The os module as generator.render.output sees it, with ``mkdir`` replaced."""

    def __init__(self, mkdir: Callable[[str], None]) -> None:
        self.mkdir = mkdir

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def test_folders_are_made_with_their_missing_parents(tmp_path: Path) -> None:
    deep = tmp_path / "staging" / "environments" / "demo" / "app"
    output._make_directory(str(deep))
    assert deep.is_dir()
    output._make_directory(str(deep))  # there already: nothing to do
    output._make_directory(str(deep.parent / "other"))
    assert sorted(p.name for p in deep.parent.iterdir()) == ["app", "other"]


def test_a_folder_the_other_writer_makes_meanwhile_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other process makes the folder between this one's two attempts (after the parent)."""
    target = str(tmp_path / "staging" / "environments")
    attempts: list[str] = []

    def mkdir(path: str) -> None:
        attempts.append(path)
        if path == target and attempts.count(path) == 2:
            os.mkdir(path)  # the other writer, first
        os.mkdir(path)

    monkeypatch.setattr(output, "os", _OsWithMkdir(mkdir))
    output._make_directory(target)
    assert attempts == [target, str(tmp_path / "staging"), target]
    assert Path(target).is_dir()


def test_a_file_where_a_folder_goes_fails_the_write(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "environments").write_text("a file\n")
    items = [("environments/demo/values.yaml", "a: 1\n")]
    with pytest.raises(NotADirectoryError):
        output._write_files(staging, tmp_path / "rendered", items, {})


def test_a_folder_with_nothing_above_to_make_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative path whose first folder cannot be made (its working folder removed, say): the
    error of mkdir, not an endless climb."""
    calls: list[str] = []

    def mkdir(path: str) -> None:
        calls.append(path)
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)

    monkeypatch.setattr(output, "os", _OsWithMkdir(mkdir))
    with pytest.raises(FileNotFoundError):
        output._make_directory("staging/environments")
    assert calls == ["staging/environments", "staging"]
    with pytest.raises(FileNotFoundError):
        output._make_directory("/")  # the root's dirname is itself
