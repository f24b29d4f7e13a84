"""The dry commit a publish describes: its metadata, and proof that rendered/ is fresh for it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from generator.errors import PublishError, UsageError
from generator.git import plumbing as gitio
from generator.git.revisions import repository_prefix, spec_at, spec_files_at, templates_at
from generator.spec.model import Spec

ENVIRONMENTS_DIR = "rendered/environments"
_IDENTITY = re.compile(r" *([^<>]*?) *<([^<>\s]+@[^<>\s]+)> *")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    email: str

    @classmethod
    def parse(cls, text: str) -> Identity:
        if _CONTROL.search(text):
            raise UsageError(
                f"--author {text!r}: control characters (such as a line break) are not allowed;"
                " expected 'Name <email>'"
            )
        match = _IDENTITY.fullmatch(text)
        if not match or not match[1]:
            raise UsageError(f"--author {text!r}: expected 'Name <email>'")
        return cls(match[1], match[2])

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


DEFAULT_IDENTITY = Identity("gitops-gen", "gitops-gen@users.noreply.invalid")


@dataclass(frozen=True, slots=True)
class DryCommit:
    """The commit on the dry branch that a publish describes."""

    sha: str
    author: str
    """``Name <email>`` of the dry commit's author."""
    date: str
    """The author date, RFC 3339 (strict ISO 8601 from git)."""
    git_date: str
    """The committer date, raw (``<epoch> <tz>``); it dates every commit publish makes."""
    subject: str
    body: str

    @classmethod
    def read(cls, root: Path, rev: str) -> DryCommit:
        raw = gitio.run_git(
            root,
            "log",
            "-1",
            "--no-show-signature",
            "--date=raw",
            "--format=%H%x00%an <%ae>%x00%aI%x00%cd%x00%s%x00%b",
            rev,
            "--",
        ).stdout.decode("utf-8", "replace")
        sha, author, date, git_date, subject, body = raw.split("\0", 5)
        return cls(sha, author, date, git_date, subject, body.strip())

    def metadata(self, repo_url: str) -> bytes:
        """hydrator.metadata: the same dry commit always gives the same bytes."""
        data = {
            "repoURL": repo_url,
            "drySha": self.sha,
            "author": self.author,
            "date": self.date,
            "subject": self.subject,
            "body": self.body,
        }
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()

    def message(self) -> str:
        """Like Argo CD's hydrator: ``<sha7>: <subject>``, the body, a Co-authored-by trailer."""
        parts = [f"{self.sha[:7]}: {self.subject}"]
        if self.body:
            parts.append(self.body)
        parts.append(f"Co-authored-by: {self.author}")
        return "\n\n".join(parts) + "\n"


def environment_trees(root: Path, head: str) -> dict[str, str]:
    """{environment name: tree sha of rendered/environments/<env>/ at ``head``}."""
    folder = repository_prefix(root) + ENVIRONMENTS_DIR
    return {
        e.path.rpartition("/")[2]: e.sha
        for e in gitio.ls_tree(root, head, folder + "/")
        if e.kind == "tree"
    }


def check_clean(root: Path, head: str) -> None:
    """Refuse uncommitted changes to what publish describes (the spec, templates and rendered/)."""
    if gitio.is_bare(root):
        return
    status = gitio.run_git(
        root,
        "status",
        "--porcelain",
        "--untracked-files=all",
        "--",
        "environments",
        "templates",
        "rendered",
        env={"GIT_OPTIONAL_LOCKS": "0"},  # never rewrite the index, even to refresh it
    ).stdout.decode("utf-8", "replace")
    if status.strip():
        paths = sorted({line[3:].split("/", 1)[0] + "/" for line in status.splitlines()})
        raise PublishError(
            f"uncommitted changes in {', '.join(paths)}: publish takes HEAD ({head[:7]}) as the "
            "dry commit; commit or stash them first"
        )


def head_spec(root: Path, head: str) -> Spec:
    """The spec at ``head``, parsed from git objects (never from the working tree)."""
    files = spec_files_at(root, head, None)
    if not files:
        prefix = repository_prefix(root)
        raise PublishError(
            f"HEAD ({head[:7]}) has no {prefix}environments/; run gitops-gen in the folder that "
            "holds environments/ (or pass -C DIR)"
        )
    return spec_at(files, None)


def check_fresh(root: Path, head: str, spec: Spec) -> None:
    """Prove that HEAD's rendered/ is exactly what render makes of HEAD's spec and templates.

    Everything is read from HEAD's objects (``spec`` is ``head_spec``'s): a file hidden from git
    status (skip-worktree, assume-unchanged) or an ignored file on disk changes nothing.
    """
    from generator.errors import RenderError
    from generator.render import output
    from generator.render.plan import render

    templates = templates_at(root, head, None)
    try:
        planned = render(spec, templates)
    except RenderError as e:
        raise RenderError(f"at HEAD ({head[:7]}): {e}") from None
    current = gitio.read_files(root, head, repository_prefix(root) + output.RENDERED)
    changes = output.compare(planned, current)
    if changes:
        paths = sorted([*changes.created, *changes.updated, *changes.removed])
        raise PublishError(
            f"rendered/ is stale for HEAD ({head[:7]}): {len(paths)} file"
            f"{' differs' if len(paths) == 1 else 's differ'} (first: rendered/{paths[0]}); "
            "run `gitops-gen render`, commit the result, then publish"
        )
