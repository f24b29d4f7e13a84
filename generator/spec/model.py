"""The spec as frozen dataclasses, and loading it: nothing downstream sees raw files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import Problem, SpecError
from generator.spec.files import PROJECT_FILE, SPEC_DIR, SpecFile, parse_files, read_spec_dir


@dataclass(frozen=True, slots=True)
class Chart:
    repository: str
    """oci://host/path or https://host/path, as Helm's dependency ``repository`` takes it."""
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class Scm:
    """The SCM as the Promoter's GitRepository and ScmProvider describe it."""

    provider: str
    secret_ref: str
    domain: str | None
    """Host for self-hosted providers; None for github.com and gitlab.com."""
    owner: str
    """Owner (github, forgejo, gitea) or namespace (gitlab) of the repository."""
    repository: str
    app_id: int | None = None
    installation_id: int | None = None
    project_id: int | None = None


@dataclass(frozen=True, slots=True)
class Project:
    name: str
    repo_url: str
    branch_prefix: str
    scm: Scm
    argocd_namespace: str
    argocd_project: str
    promoter_namespace: str
    active_gates: tuple[str, ...]
    """Commit-status keys checked on every environment's active branch."""
    proposed_gates: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SyncPolicy:
    automated: bool
    prune: bool
    self_heal: bool
    allow_empty: bool
    options: tuple[str, ...]
    retry: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class AppRelease:
    """One app as one environment runs it, after every merge."""

    name: str
    release_name: str
    chart: Chart
    image_tag: str | None
    pull_policy: str | None
    """The effective pull policy (explicit, else from the tag); None when the app has no image."""
    values: Mapping[str, Any]
    """The wrapper chart's values.yaml: ``global`` at the top, the rest under the chart's name."""


@dataclass(frozen=True, slots=True)
class Environment:
    name: str
    file: str
    branch: str
    """The active branch; the Promoter's proposed branch is ``branch + "-next"``."""
    namespace: str
    server: str | None
    cluster_name: str | None
    auto_merge: bool
    active_gates: tuple[str, ...]
    proposed_gates: tuple[str, ...]
    sync: SyncPolicy
    ignore_differences: tuple[Mapping[str, Any], ...]
    apps: tuple[AppRelease, ...]
    """Enabled apps, sorted by name."""
    disabled_apps: tuple[str, ...]

    @property
    def next_branch(self) -> str:
        return self.branch + "-next"


@dataclass(frozen=True, slots=True)
class Spec:
    project: Project
    environments: tuple[Environment, ...]
    """In promotion order."""
    files: tuple[str, ...] = field(default=())

    def environment(self, name: str) -> Environment:
        for env in self.environments:
            if env.name == name:
                return env
        raise KeyError(name)


def load_spec(root: Path) -> Spec:
    """Read, validate and merge ``root/environments``; raises SpecError with every problem found."""
    files, unreadable = read_spec_dir(root)
    return parse_spec(files, unreadable)


def parse_spec(files: Mapping[str, str], unreadable: Sequence[Problem] = ()) -> Spec:
    """Build the Spec from {path: text} (from disk, or from a git revision).

    ``unreadable`` are the problems of spec files that could not be read: they are reported with
    the rest, and each such file still counts as there (it is not "missing").
    """
    sources = {name: SpecFile(name, text) for name, text in sorted(files.items())}
    problems: list[Problem] = list(unreadable)
    unparsed = {p.file for p in unreadable if p.file.endswith(".yaml")}
    project_name = f"{SPEC_DIR}/{PROJECT_FILE}"
    if not sources and not problems:
        raise SpecError([Problem(SPEC_DIR, 0, 0, "", "the spec is empty: no .yaml files")])
    if project_name not in sources and project_name not in unparsed:
        problems.append(
            Problem(
                project_name, 0, 0, "", "missing: it holds the project, apps and promotion order"
            )
        )
    parse_files(list(sources.values()), project_name, problems)
    sources.update({name: SpecFile(name, "") for name in sorted(unparsed)})
    # The builder makes this module's dataclasses, so it is imported here, once they exist.
    from generator.spec.builder import Builder

    # The cross-file checks run on whatever parsed, so that one run reports every problem.
    builder = Builder(sources, project_name)
    spec = builder.build()
    problems += builder.problems
    if problems:
        raise SpecError(problems)
    assert spec is not None
    return spec
