"""The checks verify runs on one app's rendered objects: object validity and placement, container
images and pull policies, and values the chart does not read."""

from __future__ import annotations

import copy
import difflib
import tarfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import yamlemit, yamlio
from generator.errors import HelmError
from generator.helm.cache import ChartRef
from generator.helm.manifests import CLUSTER_SCOPED, Identity, Manifest, masked, parse
from generator.helm.render import Renderer
from generator.verify.findings import Finding, TargetResult
from generator.verify.images import containers

if TYPE_CHECKING:
    from generator.verify.run import Target


# --- checks ------------------------------------------------------------------------------------


def check_objects(result: TargetResult, manifests: list[Manifest], validator: Any) -> None:
    target = result.target
    cluster_kinds = set(CLUSTER_SCOPED)
    for m in manifests:
        if m.identity.kind == "CustomResourceDefinition":
            spec = m.data.get("spec") or {}
            if spec.get("scope") == "Cluster" and spec.get("names", {}).get("kind"):
                cluster_kinds.add(str(spec["names"]["kind"]))
    custom: set[str] = set()
    for m in manifests:
        identity = m.identity
        if identity.kind in cluster_kinds:
            result.findings.append(
                Finding(
                    "warning",
                    "cluster-scoped",
                    target.env,
                    target.app,
                    "is cluster-scoped: it is shared by every environment on the cluster",
                    object=identity,
                )
            )
        elif identity.namespace and identity.namespace != target.release.namespace:
            result.findings.append(
                Finding(
                    "warning",
                    "other-namespace",
                    target.env,
                    target.app,
                    f"lands in namespace {identity.namespace}, outside the Application's "
                    f"destination {target.release.namespace}",
                    object=identity,
                )
            )
        if validator is None:
            continue
        violations = validator.violations(m.data)
        if violations is None:
            custom.add(f"{m.api_version} {identity.kind}")
            continue
        for v in violations:
            result.findings.append(
                Finding(
                    "error",
                    "invalid-object",
                    target.env,
                    target.app,
                    f"invalid for Kubernetes {validator.version}: {v.message}",
                    object=identity,
                    path=v.path,
                )
            )
    result.custom_kinds = sorted(custom)


def check_images(result: TargetResult, manifests: list[Manifest]) -> None:
    target = result.target
    for m in manifests:
        for c in containers(m):
            if not c.mutable:
                continue
            if target.pinned:
                result.findings.append(
                    Finding(
                        "warning",
                        "mutable-image",
                        target.env,
                        target.app,
                        f"runs {c.image}, a mutable tag, although this environment pins "
                        f"{target.image_tag}",
                        object=m.identity,
                        container=c.name,
                        image=c.image,
                    )
                )
            if c.effective_pull_policy != "Always":
                result.findings.append(
                    Finding(
                        "warning",
                        "pull-policy",
                        target.env,
                        target.app,
                        f"runs the mutable {c.image} with imagePullPolicy "
                        f"{c.effective_pull_policy}: a node keeps whatever it pulled first",
                        object=m.identity,
                        container=c.name,
                        image=c.image,
                    )
                )


def check_ignored_values(
    result: TargetResult,
    renderer: Renderer,
    baseline: list[Manifest],
    varying: dict[Identity, set[Any]],
    archives: dict[ChartRef, Path],
    spec_files: SpecDocuments,
) -> None:
    """Values we set that the chart's values.yaml lacks and whose removal changes nothing."""
    target = result.target
    ours = yamlio.load(renderer.values_text)
    if not isinstance(ours, dict):
        return
    defaults: dict[str, Any] = {}
    chart_globals: dict[str, Any] = {}
    for ref in target.dependencies:
        chart_values = _chart_values(archives[ref], ref.name)
        defaults[ref.name] = chart_values
        if isinstance(chart_values.get("global"), dict):
            chart_globals.update(chart_values["global"])
    candidates: list[tuple[str | int, ...]] = []
    for key, value in ours.items():
        if key == "global":
            _unknown_paths(value, chart_globals, ("global",), candidates)
        elif key in defaults:
            _unknown_paths(value, defaults[key], (key,), candidates)
    if not candidates:
        return
    expected = _comparable(baseline, varying)

    def unchanged_without(paths: Sequence[tuple[str | int, ...]]) -> bool:
        values = _without(ours, paths)
        try:
            return bool(_comparable(parse(renderer.render(values)), varying) == expected)
        except HelmError:
            return False

    if unchanged_without(candidates):
        no_effect = candidates
    else:
        no_effect = [path for path in candidates if unchanged_without([path])]
    renderer.render()  # put the wrapper's own values back for anything that follows
    for path in no_effect:
        is_global = path[0] == "global"
        parent = _at({"global": chart_globals} if is_global else defaults, path[:-1])
        siblings = [str(k) for k in parent] if isinstance(parent, dict) else []
        close = difflib.get_close_matches(str(path[-1]), siblings, n=1, cutoff=0.6)
        shown = list(path if is_global else path[1:])
        hint = f"; did you mean {yamlio.format_path([*shown[:-1], close[0]])}?" if close else ""
        chart = ", ".join(f"{r.name} {r.version}" for r in target.dependencies)
        result.findings.append(
            Finding(
                "error",
                "no-effect",
                target.env,
                target.app,
                f"has no effect: {chart} has no such value, and removing it leaves every "
                f"object unchanged{hint}",
                path=yamlio.format_path(shown),
                source=spec_location(target, shown, spec_files),
            )
        )


