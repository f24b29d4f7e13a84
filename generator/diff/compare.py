"""Semantic comparison of rendered trees: the two sides chosen, each environment (and the shared
bootstrap objects) a section, its files compared object by object (files.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generator.diff.data import Normalize
from generator.diff.facts import (
    EnvFacts,
    SummaryItem,
    compare_facts,
    facts_from_files,
    facts_from_spec,
)
from generator.diff.files import README, ObjectDiff, compare_files
from generator.errors import UsageError
from generator.git.revisions import Tree
from generator.spec.naming import application_name

BOOTSTRAP = "bootstrap"


@dataclass(frozen=True, slots=True)
class Section:
    """One environment (or the shared bootstrap objects) and what changes in it."""

    name: str
    status: str
    """added, removed, changed or unchanged."""
    summary: tuple[SummaryItem, ...]
    objects: tuple[ObjectDiff, ...]
    readme: bool = False
    """The environment's README.md changed: no object shows it, since nothing deploys it."""


@dataclass(frozen=True, slots=True)
class Side:
    label: str
    commit: str | None
    dry_sha: str | None


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """A headline change and every environment it applies to."""

    kind: str
    subject: str | None
    before: str | None
    after: str | None
    environments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Diff:
    mode: str
    """revisions, promotion or between."""
    base: Side
    head: Side
    environments: tuple[Section, ...]
    bootstrap: Section | None = None
    notes: tuple[str, ...] = field(default=())
    """What the comparison ignored on purpose (shown under the header)."""
    trees: tuple[Tree, Tree] | None = field(default=None, compare=False, repr=False)
    """The two sides compared, for a second look (``diff --manifests`` renders their charts)."""

    @property
    def sections(self) -> tuple[Section, ...]:
        return self.environments + ((self.bootstrap,) if self.bootstrap else ())

    @property
    def changed(self) -> bool:
        return any(section.status != "unchanged" for section in self.sections)

    def summary_rows(self) -> list[SummaryRow]:
        """Identical headline changes grouped across environments, in first-seen order."""
        rows: dict[tuple[str, str | None, str | None, str | None], list[str]] = {}
        for section in self.sections:
            for item in section.summary:
                rows.setdefault((item.kind, item.subject, item.before, item.after), []).append(
                    section.name
                )
        return [SummaryRow(*key, tuple(names)) for key, names in rows.items()]


# --- trees → sections ---------------------------------------------------------------------------


def _split(files: Mapping[str, str]) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """{env: {relative path: text}} and the shared bootstrap files."""
    envs: dict[str, dict[str, str]] = {}
    shared: dict[str, str] = {}
    for path, text in files.items():
        parts = path.split("/", 3)
        if parts[0] == "environments" and len(parts) >= 3:
            envs.setdefault(parts[1], {})["/".join(parts[2:])] = text
        elif parts[:2] == ["bootstrap", "applications"] and len(parts) == 4:
            envs.setdefault(parts[2], {})["applications/" + parts[3]] = text
        else:
            shared[path] = text
    return envs, shared


def _env_order(tree: Tree, envs: Mapping[str, Any]) -> list[str]:
    if tree.spec is not None:
        ordered = [env.name for env in tree.spec.environments]
        return ordered + sorted(set(envs) - set(ordered))
    return sorted(envs)


def _facts(tree: Tree, name: str, files: Mapping[str, str]) -> EnvFacts:
    if tree.spec is not None:
        for env in tree.spec.environments:
            if env.name == name:
                return facts_from_spec(tree.spec, env)
    return facts_from_files(files)


def _side(tree: Tree) -> Side:
    return Side(tree.label, tree.commit, tree.dry_sha)


def _section(
    name: str,
    summary: list[SummaryItem],
    objects: list[ObjectDiff],
    status: str | None = None,
    readme: bool = False,
) -> Section:
    if status is None:
        status = "changed" if summary or objects or readme else "unchanged"
    return Section(name, status, tuple(summary), tuple(objects), readme)


def compare_trees(
    base: Tree, head: Tree, mode: str = "revisions", only: Sequence[str] = ()
) -> Diff:
    """Per environment (in promotion order), what ``head`` changes relative to ``base``.

    With ``only``, just those environments, and no shared bootstrap section.
    """
    base_envs, base_shared = _split(base.files)
    head_envs, head_shared = _split(head.files)
    if base.spec is not None:
        for env in base.spec.environments:
            base_envs.setdefault(env.name, {})
    if head.spec is not None:
        for env in head.spec.environments:
            head_envs.setdefault(env.name, {})
    names = _env_order(head, head_envs)
    names += [n for n in _env_order(base, base_envs) if n not in head_envs]
    unknown = [n for n in only if n not in names]
    if unknown:
        known = ", ".join(names) or "none"
        raise UsageError(
            f"--env: no environment {', '.join(map(repr, unknown))} on either side (known: {known})"
        )
    sections = []
    for name in names:
        if only and name not in only:
            continue
        old, new = base_envs.get(name), head_envs.get(name)
        if old is None or new is None:
            status = "added" if old is None else "removed"
            objects = compare_files(old or {}, new or {})
            sections.append(
                _section(
                    name, [SummaryItem(f"environment-{status}", None, None, None)], objects, status
                )
            )
            continue
        summary = compare_facts(_facts(base, name, old), _facts(head, name, new))
        readme = old.get(README) != new.get(README)
        sections.append(_section(name, summary, compare_files(old, new), readme=readme))
    bootstrap = None
    if not only and (base_shared or head_shared):
        objects = compare_files(base_shared, head_shared)
        summary = [SummaryItem(f"object-{o.status}", o.id, None, None) for o in objects]
        bootstrap = _section(BOOTSTRAP, summary, objects)
    return Diff(mode, _side(base), _side(head), tuple(sections), bootstrap)


