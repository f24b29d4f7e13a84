"""All git access: plumbing through the git binary, with a clean environment and identities."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.errors import GitError, UsageError

_FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
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
        detail = failure_reason(result.stderr) or f"exit {result.returncode}"
        raise GitError(f"git {args[0]} failed: {detail}")
    return result


def git_text(root: Path, *args: str) -> str:
    return run_git(root, *args).stdout.decode("utf-8").strip()


def is_full_sha(text: str) -> bool:
    """A full object name, SHA-1 or SHA-256, in lower case."""
    return bool(_FULL_SHA.fullmatch(text))


def rev_parse(root: Path, rev: str) -> str | None:
    """The full object name of ``rev``, or None when it does not exist."""
    result = run_git(root, "rev-parse", "--verify", "--quiet", rev + "^{commit}", check=False)
    return result.stdout.decode().strip() or None if result.returncode == 0 else None


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One line of ``git ls-tree``."""

    mode: str
    kind: str
    """blob, tree or commit (a submodule)."""
    sha: str
    path: str
    """From the top of the repository (``--full-tree``), with forward slashes."""


def ls_tree(root: Path, treeish: str, *paths: str, recursive: bool = False) -> list[TreeEntry]:
    """The entries of ``treeish`` (only under ``paths`` when given): the one ls-tree parser."""
    args = ["ls-tree", "-z", "--full-tree", *(["-r"] if recursive else []), treeish, "--", *paths]
    entries: list[TreeEntry] = []
    for record in run_git(root, *args).stdout.split(b"\0"):
        if record:
            meta, _, path = record.partition(b"\t")
            mode, kind, sha = meta.decode().split()
            entries.append(TreeEntry(mode, kind, sha, path.decode("utf-8", "replace")))
    return entries


def read_files(root: Path, rev: str, prefix: str) -> dict[str, bytes]:
    """Every blob under ``prefix/`` at ``rev`` as {path relative to prefix: bytes}, in one batch."""
    prefix = prefix.strip("/")
    strip = len(prefix) + 1 if prefix else 0
    pathspec = [prefix + "/"] if prefix else []
    files: dict[str, bytes] = {}
    entries = [e for e in ls_tree(root, rev, *pathspec, recursive=True) if e.kind == "blob"]
    for entry, blob in zip(entries, cat_objects(root, [e.sha for e in entries]), strict=True):
        if blob is None:
            raise GitError(f"{rev}:{entry.path} is missing from the repository")
        files[entry.path[strip:]] = blob[1]
    return files


# --- publishing: object batches, ref transactions, remotes ---


def require_repository(root: Path) -> None:
    """Exit 2 (a usage error, not a git failure) when ``root`` is not in a git repository."""
    if run_git(root, "rev-parse", "--git-dir", check=False).returncode != 0:
        raise UsageError(f"{root} is not a git repository")


def is_bare(root: Path) -> bool:
    return git_text(root, "rev-parse", "--is-bare-repository") == "true"


def cat_objects(root: Path, names: Sequence[str]) -> list[tuple[str, bytes] | None]:
    """(type, raw content) per name (``sha``, ``rev:path``, ``rev^{tree}``); None if missing."""
    if not names:
        return []
    if any("\n" in name for name in names):
        raise GitError("object names cannot contain newlines")
    batch = "".join(n + "\n" for n in names).encode()
    out = run_git(root, "cat-file", "--batch", input=batch).stdout
    objects: list[tuple[str, bytes] | None] = []
    pos = 0
    for _ in names:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split()
        if header[-1] in (b"missing", b"ambiguous"):
            objects.append(None)
            pos = header_end + 1
            continue
        size = int(header[2])
        start = header_end + 1
        objects.append((header[1].decode(), out[start : start + size]))
        pos = start + size + 1
    return objects


