"""The headline facts of an environment (apps, chart versions, image tags, gates) and how they
changed: the summary a diff reports before its details."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator import yamlio
from generator.spec.model import Environment, Spec


@dataclass(frozen=True, slots=True)
class SummaryItem:
    """One headline change: a version, a tag, an app or environment added, gates, ..."""

    kind: str
    subject: str | None
    """The app (or, for the bootstrap, the object) it concerns; None for the environment itself."""
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class AppFacts:
    chart: str | None
    version: str | None
    image_tag: str | None
    pull_policy: str | None


@dataclass(frozen=True, slots=True)
class EnvFacts:
    """What the summary reports; None where a side cannot know it (e.g. gates on a branch)."""

    apps: Mapping[str, AppFacts]
    namespace: str | None = None
    cluster: str | None = None
    auto_merge: bool | None = None
    active_gates: tuple[str, ...] | None = None
    proposed_gates: tuple[str, ...] | None = None


def facts_from_spec(spec: Spec, env: Environment) -> EnvFacts:
    project = spec.project
    return EnvFacts(
        apps={
            app.name: AppFacts(
                f"{app.chart.repository}/{app.chart.name}",
                app.chart.version,
                app.image_tag,
                app.pull_policy,
            )
            for app in env.apps
        },
        namespace=env.namespace,
        cluster=env.server or env.cluster_name,
        auto_merge=env.auto_merge,
        active_gates=tuple(dict.fromkeys(project.active_gates + env.active_gates)),
        proposed_gates=tuple(dict.fromkeys(project.proposed_gates + env.proposed_gates)),
    )


_README_ROW = re.compile(r"^\|(.*)\|\s*$", re.MULTILINE)


def facts_from_files(files: Mapping[str, str]) -> EnvFacts:
    """From an environment's rendered subtree: each app's Chart.yaml (dependency and appVersion),
    and the pull policy column of README.md's table when there is one."""
    policies = _readme_policies(files.get("README.md", ""))
    apps: dict[str, AppFacts] = {}
    for path, text in files.items():
        parts = path.split("/")
        if len(parts) != 2 or parts[1] != "Chart.yaml":
            continue
        try:
            chart = yamlio.load(text)
        except yamlio.YAMLLoadError:
            chart = None
        chart = chart if isinstance(chart, dict) else {}
        deps = chart.get("dependencies")
        dep = deps[0] if isinstance(deps, list) and deps and isinstance(deps[0], dict) else {}
        ref = f"{dep.get('repository', '')}/{dep.get('name', '')}" if dep else None
        version, tag = dep.get("version"), chart.get("appVersion")
        apps[parts[0]] = AppFacts(
            ref,
            None if version is None else str(version),
            None if tag is None else str(tag),
            policies.get(parts[0]),
        )
    return EnvFacts(apps=dict(sorted(apps.items())))


def _readme_policies(text: str) -> dict[str, str]:
    rows = [
        [cell.strip().strip("`") for cell in row.split("|")] for row in _README_ROW.findall(text)
    ]
    if not rows or "pull policy" not in rows[0] or "app" not in rows[0]:
        return {}
    app, policy = rows[0].index("app"), rows[0].index("pull policy")
    return {
        row[app]: row[policy]
        for row in rows[2:]
        if len(row) == len(rows[0]) and row[policy] not in ("", "-")
    }


def _show(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ", ".join(value) or "none"
    return str(value)


def compare_facts(before: EnvFacts, after: EnvFacts) -> list[SummaryItem]:
    items: list[SummaryItem] = []
    for kind, attr in (
        ("namespace", "namespace"),
        ("cluster", "cluster"),
        ("auto-merge", "auto_merge"),
        ("active-gates", "active_gates"),
        ("proposed-gates", "proposed_gates"),
    ):
        old, new = getattr(before, attr), getattr(after, attr)
        if old is not None and new is not None and old != new:
            items.append(SummaryItem(kind, None, _show(old), _show(new)))
    for app in [*before.apps, *(a for a in after.apps if a not in before.apps)]:
        old_app, new_app = before.apps.get(app), after.apps.get(app)
        if old_app is None or new_app is None:
            shown = _describe(new_app or old_app)
            items.append(
                SummaryItem(
                    "app-added" if old_app is None else "app-removed",
                    app,
                    None if old_app is None else shown,
                    shown if old_app is None else None,
                )
            )
            continue
        for kind, attr in (
            ("chart", "chart"),
            ("chart-version", "version"),
            ("image-tag", "image_tag"),
            ("pull-policy", "pull_policy"),
        ):
            old, new = getattr(old_app, attr), getattr(new_app, attr)
            if old != new:
                items.append(SummaryItem(kind, app, old, new))
    return items


def _describe(app: AppFacts | None) -> str:
    assert app is not None
    parts = [
        f"chart {app.version}" if app.version else None,
        f"image {app.image_tag}" if app.image_tag else None,
    ]
    return ", ".join(p for p in parts if p) or "-"