def compare_environments(tree: Tree, first: str, second: str) -> Diff:
    """Drift between two environments of one tree: ``first`` is before, ``second`` after.

    Values that only name the environment are expected to differ and are ignored: strings equal to
    the environment's name, its branches or its Applications' names, and the wrapper chart's
    ``description`` (which names the environment).
    """
    envs, _ = _split(tree.files)
    if tree.spec is not None:
        for env in tree.spec.environments:
            envs.setdefault(env.name, {})
    for name in (first, second):
        if name not in envs:
            known = ", ".join(_env_order(tree, envs)) or "none"
            raise UsageError(f"--between: no environment {name!r} at {tree.label} (known: {known})")
    if first == second:
        raise UsageError("--between: name two different environments")
    facts_a, facts_b = _facts(tree, first, envs[first]), _facts(tree, second, envs[second])
    apps = set(facts_a.apps) | set(facts_b.apps)
    objects = compare_files(
        envs[first],
        envs[second],
        _name_normalizer(tree, first, apps),
        _name_normalizer(tree, second, apps),
        ignore={"Chart.yaml": frozenset({"description"})},
    )
    section = _section(second, compare_facts(facts_a, facts_b), objects)
    side = _side(tree)
    where = "the working tree" if tree.commit is None else f"{tree.label} ({tree.commit[:12]})"
    notes = (
        "Values that only name the environment (its name, branches, Application names, "
        "the wrapper chart's description) are not reported.",
    )
    return Diff(
        "between",
        Side(first, side.commit, None),
        Side(second, side.commit, None),
        (section,),
        None,
        (*notes, f"Both environments as rendered from {where}."),
    )


def _name_normalizer(tree: Tree, env: str, apps: Iterable[str]) -> Normalize:
    branch = None
    prefix = tree.spec.project.branch_prefix if tree.spec is not None else None
    if prefix is not None:
        branch = prefix + env
    names = {env: "<env>"}
    if branch:
        names[branch] = "<branch>"
        names[branch + "-next"] = "<branch>-next"
    for app in apps:
        names[application_name(app, env)] = application_name(app, "<env>")
    return lambda value: names.get(value, value)


# --- entry points -------------------------------------------------------------------------------


def diff_repository(
    root: Path,
    revisions: Sequence[str] = (),
    *,
    promotion: str | None = None,
    between: tuple[str, str] | None = None,
    envs: Sequence[str] = (),
    remote: str | None = None,
) -> Diff:
    """``gitops-gen diff``: check the options, obtain the two trees, compare them."""
    from generator.git import revisions as rev

    if len(revisions) > 2:
        raise UsageError("diff takes at most two revisions: BASE and HEAD")
    if promotion is not None and between is not None:
        raise UsageError("--promotion and --between cannot be combined")
    if remote is not None and promotion is None:
        raise UsageError("--remote only applies to --promotion")
    if promotion is not None:
        if revisions:
            raise UsageError("--promotion compares the environment's two branches; drop BASE/HEAD")
        if envs:
            raise UsageError("--env does not apply to --promotion, which names its environment")
        active, proposed = rev.environment_branches(root, promotion, remote)
        return replace(compare_trees(active, proposed, mode="promotion"), trees=(active, proposed))
    if between is not None:
        if len(revisions) > 1:
            raise UsageError(
                "--between compares two environments at one revision; pass at most one"
            )
        if envs:
            raise UsageError("--env does not apply to --between, which names its environments")
        tree = rev.at_revision(root, revisions[0]) if revisions else rev.working_tree(root)
        return replace(compare_environments(tree, *between), trees=(tree, tree))
    for rev_name in revisions:
        rev.resolve(root, rev_name)  # fail on a bad revision before rendering anything
    notes: tuple[str, ...] = ()
    if revisions:
        base = rev.at_revision(root, revisions[0])
    else:
        branch, sha = rev.default_base(root)
        base = rev.at_revision(root, sha, branch)
        notes = (f"The base is the merge-base of HEAD and {branch}.",)
    if len(revisions) == 2:
        head = rev.at_revision(root, revisions[1], reuse=base)
    else:
        head = rev.working_tree(root, reuse=base)
    diff = compare_trees(base, head, only=list(dict.fromkeys(envs)))
    return replace(diff, notes=notes, trees=(base, head))
