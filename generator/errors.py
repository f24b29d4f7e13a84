"""The one exception hierarchy; the CLI maps each class to its exit code."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass


class GitopsGenError(Exception):
    """An expected failure: a clear message and an exit code, never a traceback."""

    exit_code = 1


class UsageError(GitopsGenError):
    """Invalid input or usage (exit 2)."""

    exit_code = 2


def os_reason(error: OSError) -> str:
    """An OSError in the words a message quotes: the system's text for its errno, else its own."""
    return os.strerror(error.errno) if error.errno else str(error)


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem in a file the user wrote."""

    file: str
    """Path relative to the repository root, with forward slashes."""
    line: int
    """1-based line, 0 when unknown."""
    col: int
    """1-based column, 0 when unknown."""
    path: str
    """Dotted path inside the document, empty for the document itself."""
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.col}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(UsageError):
    """The spec in environments/ (or a template) is invalid; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: (p.file, p.line, p.col, p.path)))
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        count = len(self.problems)
        # A file may carry the revision it was read at: "<rev>:environments/demo.yaml".
        files = {p.file.rpartition(":")[2].split("/", 1)[0] for p in self.problems}
        where = " and ".join(
            sorted(f"{name}/" for name in files if name in ("environments", "templates"))
        )
        head = f"{count} problem{'s' if count != 1 else ''} in {where or 'the spec'}:"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


class RenderError(UsageError):
    """A template failed or produced an invalid object."""


class OutputError(GitopsGenError):
    """rendered/ could not be read or written (permissions, disk full, ...); it is intact."""


class GitError(GitopsGenError):
    """A git operation failed."""


class PublishError(UsageError):
    """publish refused to run (stale or dirty rendered/, bad arguments)."""


class HelmError(GitopsGenError):
    """Helm failed on a chart (a template error, an unreachable registry, a missing version)."""


class TagsError(UsageError):
    """Every bad option of ``tags`` at once; each line names its option and stands on its own."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))

    def __str__(self) -> str:
        # The CLI prints "error: " before the message: repeat it on every line, so that each line
        # reads on its own (in a CI log, or after grep).
        return "\nerror: ".join(self.problems)


# Warnings: what a user must know that changes neither the result nor the exit code (the command
# did its work). The CLI prints them on stderr, as "warning: ...", when the command ends.
_warnings: list[str] = []


def warn(message: str) -> None:
    _warnings.append(message)


def take_warnings() -> list[str]:
    """The warnings since the last call, in order; the list is emptied."""
    taken = list(_warnings)
    _warnings.clear()
    return taken