def parse_tree(raw: bytes, digest_size: int = 20) -> dict[str, tuple[str, str]]:
    """A raw tree object as {name: (mode, sha)}; ``digest_size`` is 32 in SHA-256 repositories."""
    entries: dict[str, tuple[str, str]] = {}
    pos = 0
    while pos < len(raw):
        space = raw.index(b" ", pos)
        nul = raw.index(b"\0", space)
        name = raw[space + 1 : nul].decode("utf-8", "surrogateescape")
        entries[name] = (raw[pos:space].decode(), raw[nul + 1 : nul + 1 + digest_size].hex())
        pos = nul + 1 + digest_size
    return entries


def parse_commit(raw: bytes) -> tuple[str, list[str]]:
    """(tree, parents) of a raw commit object."""
    tree = ""
    parents: list[str] = []
    for line in raw.split(b"\n\n", 1)[0].split(b"\n"):
        key, _, value = line.partition(b" ")
        if key == b"tree":
            tree = value.decode()
        elif key == b"parent":
            parents.append(value.decode())
    return tree, parents


def list_refs(root: Path, *patterns: str) -> dict[str, str]:
    """{refname: object sha} for refs matching ``patterns`` (for-each-ref prefixes), in one call."""
    out = git_text(root, "for-each-ref", "--format=%(objectname) %(refname)", *patterns)
    refs: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, name = line.partition(" ")
        refs[name] = sha
    return refs


def update_refs(root: Path, updates: Sequence[tuple[str, str | None, str | None]]) -> None:
    """One all-or-nothing transaction of (ref, new or None to delete, old or None to create).

    ``new == old`` verifies that the ref still has that value without moving it.
    """
    lines = ["start"]
    for ref, new, old in updates:
        if new is not None and new == old:
            lines.append(f"verify {ref} {old}")
        elif new is None:
            lines.append(f"delete {ref}" + (f" {old}" if old else ""))
        elif old is None:
            lines.append(f"create {ref} {new}")
        else:
            lines.append(f"update {ref} {new} {old}")
    lines += ["prepare", "commit", ""]
    result = run_git(root, "update-ref", "--stdin", input="\n".join(lines).encode(), check=False)
    if result.returncode != 0:
        detail = failure_reason(result.stderr) or f"exit {result.returncode}"
        # git reports a failure after "prepare" (every ref locked and checked) as "commit: ...":
        # it may have moved some refs already (files backend: a reflog it cannot write).
        partly = " part way (some refs may have moved)" if detail.startswith("commit:") else ""
        raise GitError(f"git update-ref failed{partly}: {detail}")


def fast_import(root: Path, stream: bytes, marks_file: Path) -> dict[int, str]:
    """Feed a fast-import stream; returns {mark: sha}. The stream must not leave refs behind."""
    run_git(root, "fast-import", "--quiet", "--done", f"--export-marks={marks_file}", input=stream)
    marks: dict[int, str] = {}
    for line in marks_file.read_text().splitlines():
        mark, _, sha = line.partition(" ")
        marks[int(mark[1:])] = sha
    return marks


def missing_commits(root: Path, shas: Sequence[str]) -> set[str]:
    """The shas that are not commits in this repository (one ``cat-file --batch-check``)."""
    if not shas:
        return set()
    out = run_git(
        root, "cat-file", "--batch-check", input="".join(s + "^{commit}\n" for s in shas).encode()
    ).stdout.decode()
    lines = out.splitlines()
    return {sha for sha, line in zip(shas, lines, strict=True) if line.endswith(" missing")}


def is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    result = run_git(root, "merge-base", "--is-ancestor", ancestor, descendant, check=False)
    if result.returncode not in (0, 1):
        detail = failure_reason(result.stderr) or f"exit {result.returncode}"
        raise GitError(f"git merge-base failed: {detail}")
    return result.returncode == 0


def remote_names(root: Path) -> list[str]:
    return git_text(root, "remote").splitlines()


