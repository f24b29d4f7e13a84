"""The fast-import stream of a publish: every new root, -next commit and note in one run."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from pathlib import Path

from generator.git import plumbing as gitio
from generator.git.drycommit import DryCommit, Identity
from generator.git.envbranches import METADATA_FILE, Snapshot
from generator.publish.plan import Step
from generator.publish.results import environment_count
from generator.spec.model import Environment


def _readme(env: Environment, repo_url: str) -> bytes:
    return (
        f"# {env.branch}\n\n"
        "This branch is managed by gitops-gen and promoted by the GitOps Promoter.\n\n"
        f"gitops-gen publishes the rendered `{env.name}` environment to `{env.next_branch}`; the\n"
        f"GitOps Promoter merges it into `{env.branch}` through a pull request once its\n"
        f"commit-status gates pass, and Argo CD syncs `{env.branch}`. Do not commit to either\n"
        f"branch by hand: change `environments/` on the dry branch of {repo_url} instead.\n"
    ).encode()


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def build_commits(
    root: Path,
    dry: DryCommit,
    steps: list[Step],
    snap: Snapshot,
    trees: dict[str, str],
    repo_url: str,
    identity: Identity,
) -> tuple[dict[str, str], dict[str, str], str | None]:
    """One fast-import run: {env: new active root}, {env: new -next tip}, the new notes commit."""
    scratch = f"refs/gitops-gen/build-{os.getpid()}-{secrets.token_hex(4)}"
    who = f"{identity} {dry.git_date}".encode()
    sign = b"author " + who + b"\ncommitter " + who + b"\n"
    out = bytearray(b"blob\nmark :1\n" + _data(dry.metadata(repo_url)))
    note = json.dumps({"drySha": dry.sha}, separators=(",", ":")).encode() + b"\n"
    out += b"blob\nmark :2\n" + _data(note)
    mark = 2
    roots: dict[str, int] = {}
    tips: dict[str, int] = {}
    links: dict[int, int] = {}  # {link commit mark: note blob mark}
    for step in steps:
        env = step.env
        if step.bootstrap:
            mark += 2
            roots[env.name] = mark
            out += b"blob\nmark :%d\n" % (mark - 1) + _data(_readme(env, repo_url))
            out += f"reset {scratch}\ncommit {scratch}\nmark :{mark}\n".encode() + sign
            out += _data(f"Create {env.branch} for gitops-gen\n".encode())
            out += b"M 100644 :%d README.md\n\n" % (mark - 1)
        if step.link:
            # The tree of the -next tip is kept (no file commands), and its dry commit is noted.
            mark += 2
            tips[env.name], links[mark] = mark, mark - 1
            payload = json.dumps({"drySha": step.newer}, separators=(",", ":")).encode() + b"\n"
            out += b"blob\nmark :%d\n" % (mark - 1) + _data(payload)
            out += f"commit {scratch}\nmark :{mark}\n".encode() + sign
            out += _data(f"Descend from the new root of {env.branch}\n".encode())
            out += f"from {step.base}\nmerge :{roots[env.name]}\n\n".encode()
            continue
        if step.action != "committed":
            continue
        mark += 1
        tips[env.name] = mark
        parents = [step.base or f":{roots[env.name]}"]
        if step.merge_root:
            parents.append(f":{roots[env.name]}")
        out += f"commit {scratch}\nmark :{mark}\n".encode() + sign + _data(dry.message().encode())
        out += f"from {parents[0]}\n".encode()
        out += "".join(f"merge {p}\n" for p in parents[1:]).encode()
        out += f'deleteall\nM 040000 {trees[env.name]} ""\nM 100644 :1 {METADATA_FILE}\n\n'.encode()
    # Every -next commit this run makes or notes gets the note. So any publish that writes
    # also moves the notes ref, and the atomic push (or the update-ref transaction) checks its old
    # value: two publishers that read the same notes cannot both succeed (see docs/publish.md).
    noted = [s.base for s in steps if s.action == "note"]
    noted += [f":{m}" for m in tips.values() if m not in links]
    notes_mark = None
    if noted or links:
        mark += 1
        notes_mark = mark
        out += f"reset {scratch}\ncommit {scratch}\nmark :{mark}\n".encode() + sign
        count = len(noted) + len(links)
        out += _data(f"Note dry commit {dry.sha[:7]} on {environment_count(count)}\n".encode())
        if snap.notes:
            out += f"from {snap.notes}\n".encode()
        out += "".join(f"N :2 {commit}\n" for commit in noted).encode()
        out += "".join(f"N :{blob} :{commit}\n" for commit, blob in links.items()).encode()
        out += b"\n"
    out += f"reset {scratch}\ndone\n".encode()
    with tempfile.TemporaryDirectory(prefix="gitops-gen-") as tmp:
        marks = gitio.fast_import(root, bytes(out), Path(tmp) / "marks")
    return (
        {name: marks[m] for name, m in roots.items()},
        {name: marks[m] for name, m in tips.items()},
        marks[notes_mark] if notes_mark else None,
    )
