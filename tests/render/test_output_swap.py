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


# --- each step of the swap, in-process (mutmut sees only tests that call the code themselves) ----


class _Stop(BaseException):
    """Raised at a checkpoint: the run ends there, as a SIGKILL would end it (nothing is undone,
    since write_atomically cleans up only after an OSError)."""


def _plan_of(root: Path) -> tuple[dict[str, str], dict[str, bytes]]:
    from generator.render.repository import plan_repository

    return dict(plan_repository(root).files), output.read_rendered(root)


def _stop_at(monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    def checkpoint(name: str) -> None:
        if name == point:
            raise _Stop(name)

    monkeypatch.setattr(output, "_checkpoint", checkpoint)


@pytest.mark.parametrize(
    ("swap", "first", "steps"),
    [
        ("renameat2", False, ["before-staging", "mid-write", "staged", "swapped"]),
        ("rename", False, ["before-staging", "mid-write", "staged", "between-renames", "swapped"]),
        ("renameat2", True, ["before-staging", "mid-write", "staged", "swapped"]),
        ("rename", True, ["before-staging", "mid-write", "staged", "swapped"]),
    ],
)
def test_each_step_of_a_swap_is_passed_in_order_and_synced(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch, swap: str, first: bool, steps: list[str]
) -> None:
    """The kill tests stop a render at these names (GITOPS_GEN_STOP_AT); the tree is made durable
    (syncfs on the staging tree) before the swap, and the folder holding both after it."""
    if swap == "rename":
        monkeypatch.setenv("GITOPS_GEN_SWAP", "rename")
    if first:
        shutil.rmtree(example_repo / "rendered")
    change_demo(example_repo)
    plan, current = _plan_of(example_repo)
    events: list[str] = []
    real_sync = output._sync_filesystem
    monkeypatch.setattr(output, "_checkpoint", events.append)
    monkeypatch.setattr(
        output, "_fsync_dir", lambda d: events.append(f"fsync {d.relative_to(example_repo.parent)}")
    )

    def sync(directory: Path) -> None:
        events.append(f"syncfs {directory.name}")
        real_sync(directory)

    monkeypatch.setattr(output, "_sync_filesystem", sync)
    output.write_atomically(example_repo, plan, current)
    staged = steps.index("staged")
    assert events == [
        *steps[:staged],
        f"syncfs .gitops-gen-tmp-{os.getpid()}",
        *steps[staged:-1],
        "fsync example",
        "swapped",
    ]
    assert snapshot_tree(example_repo / "rendered") == expected_tree(example_repo)
    assert leftovers(example_repo) == []


def test_a_run_stopped_after_staging_leaves_a_tree_the_next_run_removes(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot_tree(example_repo / "rendered")
    change_demo(example_repo)
    plan, current = _plan_of(example_repo)
    _stop_at(monkeypatch, "staged")
    with pytest.raises(_Stop):
        output.write_atomically(example_repo, plan, current)
    assert leftovers(example_repo) == [f".gitops-gen-tmp-{os.getpid()}"]
    assert snapshot_tree(example_repo / "rendered") == before
    monkeypatch.undo()
    code, out = render(example_repo)
    assert code == 0, out
    assert leftovers(example_repo) == []
    assert snapshot_tree(example_repo / "rendered") == expected_tree(example_repo)


def test_a_run_stopped_between_the_renames_leaves_the_old_tree_where_the_next_run_finds_it(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITOPS_GEN_SWAP", "rename")
    before = snapshot_tree(example_repo / "rendered")
    change_demo(example_repo)
    plan, current = _plan_of(example_repo)
    _stop_at(monkeypatch, "between-renames")
    with pytest.raises(_Stop):
        output.write_atomically(example_repo, plan, current)
    pid = os.getpid()
    assert leftovers(example_repo) == [f".gitops-gen-tmp-{pid}", f".gitops-gen-tmp-old-{pid}"]
    assert not (example_repo / "rendered").exists()
    assert snapshot_tree(example_repo / f".gitops-gen-tmp-old-{pid}") == before
    output.clean_leftovers(example_repo)
    assert leftovers(example_repo) == []
    assert snapshot_tree(example_repo / "rendered") == before


def test_a_staging_tree_of_a_dead_run_with_this_pid_is_cleared_first(example_repo: Path) -> None:
    """write_atomically cleans up itself, under its caller's lock: a dead run's staging tree
    under a reused pid would otherwise make every O_EXCL open in it fail."""
    change_demo(example_repo)
    plan, current = _plan_of(example_repo)
    stale = example_repo / f".gitops-gen-tmp-{os.getpid()}"
    for path in plan:
        (stale / path).parent.mkdir(parents=True, exist_ok=True)
        (stale / path).write_text("stale\n")
    output.write_atomically(example_repo, plan, current)
    assert snapshot_tree(example_repo / "rendered") == expected_tree(example_repo)
    assert leftovers(example_repo) == []


def test_an_old_tree_that_cannot_be_removed_does_not_fail_the_render(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new tree is in place by then: the leftover goes with the next run's clean-up."""
    real_rmtree = shutil.rmtree

    def rmtree(path: Any, ignore_errors: bool = False) -> None:
        if not ignore_errors:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(shutil, "rmtree", rmtree)
    change_demo(example_repo)
    code, out = render(example_repo)
    monkeypatch.setattr(shutil, "rmtree", real_rmtree)
    assert code == 0, out
    assert snapshot_tree(example_repo / "rendered") == expected_tree(example_repo)


def test_a_failure_before_the_staging_tree_exists_is_reported_as_it_is(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing to remove yet: the clean-up must not fail on the missing staging tree."""
    from tests.render.test_faults import _FailingOs

    change_demo(example_repo)
    before = snapshot_tree(example_repo / "rendered")
    fake = _FailingOs("mkdir", 0, errno.ENOSPC)
    monkeypatch.setattr(output, "os", fake)
    code, out = render(example_repo)
    monkeypatch.setattr(output, "os", os)
    assert fake.calls == 1
    assert (code, out) == (
        1,
        f"error: could not write rendered/ ({os.strerror(errno.ENOSPC)}); it is unchanged. "
        "Fix the cause and run again.\n",
    )
    assert snapshot_tree(example_repo / "rendered") == before
    assert leftovers(example_repo) == []


def test_an_error_without_an_errno_is_reported_by_its_text(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def sync(directory: Path) -> None:
        raise OSError("the disk went away")

    monkeypatch.setattr(output, "_sync_filesystem", sync)
    change_demo(example_repo)
    assert render(example_repo) == (
        1,
        "error: could not write rendered/ (the disk went away); it is unchanged. "
        "Fix the cause and run again.\n",
    )
    assert leftovers(example_repo) == []


def test_a_fallback_swap_that_cannot_undo_says_all_of_it(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.render.test_faults import _FailingOs

    monkeypatch.setenv("GITOPS_GEN_SWAP", "rename")
    change_demo(example_repo)
    fake = _FailingOs("rename", 1, errno.EXDEV, times=2)
    monkeypatch.setattr(output, "os", fake)
    code, out = render(example_repo)
    monkeypatch.setattr(output, "os", os)
    backup = f".gitops-gen-tmp-old-{os.getpid()}"
    assert (code, out) == (
        1,
        f"error: could not write rendered/ ({os.strerror(errno.EXDEV)}), and could not move the "
        f"old tree back ({os.strerror(errno.EXDEV)}): it is in {backup}; rename that folder to "
        "rendered before running again\n",
    )


def test_of_many_moved_aside_trees_the_first_by_name_is_put_back(tmp_path: Path) -> None:
    """Enough of them that the directory's own order is unlikely to agree by chance."""
    for pid in range(100, 130):
        _tree(tmp_path / f".gitops-gen-tmp-old-{pid}", f"{pid}\n")
    output.clean_leftovers(tmp_path)
    assert snapshot_tree(tmp_path) == {"rendered/sub/f.yaml": b"100\n"}


def test_a_leftover_that_is_a_file_does_not_stop_a_render(example_repo: Path) -> None:
    """Only directories are ever left: a file of that name is left alone, not a crash."""
    (example_repo / ".gitops-gen-tmp-1").write_text("not a tree\n")
    change_demo(example_repo)
    code, out = render(example_repo)
    assert code == 0, out
    assert snapshot_tree(example_repo / "rendered") == expected_tree(example_repo)
    assert leftovers(example_repo) == [".gitops-gen-tmp-1"]


# --- the lock and the durability calls --------------------------------------------------------------


def _can_lock(path: Path) -> bool:
    import fcntl

    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_the_lock_is_held_inside_and_released_after(tmp_path: Path) -> None:
    assert _can_lock(tmp_path)
    with output.locked(tmp_path):
        assert not _can_lock(tmp_path)
    assert _can_lock(tmp_path)
    with pytest.raises(KeyError), output.locked(tmp_path):
        raise KeyError("inside")
    assert _can_lock(tmp_path)


def test_without_flock_the_block_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "fcntl", None)  # import fcntl raises ImportError
    ran = []
    with output.locked(tmp_path):
        ran.append(True)
    assert ran == [True]


def test_syncfs_is_asked_for_the_staging_trees_filesystem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One syncfs on a descriptor of the directory; os.sync only where there is no syncfs."""
    real_cdll = ctypes.CDLL
    calls: list[tuple[Any, ...]] = []
    libraries: list[tuple[Any, ...]] = []

    class Libc:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            libraries.append((*args, kwargs))
            self._real = real_cdll(*args, **kwargs)

        def syncfs(self, fd: int) -> int:
            calls.append((os.path.samefile(f"/proc/self/fd/{fd}", tmp_path),))
            return 0

    monkeypatch.setattr(ctypes, "CDLL", Libc)
    monkeypatch.setattr(os, "sync", lambda: calls.append(("sync",)))
    output._sync_filesystem(tmp_path)
    assert calls == [(True,)]
    # The running program's symbols (libc's among them), with errno kept for the error message.
    assert libraries == [(None, {"use_errno": True})]


def test_a_failed_syncfs_reports_the_kernels_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """syncfs on an O_PATH descriptor fails with EBADF: that errno, not a stale one."""

    class PathOnlyOs:
        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        @staticmethod
        def open(path: Any, flags: int, *args: Any) -> int:
            return os.open(path, os.O_PATH)

    monkeypatch.setattr(output, "os", PathOnlyOs())
    with pytest.raises(OSError) as info:
        output._sync_filesystem(tmp_path)
    assert (info.value.errno, info.value.strerror) == (errno.EBADF, os.strerror(errno.EBADF))


def test_without_syncfs_everything_is_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_cdll = ctypes.CDLL
    monkeypatch.setattr(ctypes, "CDLL", lambda *a, **k: _Libc(real_cdll(*a, **k), {"syncfs"}))
    calls: list[str] = []
    monkeypatch.setattr(os, "sync", lambda: calls.append("sync"))
    output._sync_filesystem(tmp_path)
    assert calls == ["sync"]


def test_renameat2_is_loaded_unless_the_fallback_is_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITOPS_GEN_SWAP", raising=False)
    assert callable(output._load_renameat2())
    monkeypatch.setenv("GITOPS_GEN_SWAP", "rename")
    assert output._load_renameat2() is None
    monkeypatch.setenv("GITOPS_GEN_SWAP", "renameat2")
    assert callable(output._load_renameat2())


def test_the_exchange_takes_paths_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """renameat2 is given AT_FDCWD: relative paths resolve as os.rename's do (the CLI passes
    absolute ones)."""
    for name, text in (("new", "n"), ("old", "o")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "f").write_text(text)
    monkeypatch.chdir(tmp_path)
    holder = output._exchange(Path("new"), Path("old"), Path("."))
    assert (tmp_path / "old" / "f").read_text() == "n"
    assert (tmp_path / holder / "f").read_text() == "o"


def test_a_checkpoint_stops_the_process_only_where_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """GITOPS_GEN_STOP_AT names one step; the process sends itself SIGSTOP there, nowhere else,
    and never when it is unset."""
    import signal

    sent: list[tuple[int, int]] = []

    class Os:
        environ = os.environ
        getpid = staticmethod(os.getpid)

        @staticmethod
        def kill(pid: int, sig: int) -> None:
            sent.append((pid, sig))

    monkeypatch.setattr(output, "os", Os())
    monkeypatch.delenv("GITOPS_GEN_STOP_AT", raising=False)
    for name in ("before-staging", "mid-write", "staged", "between-renames", "swapped"):
        output._checkpoint(name)
    assert sent == []
    monkeypatch.setenv("GITOPS_GEN_STOP_AT", "staged")
    for name in ("before-staging", "mid-write", "staged", "between-renames", "swapped"):
        output._checkpoint(name)
    assert sent == [(os.getpid(), signal.SIGSTOP)]


@pytest.mark.parametrize("files", [1, 2, 3, 10])
def test_mid_write_is_halfway_through_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: int
) -> None:
    """The kill test's "mid-write" must land with part of the tree written: before file
    max(1, n // 2), so with n // 2 - 1 written (none for one or two files), and once."""
    plan = {f"d{i % 2}/f{i}.yaml": f"{i}\n" for i in range(files)}
    staging = tmp_path / f".gitops-gen-tmp-{os.getpid()}"
    seen: list[int] = []

    def checkpoint(name: str) -> None:
        if name == "mid-write":
            seen.append(sum(1 for p in staging.rglob("*") if p.is_file()))

    monkeypatch.setattr(output, "_checkpoint", checkpoint)
    output.write_atomically(tmp_path, plan, {})
    assert seen == [max(1, files // 2) - 1]
    assert snapshot_tree(tmp_path / "rendered") == {p: t.encode() for p, t in plan.items()}


def test_unchanged_files_are_hard_links_and_new_ones_are_0666_under_the_umask(
    example_repo: Path,
) -> None:
    """An unchanged file keeps its inode (linked, not rewritten); a written one gets 0o666 less
    the umask, as any file a tool creates (not executable)."""
    change_demo(example_repo)
    plan, current = _plan_of(example_repo)
    unchanged = next(p for p in plan if current.get(p) == plan[p].encode())
    changed = next(p for p in plan if p in current and current[p] != plan[p].encode())
    inode = (example_repo / "rendered" / unchanged).stat().st_ino
    old_umask = os.umask(0o022)
    try:
        output.write_atomically(example_repo, plan, current)
    finally:
        os.umask(old_umask)
    assert (example_repo / "rendered" / unchanged).stat().st_ino == inode
    assert (example_repo / "rendered" / changed).stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("swap", ["renameat2", "rename"])
def test_a_folder_that_cannot_be_synced_after_the_swap_is_a_warning(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch, swap: str
) -> None:
    """The new tree is in place when the fsync of the folder above it fails: the render succeeds
    with a warning, and never claims that rendered/ is unchanged. The old tree stays beside it
    (a crash could still bring it back), and the next run removes it."""
    if swap == "rename":
        monkeypatch.setenv("GITOPS_GEN_SWAP", "rename")
    change_demo(example_repo)
    expected = expected_tree(example_repo)
    assert snapshot_tree(example_repo / "rendered") != expected

    def failing(directory: Path) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(output, "_fsync_dir", failing)
    code, out = render(example_repo)
    assert code == 0, out
    assert (
        "warning: rendered/ was replaced, but the folder that holds it could not be synced "
        f"({os.strerror(errno.EIO)}): after a crash it may be the old tree; run render again then"
    ) in out
    assert "could not write" not in out and "it is unchanged" not in out
    assert snapshot_tree(example_repo / "rendered") == expected
    kept = {
        "renameat2": f".gitops-gen-tmp-{os.getpid()}",
        "rename": f".gitops-gen-tmp-old-{os.getpid()}",
    }
    assert leftovers(example_repo) == [kept[swap]]
    monkeypatch.undo()
    code, out = render(example_repo)
    assert code == 0, out
    assert leftovers(example_repo) == []
    assert snapshot_tree(example_repo / "rendered") == expected


def test_a_tree_written_where_there_was_none_warns_the_same_way(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """write_atomically where rendered/ went missing since it was read: renamed into place."""
    from generator.errors import take_warnings

    change_demo(example_repo)
    plan, current = _plan_of(example_repo)
    shutil.rmtree(example_repo / "rendered")

    def failing(directory: Path) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(output, "_fsync_dir", failing)
    take_warnings()
    output.write_atomically(example_repo, plan, {})
    assert take_warnings() == [
        "rendered/ was created, but the folder that holds it could not be synced "
        f"({os.strerror(errno.EIO)}): after a crash it may be missing; run render again then"
    ]
    assert snapshot_tree(example_repo / "rendered") == {p: t.encode() for p, t in plan.items()}
    assert leftovers(example_repo) == []
    assert current  # the tree read before it went missing