def fetch(root: Path, remote: str, refspecs: Sequence[str], check: bool = True) -> bool:
    """``git fetch`` of exactly ``refspecs``: no tags, no FETCH_HEAD, and no remote-tracking ref
    moved. (Given a configured remote, git also updates the tracking refs that its fetch refspecs
    map the fetched refs to; an empty ``--refmap`` turns that off.) A failure names the remote."""
    result = run_git(
        root,
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",
        "--no-recurse-submodules",
        "--refmap=",
        remote,
        *refspecs,
        check=False,
    )
    if result.returncode != 0 and check:
        raise GitError(f"cannot fetch from {remote}: {failure_reason(result.stderr)}")
    return result.returncode == 0


def ls_remote(root: Path, remote: str, *patterns: str) -> dict[str, str]:
    result = run_git(root, "ls-remote", remote, *patterns, check=False)
    if result.returncode != 0:
        raise GitError(f"cannot reach {remote}: {failure_reason(result.stderr)}")
    refs: dict[str, str] = {}
    for line in result.stdout.decode().splitlines():
        sha, _, name = line.partition("\t")
        refs[name] = sha
    return refs


# Rejections that mean "the remote moved since we fetched": fetch again, rebuild, retry.
_OUT_OF_DATE = (
    "(non-fast-forward)",
    "(fetch first)",
    "(stale info)",
    # Two pushes that pass the fast-forward check together: the loser fails to lock the ref.
    "(atomic transaction failed)",
    "cannot lock ref",
    "incorrect old value",
)


def push_atomic(root: Path, remote: str, refspecs: Sequence[str]) -> tuple[bool, bool, str]:
    """One ``git push --atomic``: (accepted, rejected as out of date, why it failed: one line)."""
    result = run_git(root, "push", "--atomic", "--porcelain", remote, *refspecs, check=False)
    if result.returncode == 0:
        return True, False, ""
    stale = False
    for line in result.stdout.decode("utf-8", "replace").splitlines():
        flag, _, rest = line.partition("\t")
        if flag == "!" and any(reason in rest for reason in _OUT_OF_DATE):
            stale = True
    return False, stale, failure_reason(result.stderr, result.stdout) or "no message"


_CONTROL = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|[\x00-\x1f\x7f]")
# Lines git adds to every failure of its kind: they never say why.
_BOILERPLATE = (
    "could not read from remote repository",
    "failed to push some refs",
    "please make sure you have the correct access rights",
    "and the repository exists",
    "the remote end hung up unexpectedly",
)
_MAX_REASON = 300


def failure_reason(stderr: bytes, porcelain: bytes = b"") -> str:
    """The cause of a git failure as one line: the first ``fatal:``, the first ref a push
    rejected (with its reason), and what the remote said (a hook's message); git's generic
    trailer lines are dropped. Empty when git said nothing."""
    lines = [
        _CONTROL.sub("", line).strip()
        for line in stderr.decode("utf-8", "replace").replace("\r", "\n").splitlines()
    ]
    lines = [ln for ln in lines if ln and not any(b in ln.lower() for b in _BOILERPLATE)]
    parts: list[str] = []
    fatal = [ln.removeprefix("fatal:").strip() for ln in lines if ln.startswith("fatal:")]
    if fatal:
        parts.append(fatal[0])
    for record in porcelain.decode("utf-8", "replace").splitlines():
        fields = record.split("\t")
        if len(fields) >= 3 and fields[0] == "!":
            ref = fields[1].rpartition(":")[2]
            parts.append(f"{ref} {fields[2].replace('[', '').replace(']', '').strip()}")
            break
    said = [ln.removeprefix("remote:").strip() for ln in lines if ln.startswith("remote:")]
    said = [ln.removeprefix("error:").strip() for ln in said if ln.strip(" -=*")]
    if said:
        parts.append(said[0])
    if not parts:
        errors = [ln.removeprefix("error:").strip() for ln in lines if ln.startswith("error:")]
        parts.append(errors[0] if errors else lines[-1] if lines else "")
    reason = ": ".join(p for p in parts if p)
    return reason if len(reason) <= _MAX_REASON else reason[: _MAX_REASON - 3] + "..."
