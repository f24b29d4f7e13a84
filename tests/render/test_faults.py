"""Faults without loss: a render killed at any moment, a read-only or full disk, a failing write or
rename all leave rendered/ exactly as it was (or, for a finished render, exactly as new)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.render import output
from tests.conftest import snapshot_tree

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
import synth  # noqa: E402


def cli(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".gitops-gen-tmp"))


def change_demo(root: Path) -> None:
    path = root / "environments" / "demo.yaml"
    path.write_text(path.read_text() + "autoMerge: false\n", encoding="utf-8")
    values = root / "environments" / "staging.yaml"
    values.write_text(
        values.read_text().replace("namespace: demo-staging", "namespace: demo-staging2")
    )


# --- SIGKILL at random points -----------------------------------------------------------------


def _versions(root: Path, envs: int, apps: int) -> tuple[dict[str, str], dict[str, str]]:
    """Two spec versions whose outputs differ in every environment."""
    synth.generate(root, envs, apps)
    a = {p.name: p.read_text() for p in (root / "environments").iterdir()}
    b = {name: text.replace("logLevel: ", "logLevel: x-") for name, text in a.items()}
    return a, b


def _use(root: Path, version: dict[str, str]) -> None:
    for name, text in version.items():
        (root / "environments" / name).write_text(text, encoding="utf-8")


def run_cli(root: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """``python -m generator -C root ARGS`` as its own process, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "generator", "-C", str(root), *args],
        capture_output=True,
        text=True,
        check=check,
    )


