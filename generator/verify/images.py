"""Container images in rendered objects: where each runs, whether its tag moves, its pull policy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from generator.helm.manifests import Manifest

# Where each workload kind keeps its pod spec.
_POD_SPEC = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True, slots=True)
class Container:
    manifest: Manifest
    name: str
    image: str
    pull_policy: str | None
    """As written; None when the object leaves it to Kubernetes."""

    @property
    def tag(self) -> str | None:
        return image_tag(self.image)

    @property
    def mutable(self) -> bool:
        """``latest`` or no tag, and no digest: what a node runs depends on when it pulled."""
        return "@" not in self.image and self.tag in (None, "latest")

    @property
    def effective_pull_policy(self) -> str:
        """Kubernetes' default: Always for ``latest`` or no tag (without a digest), else
        IfNotPresent; an explicit policy wins."""
        if self.pull_policy:
            return self.pull_policy
        return "Always" if self.mutable else "IfNotPresent"


def image_tag(image: str) -> str | None:
    """The tag of an image reference, or None (``busybox``, ``host:5000/x``, ``x@sha256:…``)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def containers(manifest: Manifest) -> Iterator[Container]:
    path = _POD_SPEC.get(manifest.identity.kind)
    if path is None:
        return
    spec: Any = manifest.data
    for step in path:
        spec = spec.get(step) if isinstance(spec, dict) else None
    if not isinstance(spec, dict):
        return
    for field in _CONTAINER_LISTS:
        for item in spec.get(field) or ():
            if isinstance(item, dict) and isinstance(item.get("image"), str):
                policy = item.get("imagePullPolicy")
                yield Container(
                    manifest,
                    str(item.get("name", "")),
                    item["image"],
                    str(policy) if policy else None,
                )
