"""What verify reports: findings per app of an environment, and the whole run's result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from generator.helm.cache import ChartRef
from generator.helm.manifests import Identity, Manifest

if TYPE_CHECKING:
    from generator.verify.run import Target


@dataclass(frozen=True, slots=True)
class Finding:
    severity: str
    """``error`` or ``warning``."""
    code: str
    """Stable: helm-failed, no-effect, mutable-image, pull-policy, other-namespace,
    cluster-scoped, invalid-object."""
    env: str
    app: str
    message: str
    object: Identity | None = None
    path: str = ""
    """A values path (no-effect) or a field inside the object (invalid-object)."""
    container: str = ""
    image: str = ""
    source: str = ""
    """Where the spec sets it (``environments/demo.yaml:9:9``), for no-effect values."""

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source or None,
            "severity": self.severity,
            "code": self.code,
            "environment": self.env,
            "app": self.app,
            "object": self.object.to_json() if self.object else None,
            "path": self.path or None,
            "container": self.container or None,
            "image": self.image or None,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = [self.source] if self.source else []
        where.append(f"{self.env}/{self.app}")
        if self.object:
            where.append(str(self.object))
        if self.container:
            where.append(f"container {self.container}")
        if self.path:
            where.append(self.path)
        return f"{self.severity}: {': '.join(where)}: {self.message}"


@dataclass(slots=True)
class TargetResult:
    target: Target
    objects: int = 0
    custom_kinds: list[str] = field(default_factory=list)
    """Kinds the Kubernetes schemas don't know (custom resources), ``group/version Kind``."""
    varying: list[str] = field(default_factory=list)
    """Fields that differ between two renders of the same input, ``Kind/name: path``."""
    findings: list[Finding] = field(default_factory=list)
    manifests: list[Manifest] = field(default_factory=list)


@dataclass(slots=True)
class VerifyResult:
    helm: str
    kube_version: str | None
    schemas: bool
    results: list[TargetResult]
    fetched: list[ChartRef]
    refetched: list[ChartRef]

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def to_json(self) -> dict[str, Any]:
        return {
            "helm": self.helm,
            "kubeVersion": self.kube_version,
            "schemasChecked": self.schemas,
            "fetched": [ref.where for ref in self.fetched],
            "refetched": [ref.where for ref in self.refetched],
            "targets": [
                {
                    "environment": r.target.env,
                    "app": r.target.app,
                    "release": r.target.release.name,
                    "namespace": r.target.release.namespace,
                    "charts": [ref.where for ref in r.target.dependencies],
                    "objects": r.objects,
                    "customKinds": r.custom_kinds,
                    "varies": r.varying,
                    "findings": [f.to_json() for f in r.findings],
                }
                for r in self.results
            ],
            "summary": {"errors": self.count("error"), "warnings": self.count("warning")},
        }
