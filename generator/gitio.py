"""All git access: plumbing through the git binary, with a clean environment and explicit identities."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from generator.errors import GitError

# Variables that would redirect git away from the repository we name, or change its output.
_LEAKY = ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_OBJECT_DIRECTORY", "GIT_NAMESPACE")


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY}
    env["LC_ALL"] = "C"
    env["GIT_TERMINAL_PROMPT"] = "0"
    if extra:
        env.update(extra)
    return env


def run_git(
    root: Path,
    *args: str,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git -C root args...``; raises GitError with git's own message on failure."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), *args],
            input=input,
            capture_output=True,
            env=git_env(env),
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if check and result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"exit {result.returncode}"
        raise GitError(f"git {args[0]} failed: {detail}")
    return result


def git_text(root: Path, *args: str) -> str:
    return run_git(root, *args).stdout.decode("utf-8").strip()


def rev_parse(root: Path, rev: str) -> str | None:
    """The full object name of ``rev``, or None when it does not exist."""
    result = run_git(root, "rev-parse", "--verify", "--quiet", rev + "^{commit}", check=False)
    return result.stdout.decode().strip() or None if result.returncode == 0 else None


def read_files(root: Path, rev: str, prefix: str) -> dict[str, bytes]:
    """Every blob under ``prefix/`` at ``rev`` as {path relative to prefix: bytes}, in one batch."""
    prefix = prefix.strip("/")
    strip = len(prefix) + 1 if prefix else 0
    pathspec = [prefix + "/"] if prefix else []
    listing = run_git(root, "ls-tree", "-r", "-z", "--full-tree", rev, "--", *pathspec).stdout
    entries: list[tuple[str, str]] = []
    for record in listing.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, kind, sha = meta.decode().split()
        if kind == "blob":
            entries.append((path.decode("utf-8"), sha))
    blobs = cat_blobs(root, [sha for _, sha in entries])
    return dict(zip((path[strip:] for path, _ in entries), blobs, strict=True))


def cat_blobs(root: Path, shas: Sequence[str]) -> list[bytes]:
    """The contents of many blobs with one ``git cat-file --batch``."""
    if not shas:
        return []
    out = run_git(root, "cat-file", "--batch", input="".join(s + "\n" for s in shas).encode()).stdout
    blobs: list[bytes] = []
    pos = 0
    for _ in shas:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        start = header_end + 1
        blobs.append(out[start : start + size])
        pos = start + size + 1
    return blobs
