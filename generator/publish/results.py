"""What a publish did, per environment and in all: as JSON, and as the report a person reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class EnvironmentResult:
    name: str
    branch: str
    proposed_branch: str
    action: str
    """``committed``, ``note``, ``skipped`` (a newer dry commit is there) or ``up-to-date``."""
    commit: str | None
    """The -next tip afterwards (None for a commit a dry run did not make)."""
    previous: str | None
    """The -next tip before, None when the branch did not exist."""
    created: tuple[str, ...] = ()
    """Branches this run created (active and/or -next)."""
    newer: str | None = None
    """For ``skipped``: the newer dry commit already on -next."""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "branch": self.branch,
            "proposedBranch": self.proposed_branch,
            "action": self.action,
            "commit": self.commit,
            "previous": self.previous,
            "createdBranches": list(self.created),
            "newerDrySha": self.newer,
        }


@dataclass(frozen=True, slots=True)
class PublishResult:
    dry_sha: str
    remote: str | None
    pushed: bool
    dry_run: bool
    attempts: int
    environments: tuple[EnvironmentResult, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "drySha": self.dry_sha,
            "remote": self.remote,
            "pushed": self.pushed,
            "dryRun": self.dry_run,
            "attempts": self.attempts,
            "environments": [e.to_json() for e in self.environments],
        }


def describe(result: PublishResult) -> list[str]:
    """The human report: a line per created branch and per environment, then a summary."""
    dry = result.dry_run
    lines: list[str] = []
    for env in result.environments:
        created = "would create" if dry else "created"
        lines += [f"{env.name}: {created} branch {branch}" for branch in env.created]
        if env.action == "committed":
            lines.append(
                f"{env.name}: " + ("would commit" if dry else f"committed {env.commit or ''}"[:17])
            )
        elif env.action == "note":
            noted = "would note" if dry else "note"
            lines.append(f"{env.name}: {noted} on {(env.commit or '')[:7]} (tree unchanged)")
        elif env.action == "skipped":
            lines.append(f"{env.name}: skipped (newer: {(env.newer or '')[:7]} is already there)")
        else:
            lines.append(f"{env.name}: up to date")
    changed = sum(e.action in ("committed", "note") or bool(e.created) for e in result.environments)
    where = f" on {result.remote}" if result.remote else ""
    if result.dry_run:
        lines.append(f"dry run: {environment_count(changed)} would change{where}")
    elif result.pushed:
        lines.append(f"published {result.dry_sha[:7]}: {environment_count(changed)} updated{where}")
    elif changed:
        lines.append(
            f"published {result.dry_sha[:7]}: {environment_count(changed)} updated locally"
        )
    else:
        lines.append(f"{result.dry_sha[:7]} is already published{where}")
    return lines


def environment_count(count: int) -> str:
    """``environment_count(2)`` → ``2 environments``."""
    return f"{count} environment{'s' if count != 1 else ''}"