def _kill_loop(tmp_path: Path, runs: int, envs: int, apps: int, seed: int) -> None:
    root = tmp_path / "repo"
    a, b = _versions(root, envs, apps)
    trees = {}
    for name, version in (("a", a), ("b", b)):
        _use(root, version)
        run_cli(root, "render", check=True)
        trees[name] = snapshot_tree(root / "rendered")
    assert trees["a"] != trees["b"]
    start = time.monotonic()
    run_cli(root, "check")
    duration = time.monotonic() - start
    rng = random.Random(seed)
    state, killed, finished = "b", 0, 0
    for _ in range(runs):
        target = "a" if state == "b" else "b"
        _use(root, a if target == "a" else b)
        proc = subprocess.Popen(
            [sys.executable, "-m", "generator", "-C", str(root), "render"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(rng.uniform(0.0, duration * 1.3))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        code = proc.wait()
        now = snapshot_tree(root / "rendered")
        assert now in (trees["a"], trees["b"]), "rendered/ is neither the old nor the new tree"
        if code == -signal.SIGKILL:
            killed += 1
        else:
            assert code == 0
            finished += 1
            assert now == trees[target]
        state = "a" if now == trees["a"] else "b"
    assert killed > 0, "no run was interrupted; the test proved nothing"
    # A later run cleans up whatever the killed ones left behind.
    _use(root, a)
    run_cli(root, "render", check=True)
    assert snapshot_tree(root / "rendered") == trees["a"]
    assert leftovers(root) == []


def test_render_killed_at_random_points_leaves_old_or_new_tree(tmp_path: Path) -> None:
    _kill_loop(tmp_path, runs=10, envs=60, apps=2, seed=1)


@pytest.mark.slow
def test_render_killed_at_random_points_many(tmp_path: Path) -> None:
    _kill_loop(tmp_path, runs=30, envs=120, apps=3, seed=2)


# --- failing writes and renames (in-process, any user) -------------------------------------------


class _FailingOs:
    """The os module as generator.render.output sees it: call ``name`` fails ``times`` times in a row
    after ``after`` calls that succeed."""

    def __init__(self, name: str, after: int, err: int, times: int = 1) -> None:
        self.name, self.after, self.err, self.times, self.calls = name, after, err, times, 0

    def __getattr__(self, attr: str) -> Any:
        real = getattr(os, attr)
        if attr != self.name:
            return real

        def failing(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.after < self.calls <= self.after + self.times:
                raise OSError(self.err, os.strerror(self.err))
            return real(*args, **kwargs)

        return failing


@pytest.fixture(params=["renameat2", "rename"])
def swap(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of swapping rendered/: renameat2's exchange, and the two-rename fallback."""
    if request.param == "rename":
        monkeypatch.setenv("GITOPS_GEN_SWAP", "rename")
    return str(request.param)


@pytest.mark.parametrize(
    ("call", "after", "err"),
    [
        ("write", 0, errno.ENOSPC),
        ("write", 2, errno.ENOSPC),
        ("write", 4, errno.EDQUOT),
        ("open", 3, errno.EMFILE),
        ("mkdir", 2, errno.ENOSPC),
        ("link", 0, errno.EIO),  # unchanged files are hard links: falls back to writing, succeeds
        ("rename", 0, errno.EXDEV),  # the fallback's first rename
        ("rename", 1, errno.EXDEV),  # the fallback's second rename: the old tree goes back
    ],
)
def test_failing_filesystem_calls_leave_rendered_intact(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch, swap: str, call: str, after: int, err: int
) -> None:
    change_demo(example_repo)
    before = snapshot_tree(example_repo / "rendered")
    if call == "open":  # past the lock's open and the reading of rendered/: into the staging tree
        after += 1 + len(before)
    fake = _FailingOs(call, after, err)
    monkeypatch.setattr(output, "os", fake)
    code, out = cli(example_repo, "render")
    monkeypatch.setattr(output, "os", os)
    assert "Traceback" not in out
    if call == "link" or (call == "rename" and swap == "renameat2"):
        # A failed hard link falls back to writing; renameat2 never needs a plain rename.
        assert code == 0, out
        assert fake.calls > 0 if call == "link" else fake.calls == 0
        assert cli(example_repo, "check")[0] == 0
    else:
        assert fake.calls > after, "the injected fault never fired; the test proved nothing"
        assert code == 1, out
        assert "could not write rendered/" in out and os.strerror(err) in out, out
        assert "it is unchanged" in out, out
        assert snapshot_tree(example_repo / "rendered") == before
    assert leftovers(example_repo) == []


@pytest.mark.parametrize("command", ["render", "check"])
def test_failing_to_read_rendered_says_so_and_writes_nothing(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    change_demo(example_repo)
    before = snapshot_tree(example_repo / "rendered")
    # render opens the repository for its lock first; check goes straight to reading.
    fake = _FailingOs("open", 1 if command == "render" else 0, errno.EMFILE)
    monkeypatch.setattr(output, "os", fake)
    code, out = cli(example_repo, command)
    monkeypatch.setattr(output, "os", os)
    assert fake.calls > 0, "the injected fault never fired"
    assert code == 1 and "Traceback" not in out, out
    assert f"could not read rendered/ ({os.strerror(errno.EMFILE)}); nothing was written" in out
    assert snapshot_tree(example_repo / "rendered") == before
    assert leftovers(example_repo) == []


def test_fallback_swap_that_cannot_undo_says_where_the_old_tree_is(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Second rename and the move back both fail: the message names the folder holding the old
    tree, and the next render puts it back before doing anything else."""
    monkeypatch.setenv("GITOPS_GEN_SWAP", "rename")
    change_demo(example_repo)
    before = snapshot_tree(example_repo / "rendered")
    fake = _FailingOs("rename", 1, errno.EXDEV, times=2)
    monkeypatch.setattr(output, "os", fake)
    code, out = cli(example_repo, "render")
    monkeypatch.setattr(output, "os", os)
    assert code == 1 and "Traceback" not in out, out
    assert fake.calls == 3  # away, in (failed), back (failed)
    [backup] = [name for name in leftovers(example_repo) if name.startswith(".gitops-gen-tmp-old-")]
    assert f"it is in {backup}; rename that folder to rendered" in out, out
    assert "it is unchanged" not in out
    assert not (example_repo / "rendered").exists()
    assert snapshot_tree(example_repo / backup) == before
    # check reports the missing tree; the next render restores the old one, then replaces it.
    code, out = cli(example_repo, "render")
    assert code == 0, out
    assert leftovers(example_repo) == []
    assert cli(example_repo, "check")[0] == 0


def _stopped(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0] == "T"


def _render_stopped_at(root: Path, point: str, swap: str | None = None) -> subprocess.Popen[bytes]:
    """A render that stops itself (SIGSTOP) at ``point``; fails the test if it never gets there."""
    env = {**os.environ, "GITOPS_GEN_STOP_AT": point}
    if swap is not None:
        env["GITOPS_GEN_SWAP"] = swap
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "-C", str(root), "render"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not _stopped(proc.pid):
        assert proc.poll() is None, f"render ended before reaching {point}"
        assert time.monotonic() < deadline, f"render never reached {point}"
        time.sleep(0.01)
    return proc


@pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="needs /proc to see a stopped process"
)
@pytest.mark.parametrize(
    ("swap_with", "point"),
    [
        *(
            (swap_with, point)
            for swap_with in ("renameat2", "rename")
            for point in ("before-staging", "mid-write", "staged", "swapped")
        ),
        ("rename", "between-renames"),  # renameat2 swaps in one call: no moment in between
    ],
)
def test_render_killed_at_each_step_leaves_old_or_new_tree(
    example_repo: Path, swap_with: str, point: str
) -> None:
    """SIGKILL at a known step of the write (the process stops itself there), on both swap paths.

    Each point must be reached: a kill that lands before anything is written proves nothing.
    """
    old = snapshot_tree(example_repo / "rendered")
    change_demo(example_repo)
    proc = _render_stopped_at(example_repo, point, swap_with)
    before_kill = leftovers(example_repo)
    proc.kill()
    proc.wait()
    if point in ("mid-write", "staged", "between-renames"):
        assert before_kill, "no staging tree existed at the kill: it landed too early"
    if point == "between-renames":
        # The one moment without rendered/: the old tree waits in the backup folder.
        assert not (example_repo / "rendered").exists()
        [backup] = [n for n in leftovers(example_repo) if n.startswith(".gitops-gen-tmp-old-")]
        assert snapshot_tree(example_repo / backup) == old
    # What the next run does first, under the lock: put back a moved tree, drop the rest.
    output.clean_leftovers(example_repo)
    assert leftovers(example_repo) == []
    now = snapshot_tree(example_repo / "rendered")
    assert now != old if point == "swapped" else now == old
    code, out = cli(example_repo, "render")
    assert code == 0, out
    assert cli(example_repo, "check")[0] == 0


def test_failing_exchange_leaves_rendered_intact(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    change_demo(example_repo)
    before = snapshot_tree(example_repo / "rendered")

    def broken(*args: Any) -> Path:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(output, "_exchange", broken)
    code, out = cli(example_repo, "render")
    assert code == 1 and "could not write rendered/" in out, out
    assert snapshot_tree(example_repo / "rendered") == before
    assert leftovers(example_repo) == []


def test_failing_sync_leaves_rendered_intact(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    change_demo(example_repo)
    before = snapshot_tree(example_repo / "rendered")

    def broken(directory: Path) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(output, "_sync_filesystem", broken)
    code, out = cli(example_repo, "render")
    assert code == 1 and os.strerror(errno.EIO) in out, out
    assert snapshot_tree(example_repo / "rendered") == before
    assert leftovers(example_repo) == []


# --- a real full disk and a real read-only filesystem (tmpfs; needs root) -------------------------


def _can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    mountpoint = tmp_path / "tiny"
    mountpoint.mkdir()
    if not _can_mount():
        pytest.skip("mounting a tmpfs needs root; the in-process fault tests cover this path")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def test_full_disk(example_repo: Path, tiny_fs: Path) -> None:
    root = tiny_fs / "repo"
    shutil.copytree(example_repo, root)
    change_demo(root)
    before = snapshot_tree(root / "rendered")
    with (tiny_fs / "filler").open("wb", buffering=0) as handle:  # fill every remaining byte
        try:
            while True:
                handle.write(b"\0" * 512)
        except OSError as e:
            assert e.errno == errno.ENOSPC
    result = run_cli(root, "render")
    assert result.returncode == 1, result.stderr
    assert (
        "could not write rendered/" in result.stderr and os.strerror(errno.ENOSPC) in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert snapshot_tree(root / "rendered") == before
    assert leftovers(root) == []
    (tiny_fs / "filler").unlink()  # space again: the same command now succeeds
    result = run_cli(root, "render")
    assert result.returncode == 0, result.stderr
    assert snapshot_tree(root / "rendered") != before


def test_read_only_filesystem(example_repo: Path, tiny_fs: Path) -> None:
    root = tiny_fs / "repo"
    shutil.copytree(example_repo, root)
    change_demo(root)
    before = snapshot_tree(root / "rendered")
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], check=True)
    result = run_cli(root, "render")
    assert result.returncode == 1, result.stderr
    assert (
        "could not write rendered/" in result.stderr and os.strerror(errno.EROFS) in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert snapshot_tree(root / "rendered") == before
    check = run_cli(root, "check")
    assert check.returncode == 1  # check never writes, so it works on a read-only checkout


def test_read_only_rendered_directory(example_repo: Path) -> None:
    """rendered/ itself read-only: immutable for root (chattr +i), else mode 555 with its parent."""
    change_demo(example_repo)
    rendered = example_repo / "rendered"
    before = snapshot_tree(rendered)
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if as_root:
        done = subprocess.run(["chattr", "+i", str(rendered)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"chattr +i is not available: {done.stderr.decode().strip()}")
    else:
        rendered.chmod(0o555)
        example_repo.chmod(0o555)
    try:
        code, out = cli(example_repo, "render")
    finally:
        if as_root:
            subprocess.run(["chattr", "-i", str(rendered)], check=True)
        else:
            example_repo.chmod(0o755)
            rendered.chmod(0o755)
    assert code == 1, out
    assert "could not write rendered/" in out and "unchanged" in out
    assert snapshot_tree(rendered) == before
    assert leftovers(example_repo) == []


def test_a_render_holds_the_lock_through_its_write(example_repo: Path) -> None:
    """While one render is stopped inside its write, nobody else can take the repository's lock,
    so a second render waits for it instead of interleaving; both then finish cleanly."""
    import fcntl

    change_demo(example_repo)
    first = _render_stopped_at(example_repo, "staged")
    fd = os.open(example_repo, os.O_RDONLY)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        second = subprocess.Popen(
            [sys.executable, "-m", "generator", "-C", str(example_repo), "render"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        first.send_signal(signal.SIGCONT)
        assert first.wait(30) == 0 and second.wait(30) == 0
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again once both are done
    finally:
        os.close(fd)
        for proc in (first,):
            if proc.poll() is None:
                proc.kill()
    assert leftovers(example_repo) == []
    assert cli(example_repo, "check")[0] == 0


def test_the_render_after_a_kill_between_the_renames_counts_against_the_old_tree(
    example_repo: Path,
) -> None:
    """The old tree waits in the backup folder; the next render puts it back before comparing, so
    it reports what really changes (one environment), not every file as created."""
    old = snapshot_tree(example_repo / "rendered")
    change_demo(example_repo)
    proc = _render_stopped_at(example_repo, "between-renames", "rename")
    proc.kill()
    proc.wait()
    assert not (example_repo / "rendered").exists()
    code, out = cli(example_repo, "render", "--format", "json")
    assert code == 0, out
    report = json.loads(out[: out.rindex("}") + 1])
    assert report["created"] == [] and report["removed"] == []
    groups = {output.group_of(path) for path in report["updated"]}
    assert groups == {"bootstrap", "demo", "staging"}  # what change_demo touches, nothing more
    assert snapshot_tree(example_repo / "rendered") != old
    assert leftovers(example_repo) == []
