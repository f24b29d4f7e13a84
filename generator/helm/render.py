"""A wrapper chart rendered as Argo CD's repo server renders it: in a scratch copy, with the
dependency archives from the chart cache and the Application's release settings."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import yamlemit
from generator.helm.cache import ChartRef
from generator.helm.runner import Helm


@dataclass(frozen=True, slots=True)
class Release:
    """What an Application passes to Helm for one wrapper chart."""

    name: str
    """``spec.source.helm.releaseName``, else the Application's name."""
    namespace: str
    """The destination namespace (``--namespace``)."""
    value_files: tuple[str, ...] = ()
    skip_crds: bool = False

    @classmethod
    def from_application(cls, application: Mapping[str, Any]) -> Release:
        """What a rendered Argo CD Application passes to Helm, with Argo CD's defaults where it
        sets nothing (the Application's name, the ``default`` namespace)."""
        spec = application.get("spec", {})
        helm = (spec.get("source") or {}).get("helm") or {}
        return cls(
            name=str(helm.get("releaseName") or application["metadata"]["name"]),
            namespace=str((spec.get("destination") or {}).get("namespace") or "default"),
            value_files=tuple(str(v) for v in helm.get("valueFiles") or ()),
            skip_crds=bool(helm.get("skipCrds")),
        )


class Renderer:
    """One wrapper chart in a scratch folder, rendered with its Application's settings."""

    def __init__(
        self,
        chart_dir: Path,
        dependencies: Sequence[ChartRef],
        release: Release,
        helm: Helm,
        archives: Mapping[ChartRef, Path],
        kube_version: str | None,
        api_versions: Sequence[str],
        scratch: Path,
    ) -> None:
        self.helm = helm
        self.chart = scratch / "chart"
        shutil.copytree(chart_dir, self.chart)
        charts = self.chart / "charts"
        charts.mkdir(exist_ok=True)
        for ref in dependencies:
            shutil.copyfile(archives[ref], charts / ref.archive_name)
        self.args = ["template", release.name, str(self.chart), "--namespace", release.namespace]
        if not release.skip_crds:
            self.args.append("--include-crds")
        if kube_version:
            self.args += ["--kube-version", f"v{kube_version}.0"]
        for api_version in api_versions:
            self.args += ["--api-versions", api_version]
        for value_file in release.value_files:
            self.args += ["--values", str(self.chart / value_file)]
        self.values_file = self.chart / "values.yaml"
        self.values_text = self.values_file.read_text("utf-8")

    def render(self, values: Any = None) -> str:
        """Helm's output; with ``values``, for those values instead of the chart's values.yaml."""
        if values is None:
            self.values_file.write_text(self.values_text, "utf-8")
        else:
            self.values_file.write_text(yamlemit.dump_document(values), "utf-8")
        return self.helm.run(*self.args)
