"""``diff --manifests``: the Kubernetes objects Argo CD will apply, compared object by object.

Each side's wrapper charts are rendered with real Helm from that side's own tree (the same runner,
chart cache and settings as ``verify``), only for the apps of an environment whose wrapper chart or
Application settings differ. Then ``objects.py`` compares each app's objects: matched by group,
kind, namespace and name and compared as data (list items by name). Fields that vary between two
renders of the same side are masked, and no value of a Secret's ``data`` or ``stringData`` is ever
kept: only which keys were added, removed or changed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import yamlio
from generator.diff.hazards import Hazard, find_hazards
from generator.diff.objects import AppManifests, compare_app
from generator.errors import HelmError, UsageError
from generator.git.revisions import Tree
from generator.helm.cache import ChartCache, ChartRef
from generator.helm.manifests import Identity, Manifest, parse, unstable_paths
from generator.helm.render import Release, Renderer
from generator.helm.runner import Helm


@dataclass(frozen=True, slots=True)
class AppSettings:
    release: Release
    prune: bool
    """The Application's automated sync prunes: what is gone from the chart is deleted."""


@dataclass(slots=True)
class ManifestDiff:
    apps: list[AppManifests]
    hazards: list[Hazard]
    rendered: list[str]
    """``<side>:<env>/<app>`` of every wrapper chart rendered, for the reader and the tests."""
    helm: str

    @property
    def changed(self) -> bool:
        return any(app.changed for app in self.apps)

    def kind_counts(self) -> dict[str, tuple[int, int, int]]:
        counts: dict[str, list[int]] = {}
        for app in self.apps:
            for obj in app.objects:
                index = ("added", "removed", "changed").index(obj.status)
                counts.setdefault(obj.identity.kind, [0, 0, 0])[index] += 1
        return {kind: (c[0], c[1], c[2]) for kind, c in sorted(counts.items())}

    def images(self) -> list[tuple[str, str, str, Any, Any]]:
        """(env/app, object, container path, before, after) for every changed image."""
        return self._leaves(lambda path: path.endswith("].image"))

    def replicas(self) -> list[tuple[str, str, str, Any, Any]]:
        return self._leaves(lambda path: path == "spec.replicas")

    def _leaves(self, match: Callable[[str], bool]) -> list[tuple[str, str, str, Any, Any]]:
        out = []
        for app in self.apps:
            for obj in app.objects:
                for change in obj.changes:
                    if match(change.path):
                        out.append(
                            (
                                f"{app.env}/{app.app}",
                                str(obj.identity),
                                change.path,
                                change.before,
                                change.after,
                            )
                        )
        return out


# --- the two sides -------------------------------------------------------------------------------


def _app_files(tree: Tree, env: str) -> dict[str, dict[str, str]]:
    """{app: {file inside the wrapper chart: text}} for one environment of a tree."""
    prefix = f"environments/{env}/"
    apps: dict[str, dict[str, str]] = {}
    for path, text in tree.files.items():
        if path.startswith(prefix):
            rest = path[len(prefix) :]
            if "/" in rest:
                app, inner = rest.split("/", 1)
                apps.setdefault(app, {})[inner] = text
    return apps


def _settings(trees: Sequence[Tree | None], env: str, app: str) -> AppSettings:
    """The Application's settings: from the first tree that has its rendered Application, else
    the first that has a spec, else Argo CD's defaults."""
    for tree in trees:
        if tree is None:
            continue
        text = tree.files.get(f"bootstrap/applications/{env}/{app}.yaml")
        if text is not None:
            data = yamlio.load(text)
            automated = (data.get("spec", {}).get("syncPolicy") or {}).get("automated") or {}
            return AppSettings(Release.from_application(data), bool(automated.get("prune")))
    for tree in trees:
        if tree is not None and tree.spec is not None:
            for environment in tree.spec.environments:
                if environment.name != env:
                    continue
                for release in environment.apps:
                    if release.name == app:
                        return AppSettings(
                            Release(release.release_name, environment.namespace),
                            environment.sync.prune,
                        )
    return AppSettings(Release(app, env), True)


@dataclass(frozen=True, slots=True)
class _Pair:
    """One app of one environment on each side (between: two environments at one revision)."""

    base_env: str
    head_env: str
    app: str
    before: Mapping[str, str] | None
    after: Mapping[str, str] | None
    b_set: AppSettings
    a_set: AppSettings


@dataclass(frozen=True, slots=True)
class _Job:
    env: str
    app: str
    side: str
    files: Mapping[str, str]
    settings: AppSettings


def _dependencies(files: Mapping[str, str]) -> tuple[ChartRef, ...]:
    chart = yamlio.load(files.get("Chart.yaml", "{}")) or {}
    return tuple(
        ChartRef(str(d["repository"]), str(d["name"]), str(d["version"]))
        for d in chart.get("dependencies") or ()
    )


