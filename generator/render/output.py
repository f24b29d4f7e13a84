"""The plan against rendered/: what changes, an atomic replacement, the unified diff for check."""

from __future__ import annotations

import difflib
import errno
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from generator import forked
from generator.errors import OutputError, UsageError, os_reason, warn

RENDERED = "rendered"
T = TypeVar("T")
_TMP_PREFIX = ".gitops-gen-tmp-"


@dataclass(slots=True)
class Changes:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.created or self.updated or self.removed)

    def by_group(self) -> dict[str, tuple[int, int, int]]:
        """Counts per group: ``bootstrap`` or an environment name."""
        groups: dict[str, list[int]] = {}
        for index, paths in enumerate((self.created, self.updated, self.removed)):
            for path in paths:
                groups.setdefault(group_of(path), [0, 0, 0])[index] += 1
        return {name: (c[0], c[1], c[2]) for name, c in sorted(groups.items())}


def group_of(path: str) -> str:
    parts = path.split("/")
    return parts[1] if parts[0] == "environments" and len(parts) > 2 else parts[0]


def read_rendered(root: Path) -> dict[str, bytes]:
    """rendered/ as it is on disk; it must be a plain directory, since render replaces it whole."""
    target = _plain_directory(root)
    try:
        return read_tree(target)
    except OSError as e:
        raise OutputError(
            f"could not read {RENDERED}/ ({os_reason(e)}); nothing was written. Fix the cause and "
            "run again."
        ) from None


def _plain_directory(root: Path) -> Path:
    target = root / RENDERED
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise UsageError(
            f"{RENDERED} is not a plain directory (a link or a file); gitops-gen replaces "
            f"{RENDERED}/ as a whole, so remove it or make it a directory"
        )
    return target


# From this many environments in rendered/, a forked child reads it while the spec renders.
READ_AHEAD_FROM = 48


@contextmanager
def reading_rendered(root: Path) -> Iterator[Callable[[], dict[str, bytes]]]:
    """``read_rendered``, started now: for a large tree a forked child reads rendered/ while this
    process renders, and the function this yields returns the tree when it is needed.

    If the child fails in any way, the tree is read here then, so what a user sees (the tree, or
    the error) is what ``read_rendered`` gives. Leaving the block stops a child not waited for.
    The caller that writes rendered/ holds the lock from before this starts until it has written.
    """
    child = None
    try:
        environments = len(os.listdir(root / RENDERED / "environments"))
    except OSError:
        environments = 0
    if environments >= READ_AHEAD_FROM and forked.can_fork():
        child = forked.Child(lambda: read_tree(root / RENDERED))

    def current() -> dict[str, bytes]:
        nonlocal child
        _plain_directory(root)
        tree = None
        if child is not None:
            tree, child = child.result(), None
        return tree if tree is not None else read_rendered(root)

    try:
        yield current
    finally:
        if child is not None:
            child.cancel()


