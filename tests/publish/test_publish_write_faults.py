"""publish under a real failure at each step where it writes: the refs are as before or all moved.

publish writes in the local repository in three steps: one ``git fast-import`` (the commits, the
note blobs and the notes commit, with its marks file in a temporary folder), then one ``git
update-ref --stdin`` transaction for the branches and ``refs/notes/hydrator.metadata``; with
``--push``, the temporary refs it fetched the remote's branches into are deleted at the end. Each
test below makes one of those writes fail for real (no function of ours is replaced) and checks:

- every ref (branches, -next branches, the notes ref, the temporary ``refs/gitops-gen/`` ones) is
  exactly as before, or all moved; where git itself can fail part way (below), every branch that
  moved has its note and a rerun ends exactly where a publish without the fault ends;
- exit 1, with one line on stderr that names what failed (which also proves the fault fired);
- once the fault is removed, the same command succeeds and every -next carries HEAD, with its note.

The faults: ``objects/pack`` replaced by a regular file (fast-import cannot create its pack, even
as root); a stale ``<ref>.lock`` for a -next branch, for the notes ref and for a branch being
created (update-ref's prepare fails: nothing moves); a reflog git cannot write (a directory in its
place), which fails the transaction after prepare, when git may already have moved some refs;
a stale ``packed-refs.lock`` with ``--push`` (the temporary refs cannot be deleted); and, as root
with ``mount``, a temporary folder without a free inode (the marks file) and a full disk.

Not covered here: a read-only or full ``TMPDIR`` does not make the marks file fail, because
Python's ``tempfile`` tries the next candidate (``/tmp``, ...) when ``TMPDIR`` is not writable; only
a folder where its probe succeeds and the next file does not (one free inode) fails for real.
The push itself (a remote that rejects one ref, or dies mid-push) is in test_publish_faults.py.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from tests.conftest import git, init_dry_repo
from tests.publish.test_branches import ENVS, note, refs, set_host

NOTES = "refs/notes/hydrator.metadata"


def publish_cli(root: Path, *extra: str) -> tuple[int, str]:
    """``gitops-gen -C root publish``, in process: (exit code, stderr)."""
    result = CliRunner().invoke(main, ["-C", str(root), "publish", *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stderr


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def published(repo: Path, head: str) -> None:
    """Every -next carries ``head`` with its note; no temporary ref is left."""
    for env in ENVS:
        assert note(repo, f"environment/{env}-next") == {"drySha": head}, env
    assert not [ref for ref in refs(repo) if ref.startswith("refs/gitops-gen/")]


def second_dry_commit(dry: Path, *push: str) -> str:
    """Publish HEAD, then make a dry commit that changes staging only: the next publish commits
    staging-next and notes demo-next and prod-next (every kind of ref update)."""
    code, err = publish_cli(dry, *push)
    assert code == 0, err
    head = set_host(dry, "staging", "stg2.example.com", "Move staging")
    if push:
        git(dry, "push", "-q", "origin", "main")
    return head


# --- fast-import: the object store refuses the write ----------------------------------------------


@pytest.mark.parametrize("push", [False, True], ids=["local", "push"])
def test_object_store_refusing_the_write(dry_repo: Path, remote: Path, push: bool) -> None:
    extra = ("--push",) if push else ()
    head = second_dry_commit(dry_repo, *extra)
    pack = dry_repo / ".git" / "objects" / "pack"
    assert not any(pack.iterdir()), "objects are packed: hiding the folder would hide them too"
    local, remote_refs = refs(dry_repo), refs(remote)
    pack.rmdir()
    pack.write_text("")  # a file where git creates its pack: fails even for root
    try:
        code, err = publish_cli(dry_repo, *extra)
    finally:
        pack.unlink()
        pack.mkdir()
    line = one_error_line(err)
    assert code == 1
    assert "git fast-import failed" in line and "objects/pack" in line, line
    assert os.strerror(errno.ENOTDIR) in line, line
    assert refs(dry_repo) == local  # no temporary ref either
    assert refs(remote) == remote_refs
    code, err = publish_cli(dry_repo, *extra)
    assert code == 0, err
    published(remote if push else dry_repo, head)


# --- update-ref: a stale lock fails the transaction before anything moves ------------------------


@pytest.mark.parametrize(
    "ref",
    [
        "refs/heads/environment/demo-next",  # a noted tip: verified, not moved
        "refs/heads/environment/staging-next",  # a new commit
        NOTES,
        "refs/heads/environment/prod",  # the first publish: a branch being created
    ],
)
def test_stale_lock_moves_no_ref(dry_repo: Path, ref: str) -> None:
    head = (
        git(dry_repo, "rev-parse", "HEAD") if ref.endswith("/prod") else second_dry_commit(dry_repo)
    )
    lock = dry_repo / ".git" / f"{ref}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("")  # what a git killed while holding the ref leaves behind
    before = refs(dry_repo)
    code, err = publish_cli(dry_repo)
    line = one_error_line(err)
    assert code == 1
    assert f"cannot lock ref '{ref}'" in line and f"{ref}.lock': File exists" in line, line
    assert refs(dry_repo) == before
    lock.unlink()
    code, err = publish_cli(dry_repo)
    assert code == 0, err
    published(dry_repo, head)


# --- update-ref: a failure after prepare, when git may have moved some refs -----------------------


@pytest.mark.parametrize("ref", [NOTES, "refs/heads/environment/prod-next"])
def test_reflog_that_cannot_be_written(dry_repo: Path, tmp_path: Path, ref: str) -> None:
    """git's files backend writes each ref's reflog while it moves the refs, one after another,
    after every lock was taken: a failure there leaves the refs before it moved. The notes ref
    goes first, so a branch that moved always has its note, and the rerun ends where a publish
    without the fault ends (same commit ids)."""
    second_dry_commit(dry_repo)
    head = set_host(dry_repo, "prod", "prod2.example.com", "Move prod")  # staging and prod move
    control = tmp_path / "control"
    shutil.copytree(dry_repo, control)
    assert publish_cli(control)[0] == 0
    log = dry_repo / ".git" / "logs" / ref
    log.unlink()
    log.mkdir()
    (log / "stray").write_text("")  # a directory in the reflog's place, not empty
    before = refs(dry_repo)
    code, err = publish_cli(dry_repo)
    line = one_error_line(err)
    assert code == 1
    assert "git update-ref failed part way (some refs may have moved)" in line, line
    assert f"cannot update the ref '{ref}'" in line, line
    after = refs(dry_repo)
    if ref == NOTES:
        assert after == before  # the first ref of the transaction: nothing moved
    else:
        assert after[NOTES] != before[NOTES]
        moved = [
            env
            for env in ENVS
            if after[f"refs/heads/environment/{env}-next"]
            != before[f"refs/heads/environment/{env}-next"]
        ]
        assert moved == ["staging"]  # before prod-next, in the transaction's order
        assert note(dry_repo, "environment/staging-next") == {"drySha": head}
    shutil.rmtree(log)
    code, err = publish_cli(dry_repo)
    assert code == 0, err
    published(dry_repo, head)
    expected = refs(control)
    for env in ENVS:
        for branch in (f"refs/heads/environment/{env}", f"refs/heads/environment/{env}-next"):
            assert refs(dry_repo)[branch] == expected[branch], branch


# --- --push: the temporary refs cannot be deleted -----------------------------------------------


def test_stale_packed_refs_lock_after_a_push(dry_repo: Path, remote: Path) -> None:
    """Deleting the temporary refs the remote's branches were fetched into needs packed-refs.lock.
    The push has happened (all refs moved on the remote): publish says so and exits 0, and a
    warning names the refs left behind, why, and the command that deletes them."""
    head = second_dry_commit(dry_repo, "--push")
    lock = dry_repo / ".git" / "packed-refs.lock"
    lock.write_text("")
    local = refs(dry_repo)
    code, err = publish_cli(dry_repo, "--push")
    assert code == 0, err
    *report, warning = err.strip().splitlines()
    assert report[-1].startswith("published ") and report[-1].endswith(" on origin"), err
    assert "staging: committed " in err and "Traceback" not in err
    assert warning.startswith("warning: could not delete the temporary refs refs/gitops-gen/")
    assert "packed-refs.lock': File exists. They are harmless" in warning, warning
    published_remote = refs(remote)
    for env in ENVS:
        assert note(remote, f"environment/{env}-next") == {"drySha": head}
    left = {ref: sha for ref, sha in refs(dry_repo).items() if ref not in local}
    assert left and all(ref.startswith("refs/gitops-gen/") for ref in left)
    scratch = warning.split("temporary refs ")[1].split("/*")[0]
    assert all(ref.startswith(scratch + "/") for ref in left), (scratch, left)
    # Local branches and notes as they were (a push updates refs/remotes/origin/, as any push).
    own = {ref: sha for ref, sha in local.items() if not ref.startswith("refs/remotes/")}
    assert {ref: sha for ref, sha in refs(dry_repo).items() if ref in own} == own
    lock.unlink()
    code, err = publish_cli(dry_repo, "--push")
    assert code == 0 and "is already published on origin" in err, err
    assert "warning" not in err
    assert refs(remote) == published_remote
    # The command the warning gives deletes them.
    command = warning.split("delete them with: ")[1]
    subprocess.run(command, shell=True, cwd=dry_repo, check=True)
    assert not [ref for ref in refs(dry_repo) if ref.startswith("refs/gitops-gen/")]


def test_a_status_read_stands_when_its_temporary_refs_stay(dry_repo: Path, remote: Path) -> None:
    """status reads origin's branches through temporary refs too: its answer stands, exit 0."""
    second_dry_commit(dry_repo, "--push")
    (dry_repo / ".git" / "packed-refs.lock").write_text("")
    result = CliRunner().invoke(main, ["-C", str(dry_repo), "status", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert {env["name"] for env in json.loads(result.stdout)["environments"]} == set(ENVS)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: could not delete the temporary refs")


def test_a_failed_cleanup_does_not_hide_why_the_push_failed(dry_repo: Path, remote: Path) -> None:
    """The remote refuses the push and the temporary refs cannot be deleted: the message names
    the first failure, the refusal; the refs left behind follow as a warning."""
    second_dry_commit(dry_repo, "--push")
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'frozen for the release' >&2\nexit 1\n")
    hook.chmod(0o755)
    (dry_repo / ".git" / "packed-refs.lock").write_text("")
    local, remote_refs = refs(dry_repo), refs(remote)
    code, err = publish_cli(dry_repo, "--push")
    error, warning = err.strip().splitlines()
    assert code == 1
    assert error.startswith("error: push to origin failed"), err
    assert "frozen for the release" in error and "packed-refs.lock" not in error, error
    # The refs left behind come after it, as a warning.
    assert warning.startswith("warning: could not delete the temporary refs"), err
    assert "packed-refs.lock" in warning, warning
    assert refs(remote) == remote_refs
    assert {ref: sha for ref, sha in refs(dry_repo).items() if ref in local} == local


# --- a real full folder: the marks file, and the repository itself (tmpfs; needs root) -----------


def _can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.fixture
def mount_tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """``mount_tmpfs("size=8m")``: a new tmpfs under tmp_path, unmounted afterwards."""
    if not _can_mount():
        pytest.skip("mounting a tmpfs needs root; the other faults here need no mount")
    mounted: list[Path] = []

    def mount(options: str) -> Path:
        point = tmp_path / f"tmpfs-{len(mounted)}"
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(point)
        return point

    try:
        yield mount
    finally:
        for point in mounted:
            subprocess.run(["umount", "-l", str(point)], check=False)


def _fill(folder: Path, what: str) -> list[Path]:
    """Files in ``folder`` until its tmpfs is out of inodes (``what="inodes"``) or of space."""
    files: list[Path] = []
    try:
        while True:
            path = folder / f"filler-{len(files)}"
            files.append(path)
            with path.open("wb", buffering=0) as handle:
                while what == "space":
                    handle.write(b"\0" * 4096)
    except OSError as e:
        assert e.errno == errno.ENOSPC, e
    return files


def test_marks_file_without_room(
    dry_repo: Path, mount_tmpfs: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """TMPDIR with exactly one free inode: tempfile's probe file and the run's temporary folder
    fit, fast-import's marks file does not."""
    head = second_dry_commit(dry_repo)
    scratch = mount_tmpfs("size=1m,nr_inodes=16")
    fillers = _fill(scratch, "inodes")
    fillers.pop().unlink(missing_ok=True)  # the one that failed was never created
    fillers.pop().unlink()  # one inode free
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)  # so that tempfile reads TMPDIR again
    before = refs(dry_repo)
    code, err = publish_cli(dry_repo)
    line = one_error_line(err)
    assert code == 1
    assert "git fast-import failed: Unable to write marks file " + str(scratch) in line, line
    assert os.strerror(errno.ENOSPC) in line, line
    assert refs(dry_repo) == before
    for path in fillers:
        path.unlink()
    code, err = publish_cli(dry_repo)
    assert code == 0, err
    published(dry_repo, head)
    assert not any(scratch.iterdir())  # the temporary folder went, both times


def test_full_disk(example_repo: Path, mount_tmpfs: Callable[[str], Path]) -> None:
    disk = mount_tmpfs("size=8m")
    dry = disk / "repo"
    shutil.copytree(example_repo, dry)
    init_dry_repo(dry)
    head = second_dry_commit(dry)
    fillers = _fill(disk, "space")
    before = refs(dry)
    code, err = publish_cli(dry)
    line = one_error_line(err)
    assert code == 1
    assert "git fast-import failed" in line and "Out of diskspace" in line, line
    assert refs(dry) == before
    for path in fillers:
        path.unlink()
    code, err = publish_cli(dry)
    assert code == 0, err
    published(dry, head)