def _render(
    job: _Job,
    helm: Helm,
    archives: Mapping[ChartRef, Path],
    kube_version: str | None,
    api_versions: Sequence[str],
) -> tuple[list[Manifest], dict[Identity, set[Any]]]:
    with tempfile.TemporaryDirectory(prefix="gitops-gen-diff-") as scratch:
        source = Path(scratch) / "source"
        for name, text in job.files.items():
            path = source / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
        deps = _dependencies(job.files)
        renderer = Renderer(
            source,
            deps,
            job.settings.release,
            helm,
            archives,
            kube_version,
            api_versions,
            Path(scratch),
        )
        try:
            first = parse(renderer.render())
            second = parse(renderer.render())
        except HelmError as e:
            raise UsageError(
                f"diff --manifests: {job.env}/{job.app} on the {job.side} side: helm template "
                f"failed ({', '.join(d.where for d in deps)}): {e}"
            ) from None
    return first, unstable_paths(first, second)


def diff_manifests(
    base: Tree,
    head: Tree,
    envs: Sequence[tuple[str, str]],
    helm: Helm,
    *,
    fallback: Tree | None = None,
    cache: ChartCache | None = None,
    jobs: int = 0,
    kube_version: str | None = None,
    api_versions: Sequence[str] = (),
) -> ManifestDiff:
    """Compare the objects of each ``(base env, head env)`` pair whose wrapper charts differ.

    ``fallback`` supplies Application settings a side lacks (an environment branch holds no
    bootstrap/; the Applications are on the default branch).
    """
    import os

    cache = cache or ChartCache()
    pairs: list[_Pair] = []
    for base_env, head_env in envs:
        before_apps, after_apps = _app_files(base, base_env), _app_files(head, head_env)
        for app in sorted(set(before_apps) | set(after_apps)):
            pair = _Pair(
                base_env,
                head_env,
                app,
                before_apps.get(app),
                after_apps.get(app),
                _settings((base, fallback), base_env, app),
                _settings((head, fallback), head_env, app),
            )
            if base_env == head_env and pair.before == pair.after and pair.b_set == pair.a_set:
                continue  # same wrapper chart, same Application: the same objects
            pairs.append(pair)
    render_jobs: list[_Job] = []
    for pair in pairs:
        if pair.before is not None:
            render_jobs.append(_Job(pair.base_env, pair.app, "base", pair.before, pair.b_set))
        if pair.after is not None:
            render_jobs.append(_Job(pair.head_env, pair.app, "head", pair.after, pair.a_set))
    archives: dict[ChartRef, Path] = {}
    for ref in sorted({d for job in render_jobs for d in _dependencies(job.files)}):
        try:
            archives[ref] = cache.get(ref, helm)
        except HelmError as e:
            raise UsageError(f"diff --manifests: cannot fetch the chart: {e}") from None
    with ThreadPoolExecutor(max_workers=max(1, jobs or os.cpu_count() or 1)) as pool:
        rendered = list(
            pool.map(lambda j: _render(j, helm, archives, kube_version, api_versions), render_jobs)
        )
    by_job = {
        (job.side, job.env, job.app): out for job, out in zip(render_jobs, rendered, strict=True)
    }
    apps: list[AppManifests] = []
    hazards: list[Hazard] = []
    for pair in pairs:
        before = by_job.get(("base", pair.base_env, pair.app), ([], {}))
        after = by_job.get(("head", pair.head_env, pair.app), ([], {}))
        between = pair.base_env != pair.head_env
        normalize = _namespace_normalizer(
            pair.b_set.release.namespace, pair.a_set.release.namespace, between
        )
        label = f"{pair.base_env} → {pair.head_env}" if between else pair.head_env
        result = compare_app(label, pair.app, before, after, normalize)
        if pair.before is None or pair.after is None:
            result.status = "added" if pair.before is None else "removed"
        else:
            result.status = "changed" if result.objects else "unchanged"
        apps.append(result)
        settings = pair.a_set if pair.after is not None else pair.b_set
        hazards.extend(find_hazards(result, before[0], after[0], settings))
    return ManifestDiff(
        apps=apps,
        hazards=hazards,
        rendered=[f"{job.side}:{job.env}/{job.app}" for job in render_jobs],
        helm=helm.version,
    )


def _namespace_normalizer(before: str, after: str, between: bool) -> Callable[[Any, str], Any]:
    """Between two environments, each side's own namespace in ``metadata.namespace`` (and in the
    identity) reads as ``<namespace>``; anywhere else it is data, and a difference is drift."""

    def normalize(value: Any, side: str) -> Any:
        if not between:
            return value
        own = before if side == "base" else after
        if isinstance(value, str):
            return "<namespace>" if value == own else value
        metadata = value.get("metadata") if isinstance(value, dict) else None
        if isinstance(metadata, dict) and metadata.get("namespace") == own:
            return {**value, "metadata": {**metadata, "namespace": "<namespace>"}}
        return value

    return normalize
