"""What a reviewer must see first in an object diff: data that can go, and changes Argo CD cannot
apply in place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from generator.diff.objects import AppManifests
from generator.helm.manifests import Identity, Manifest

if TYPE_CHECKING:
    from generator.diff.manifests import AppSettings

# Removing these takes data with them, or they cannot be changed in place: a reviewer must see them.
_REMOVAL_HAZARDS = {
    "PersistentVolumeClaim": "removed: the volume behind the claim, and its data, may go with it",
    "CustomResourceDefinition": "removed: every custom resource of that kind goes with it",
    "Namespace": "removed: everything in the namespace goes with it",
    "PersistentVolume": "removed, with the data on it",
}


@dataclass(frozen=True, slots=True)
class Hazard:
    env: str
    app: str
    identity: Identity
    what: str
    prune: bool

    @property
    def prune_note(self) -> str:
        if self.prune:
            return "the Application prunes: Argo CD deletes what is gone"
        return "the Application does not prune: what is gone stays, out of sync"

    def __str__(self) -> str:
        return f"{self.env}/{self.app}: {self.identity}: {self.what} ({self.prune_note})"


def find_hazards(
    result: AppManifests, before: list[Manifest], after: list[Manifest], settings: AppSettings
) -> list[Hazard]:
    out: list[Hazard] = []

    def add(identity: Identity, what: str) -> None:
        out.append(Hazard(result.env, result.app, identity, what, settings.prune))

    added = {obj.identity for obj in result.objects if obj.status == "added"}
    added_by_name: dict[tuple[str, str], list[Identity]] = {}
    for identity in added:
        added_by_name.setdefault((identity.namespace, identity.name), []).append(identity)
    for obj in result.objects:
        identity = obj.identity
        if obj.status == "removed":
            if identity.kind in _REMOVAL_HAZARDS:
                add(identity, _REMOVAL_HAZARDS[identity.kind])
            for other in sorted(added_by_name.get((identity.namespace, identity.name), [])):
                if other.kind != identity.kind:
                    add(
                        identity,
                        f"becomes a {other.kind} under the same name: Argo CD deletes the "
                        f"{identity.kind} and creates the {other.kind}",
                    )
        elif obj.status == "changed":
            for change in obj.changes:
                if identity.kind == "StatefulSet" and change.path.startswith(
                    ("spec.volumeClaimTemplates", "spec.selector")
                ):
                    add(
                        identity,
                        f"changes {change.path.split('[')[0].split('.')[1]}, which a "
                        "StatefulSet cannot change in place: the sync fails until it is recreated",
                    )
                    break
                if identity.kind in ("Deployment", "DaemonSet", "ReplicaSet", "Job") and (
                    change.path.startswith("spec.selector")
                ):
                    add(
                        identity,
                        "changes spec.selector, which is immutable: Argo CD cannot "
                        "patch it, the sync fails until the object is recreated",
                    )
                    break
    seen: set[tuple[Identity, str]] = set()
    unique = []
    for hazard in out:
        if (hazard.identity, hazard.what) not in seen:
            seen.add((hazard.identity, hazard.what))
            unique.append(hazard)
    return unique