def read_tree(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` as {relative posix path: bytes}."""
    tree: dict[str, bytes] = {}
    if not directory.is_dir():
        return tree
    top = os.fspath(directory)
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        rel = os.path.relpath(dirpath, top).replace(os.sep, "/")
        prefix = "" if rel == "." else rel + "/"
        for name in filenames:
            tree[prefix + name] = _read_file(os.path.join(dirpath, name))
    return tree


def _read_file(path: str) -> bytes:
    """A whole file, with plain os.read calls (thousands of files: no buffered reader each)."""
    fd = os.open(path, os.O_RDONLY | _O_CLOEXEC)
    try:
        chunks = []
        while data := os.read(fd, _CHUNK):  # until EOF: a short read is not one everywhere
            chunks.append(data)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


_CHUNK = 1 << 16


def compare(plan: Mapping[str, str], current: Mapping[str, bytes]) -> Changes:
    changes = Changes()
    for path, text in plan.items():
        old = current.get(path)
        if old is None:
            changes.created.append(path)
        elif old != text.encode("utf-8"):
            changes.updated.append(path)
    changes.removed = sorted(set(current) - set(plan))
    return changes


def unified_diff(plan: Mapping[str, str], current: Mapping[str, bytes], changes: Changes) -> str:
    """A git-style unified diff from the files on disk (a/) to what render would write (b/)."""
    out: list[str] = []
    for path in sorted([*changes.created, *changes.updated, *changes.removed]):
        old = current[path].decode("utf-8", "replace") if path in current else ""
        new = plan.get(path, "")
        a = f"a/{RENDERED}/{path}" if path in current else "/dev/null"
        b = f"b/{RENDERED}/{path}" if path in plan else "/dev/null"
        for line in difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), a, b, n=3
        ):
            # Either side's last line may lack a newline, in the middle of a hunk too.
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def write_atomically(root: Path, plan: Mapping[str, str], current: Mapping[str, bytes]) -> None:
    """Replace rendered/ with ``plan`` in one step: it is either the old tree or the new one.

    The new tree is built beside rendered/ (unchanged files are hard links, so this is cheap),
    then swapped in with one rename (renameat2 RENAME_EXCHANGE where the kernel has it).
    """
    target = root / RENDERED
    clean_leftovers(root)  # the caller holds the lock: any staging tree left is a dead run's
    staging = root / f"{_TMP_PREFIX}{os.getpid()}"
    old: Path | None = None
    try:
        _checkpoint("before-staging")
        _build(staging, target, plan, current)
        _checkpoint("staged")
        if target.exists():
            old = _exchange(staging, target, root)
        else:
            os.rename(staging, target)
    except OSError as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise _write_failed(e, "it is unchanged") from None
    if old is None:  # there was no tree to swap with (removed since it was read)
        _sync_holder(root, "created", "missing")
    elif _sync_holder(root, "replaced", "the old tree"):
        shutil.rmtree(old, ignore_errors=True)
    # else the old tree stays beside rendered/ until the next run's clean_leftovers: the swap
    # may not be on disk yet, and the old tree is what a crash would bring back.
    _checkpoint("swapped")


def nothing_rendered(root: Path) -> bool:
    """No rendered/ at all: every file a render makes is new, and none needs comparing."""
    return not os.path.lexists(root / RENDERED)


def write_first(root: Path, produce: Callable[[Callable[[dict[str, str]], None]], T]) -> T:
    """Create rendered/ where there is none, writing the files as they are rendered.

    ``produce(sink)`` renders, giving ``sink`` each part of the tree as soon as it has it, in the
    process that rendered it (a forked renderer writes its own part). The files go into a staging
    tree beside rendered/, which is made durable and renamed into place once ``produce`` returns;
    if it raises, the staging tree is removed and rendered/ never appears. A part may come twice
    (a failed child's part is rendered again here): its files are then written again.
    The caller holds the lock and has removed what a killed run left (``clean_leftovers``).
    """
    target = root / RENDERED
    parent = os.getpid()
    staging = root / f"{_TMP_PREFIX}{parent}"

    def sink(files: dict[str, str]) -> None:
        # O_TRUNC rather than O_EXCL: a part given twice is written again.
        try:
            _write_files(staging, target, list(files.items()), {}, again=True)
        except OSError as e:  # told apart from an OSError of rendering (a spec file, say)
            raise _WriteFailed(e) from None
        if os.getpid() == parent:
            _checkpoint("mid-write")

    try:
        _checkpoint("before-staging")
        result = produce(sink)
        _checkpoint("staged")
        try:
            staging.mkdir(exist_ok=True)
            _sync_filesystem(staging)
            os.rename(staging, target)
        except OSError as e:
            raise _WriteFailed(e) from None
    except _WriteFailed as failed:
        shutil.rmtree(staging, ignore_errors=True)
        raise _write_failed(failed.error, "nothing was created") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _sync_holder(root, "created", "missing")
    _checkpoint("swapped")
    return result


def _sync_holder(root: Path, done: str, after_a_crash: str) -> bool:
    """Make the rename of rendered/ durable (fsync of the folder that holds it); True if it is.

    rendered/ is in place and its files are on disk by now, so a failure here is a warning: the
    run did what it was asked, and saying that nothing changed would be false.
    """
    try:
        _fsync_dir(root)
    except OSError as e:
        warn(
            f"{RENDERED}/ was {done}, but the folder that holds it could not be synced "
            f"({os_reason(e)}): after a crash it may be "
            f"{after_a_crash}; run render again then"
        )
        return False
    return True


class _WriteFailed(Exception):
    """An OSError while writing the staging tree (not while rendering what goes into it)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def _write_failed(error: OSError, outcome: str) -> OutputError:
    return OutputError(
        f"could not write {RENDERED}/ ({os_reason(error)}); {outcome}. Fix the cause and run again."
    )


def _checkpoint(name: str) -> None:
    """Stop this process here (SIGSTOP) when a test asks for it, so a kill lands at a known step.

    Set ``GITOPS_GEN_STOP_AT`` to one of before-staging, mid-write, staged, between-renames or
    swapped. Unset (always, outside the fault tests), this is one dictionary lookup.
    """
    if os.environ.get("GITOPS_GEN_STOP_AT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGSTOP)


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """Serialise the writers of one repository's rendered/ (an flock on the repository folder)."""
    try:
        import fcntl
    except ImportError:  # no flock: a single writer is assumed
        yield
        return
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def clean_leftovers(root: Path) -> None:
    """Remove what a killed run left behind, after putting back a tree it had moved aside.

    A run killed between the two renames of the fallback swap leaves no rendered/, the old tree
    in ``.gitops-gen-tmp-old-<pid>`` and the new one in ``.gitops-gen-tmp-<pid>``: the old tree
    goes back to rendered/ (the render never finished), and only then is the rest removed.
    """
    target = root / RENDERED
    if not os.path.lexists(target):
        for backup in sorted(root.glob(_TMP_PREFIX + "old-*")):
            os.rename(backup, target)
            break
    for leftover in root.glob(_TMP_PREFIX + "*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _build(
    staging: Path, target: Path, plan: Mapping[str, str], current: Mapping[str, bytes]
) -> None:
    """Write ``plan`` into ``staging`` and make it durable.

    Creating thousands of files is kernel work that a second core can share: from
    ``PARALLEL_WRITE_FROM`` files on, a forked child writes the second half while this process
    writes the first. If the child fails in any way, this process writes that half again itself,
    so a failure is met (and reported) here, as in a sequential run.
    """
    items = list(plan.items())
    child = None
    mine, theirs = items, []
    if len(items) >= PARALLEL_WRITE_FROM and forked.can_fork():
        half = len(items) // 2
        mine, theirs = items[:half], items[half:]
        child = forked.Child(lambda: _write_files(staging, target, theirs, current))
    try:
        _write_files(staging, target, mine, current, stop_halfway=True)
    except BaseException:
        if child is not None:
            child.cancel()  # the tree will not be used: stop writing it
        raise
    if child is not None and child.result() is None:
        _write_files(staging, target, theirs, current, again=True)
    staging.mkdir(exist_ok=True)
    _sync_filesystem(staging)


# From this many files in a changed tree, a forked child writes half of them.
PARALLEL_WRITE_FROM = 1000


def _write_files(
    staging: Path,
    target: Path,
    items: list[tuple[str, str]],
    current: Mapping[str, bytes],
    *,
    again: bool = False,
    stop_halfway: bool = False,
) -> int:
    """Write ``items`` under ``staging`` (unchanged files as hard links to ``target``'s).

    ``again``: a child that failed may have written some of them already; replace those.
    ``stop_halfway``: the ``mid-write`` checkpoint of the fault tests is in this part.
    Returns how many were written, for the child's result.
    """
    made: set[str] = set()
    base, old_base = os.fspath(staging), os.fspath(target)
    written, halfway = 0, max(1, len(items) // 2)
    flags = os.O_WRONLY | os.O_CREAT | _O_CLOEXEC | (os.O_TRUNC if again else os.O_EXCL)
    for path, text in items:
        written += 1
        if written == halfway and stop_halfway:
            _checkpoint("mid-write")
        dest = os.path.join(base, path)
        parent = os.path.dirname(dest)
        if parent not in made:
            _make_directory(parent)
            made.add(parent)
        data = text.encode("utf-8")
        if current.get(path) == data:
            if again and os.path.lexists(dest):
                os.unlink(dest)
            try:
                os.link(os.path.join(old_base, path), dest)
                continue
            except OSError:
                pass
        fd = os.open(dest, flags, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
    return written


_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _make_directory(path: str) -> None:
    """``os.makedirs(path, exist_ok=True)`` for a staging tree, where nearly every folder is new.

    One ``mkdir`` first, and the parents only when it finds them missing: makedirs looks each
    parent up before every ``mkdir`` (3,600 system calls more at 300 x 10). A folder that the
    other writer made meanwhile is fine; a file in its place fails the write of the file below.
    """
    try:
        os.mkdir(path)
    except FileNotFoundError:
        parent = os.path.dirname(path)
        if parent in ("", path):  # nothing above to make (a relative path, a removed folder)
            raise
        _make_directory(parent)
        with suppress(FileExistsError):
            os.mkdir(path)
    except FileExistsError:
        pass


def _sync_filesystem(directory: Path) -> None:
    """Make every file written under ``directory`` durable before it is swapped in.

    One syncfs(2) for the whole filesystem instead of an fsync per file and directory: the
    same guarantee, and several seconds faster for thousands of files. Elsewhere: os.sync().
    """
    import ctypes

    syncfs = getattr(_libc(), "syncfs", None)
    if syncfs is None:
        os.sync()
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_RENAME_EXCHANGE = 2


def _load_renameat2() -> Any:
    """libc's renameat2, or None where the C library lacks it (or the fallback is forced)."""
    if os.environ.get("GITOPS_GEN_SWAP") == "rename":  # the fault tests' way to the fallback
        return None
    return getattr(_libc(), "renameat2", None)


def _libc() -> Any:
    """The C library's functions, as this process already has them loaded.

    ``CDLL(None)`` looks symbols up in the running program and the libraries it links, libc
    among them; ``ctypes.util.find_library`` would start ``ldconfig -p`` to find its file.
    """
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _exchange(staging: Path, target: Path, root: Path) -> Path:
    """Swap two directories atomically (renameat2 where the kernel has it, else two renames).

    Returns the directory that now holds the old tree, for the caller to remove once the folder
    that holds both is synced. With two renames there is a moment with no rendered/: if the
    second rename fails, the old tree is moved back before the error is raised, and a run killed
    in between is repaired by the next one (``clean_leftovers``).
    """
    renameat2 = _load_renameat2()
    if renameat2 is not None:
        import ctypes

        at_fdcwd = -100
        result = renameat2(
            at_fdcwd, os.fsencode(staging), at_fdcwd, os.fsencode(target), _RENAME_EXCHANGE
        )
        if result == 0:
            return staging
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise OSError(err, os.strerror(err))
    backup = root / f"{_TMP_PREFIX}old-{os.getpid()}"
    os.rename(target, backup)
    _checkpoint("between-renames")
    try:
        os.rename(staging, target)
    except OSError as failed:
        try:
            os.rename(backup, target)
        except OSError as undo:
            raise OutputError(
                f"could not write {RENDERED}/ ({os.strerror(failed.errno or 0)}), and could not "
                f"move the old tree back ({os.strerror(undo.errno or 0)}): it is in "
                f"{backup.name}; rename that folder to {RENDERED} before running again"
            ) from None
        raise
    return backup
