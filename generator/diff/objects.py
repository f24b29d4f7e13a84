"""One app's rendered objects on two sides compared: matched by identity, the fields the chart
generates anew on every render masked, and no Secret value ever kept."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from generator import yamlio
from generator.diff.data import MISSING, Change, compare_data
from generator.helm.manifests import MASK, Identity, Manifest, masked

SECRET_VALUE = "(secret value hidden)"


@dataclass(frozen=True, slots=True)
class ObjectChange:
    identity: Identity
    status: str
    """added, removed or changed."""
    changes: tuple[Change, ...] = ()
    """For a changed object, every changed leaf (Secret values hidden). Empty for added/removed."""
    fields: int = 0
    """For an added or removed object, how many leaves it has."""


@dataclass(slots=True)
class AppManifests:
    env: str
    app: str
    status: str
    """added, removed, changed or unchanged (the whole app, from its wrapper chart)."""
    before: int = 0
    after: int = 0
    objects: list[ObjectChange] = field(default_factory=list)
    varies: list[str] = field(default_factory=list)
    """Masked fields: ``Kind/name: path`` that the chart generates anew on every render."""

    @property
    def changed(self) -> bool:
        return bool(self.objects)


def compare_app(
    label: str,
    app: str,
    before: tuple[list[Manifest], dict[Identity, set[Any]]],
    after: tuple[list[Manifest], dict[Identity, set[Any]]],
    normalize: Callable[[Any, str], Any] = lambda value, side: value,
) -> AppManifests:
    """One app's objects on each side (with the fields that vary per side) compared."""
    old = dict(_prepared(m, before[1], normalize, "base") for m in before[0])
    new = dict(_prepared(m, after[1], normalize, "head") for m in after[0])
    result = AppManifests(label, app, "changed", len(old), len(new))
    varies = {
        f"{m.identity}: {yamlio.format_path(list(path))}"
        for manifests, varying in (before, after)
        for m in manifests
        for path in varying.get(m.identity, set())
    }
    result.varies = sorted(varies)
    for identity in sorted(old.keys() | new.keys()):
        if identity not in new:
            result.objects.append(ObjectChange(identity, "removed", fields=_count(old[identity])))
        elif identity not in old:
            result.objects.append(ObjectChange(identity, "added", fields=_count(new[identity])))
        else:
            changes = compare_data(old[identity], new[identity])
            if identity.kind == "Secret" and identity.group == "":
                changes = [_secret_change(c) for c in changes]
            if changes:
                result.objects.append(ObjectChange(identity, "changed", tuple(changes)))
    return result


def _prepared(
    manifest: Manifest,
    varying: Mapping[Identity, set[Any]],
    normalize: Callable[[Any, str], Any],
    side: str,
) -> tuple[Identity, Any]:
    data = masked(manifest, varying.get(manifest.identity, set()))
    if manifest.identity.kind == "Secret" and manifest.identity.group == "":
        data = _hide_secret(data)
    data = normalize(data, side)
    identity = manifest.identity
    if normalize(identity.namespace, side) != identity.namespace:
        identity = Identity(identity.group, identity.kind, "<namespace>", identity.name)
    return identity, data


def _hide_secret(data: dict[str, Any]) -> dict[str, Any]:
    """Secret values become a digest of the value (decoded for ``data``), merged under ``data``:
    a change is seen without the value, and the digest is never printed."""
    out = {k: v for k, v in data.items() if k not in ("data", "stringData")}
    merged: dict[str, str] = {}
    for key, value in (data.get("data") or {}).items():
        try:
            raw = base64.b64decode(str(value), validate=True)
        except ValueError:
            raw = str(value).encode()
        merged[str(key)] = _digest(raw)
    for key, value in (data.get("stringData") or {}).items():
        merged[str(key)] = MASK if value == MASK else _digest(str(value).encode())
    if merged:
        out["data"] = merged
    return out


def _digest(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _secret_change(change: Change) -> Change:
    if not change.path.startswith("data"):
        return change
    before = MISSING if change.before is MISSING else SECRET_VALUE
    after = MISSING if change.after is MISSING else SECRET_VALUE
    return Change(change.path, before, after)


def _count(data: Any) -> int:
    if isinstance(data, dict):
        return sum(_count(v) for v in data.values()) or 1
    if isinstance(data, list):
        return sum(_count(v) for v in data) or 1
    return 1