class SpecDocuments:
    """The spec files of one verify run, each parsed with positions at most once (when a finding
    first needs it); the targets' threads share them."""

    def __init__(self) -> None:
        self._documents: dict[Path, Any] = {}
        self._lock = threading.Lock()

    def located(self, file: Path) -> Any:
        """``file`` as a round-trip document, or None when it cannot be read or parsed."""
        with self._lock:
            if file not in self._documents:
                try:
                    self._documents[file] = yamlio.load_located(file.read_text("utf-8"))
                except (OSError, yamlio.YAMLLoadError):
                    self._documents[file] = None
            return self._documents[file]


def spec_location(target: Target, path: Sequence[str | int], spec_files: SpecDocuments) -> str:
    """The spec line that sets an app's value: the environment file, else the project file's
    defaults, else the app's base values (the order in which they override each other)."""
    root = target.root
    spec_dir = root / "environments"
    candidates = (
        (spec_dir / f"{target.env}.yaml", ("apps", target.app, "values", *path)),
        (spec_dir / "_project.yaml", ("defaults", "apps", target.app, "values", *path)),
        (spec_dir / "_project.yaml", ("apps", target.app, "values", *path)),
    )
    for file, full in candidates:
        doc = spec_files.located(file)
        if doc is None:
            continue
        if _at(doc, full[:-1]) is None or full[-1] not in (_at(doc, full[:-1]) or {}):
            continue
        line, col = yamlio.locate(doc, full, at_key=True)
        return f"{file.relative_to(root).as_posix()}:{line}:{col}"
    return ""


def _chart_values(archive: Path, name: str) -> dict[str, Any]:
    with tarfile.open(archive, "r:gz") as tar:
        try:
            member = tar.extractfile(f"{name}/values.yaml")
        except KeyError:
            return {}
        if member is None:
            return {}
        data = yamlio.load(member.read().decode("utf-8"))
    return data if isinstance(data, dict) else {}


def _unknown_paths(
    ours: Any, theirs: Any, prefix: tuple[str | int, ...], out: list[tuple[str | int, ...]]
) -> None:
    """Paths in ``ours`` that ``theirs`` (the chart's defaults) does not have.

    Under a map the chart leaves empty (``annotations: {}``) every key is free-form; under a value
    that is not a map in the chart, nothing can be judged. Both are skipped.
    """
    if not isinstance(ours, dict) or not isinstance(theirs, dict) or not theirs:
        return
    for key, value in ours.items():
        if key not in theirs:
            out.append((*prefix, key))
        else:
            _unknown_paths(value, theirs[key], (*prefix, key), out)


def _without(values: dict[str, Any], paths: Sequence[tuple[str | int, ...]]) -> dict[str, Any]:
    out = copy.deepcopy(values)
    for path in paths:
        node: Any = out
        for step in path[:-1]:
            node = node.get(step) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return out


def _at(data: Any, path: Sequence[str | int]) -> Any:
    for step in path:
        data = data.get(step) if isinstance(data, dict) else None
    return data


def _comparable(manifests: list[Manifest], varying: dict[Identity, set[Any]]) -> Any:
    return sorted(
        (str(m.identity), yamlemit.dump_document(masked(m, varying.get(m.identity, set()))))
        for m in manifests
    )
