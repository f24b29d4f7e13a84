"""Rendered objects against the Kubernetes OpenAPI schemas of one Kubernetes version, strictly.

The schemas come from the ``kubernetes-validate`` package (installed with ``gitops-gen[verify]``),
which bundles them per minor version, offline. Its own ``validate`` reloads a 1.4 MB definitions
file for every object; here each version's definitions are read once and each kind's validator is
built once, so a hundred objects cost a hundred validations and nothing more.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from generator.errors import UsageError

_EXTRA = "pip install 'gitops-gen[verify]'"
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?$")


@dataclass(frozen=True, slots=True)
class Violation:
    path: str
    """Where in the object, dotted (``spec.replicas``); empty for the object itself."""
    message: str


def _package() -> Any:
    try:
        return resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")
    except ImportError:
        raise UsageError(
            "checking objects against the Kubernetes schemas needs the kubernetes-validate "
            f"package: {_EXTRA} (or pass --skip-schemas)"
        ) from None


@lru_cache(maxsize=1)
def bundled_versions() -> tuple[str, ...]:
    """The Kubernetes minor versions whose schemas are bundled, oldest first (``1.33``)."""
    found = set()
    for entry in _package().iterdir():
        match = re.match(r"^v(\d+)\.(\d+)\.\d+-local-strict$", entry.name)
        if match:
            found.add((int(match.group(1)), int(match.group(2))))
    return tuple(f"{a}.{b}" for a, b in sorted(found))


def resolve_version(wanted: str | None) -> str:
    """``--kube-version``: the newest bundled one by default; a version must be bundled."""
    versions = bundled_versions()
    if not versions:
        raise UsageError(f"kubernetes-validate bundles no schemas; reinstall it: {_EXTRA}")
    if wanted is None:
        return versions[-1]
    match = _VERSION.match(wanted)
    if match is None:
        raise UsageError(f"--kube-version {wanted!r} is not a Kubernetes version such as 1.33")
    minor = f"{match.group(1)}.{match.group(2)}"
    if minor not in versions:
        raise UsageError(
            f"--kube-version {wanted}: no schemas bundled for {minor}; "
            f"choose one of {versions[0]} … {versions[-1]}"
        )
    return minor


class Validator:
    """Strict validation for one Kubernetes version; thread-safe, validators built on demand."""

    def __init__(self, version: str) -> None:
        self.version = version
        self._dir = _package().joinpath(f"v{version}.0-local-strict")
        self._lock = threading.Lock()
        self._validators: dict[tuple[str, str], Any] = {}
        self._registry: Any = None

    def _validator(self, kind: str, api_version: str) -> Any:
        key = (kind, api_version)
        with self._lock:
            if key in self._validators:
                return self._validators[key]
            # rbac.authorization.k8s.io/v1 → rbac-v1; v1 → v1 (as kubernetes-validate names them)
            suffix = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
            schema_file = self._dir.joinpath(f"{kind.lower()}-{suffix}.json")
            if not schema_file.is_file():
                self._validators[key] = None
                return None
            import jsonschema
            from referencing import Registry, Resource

            if self._registry is None:
                definitions = json.loads(self._dir.joinpath("_definitions.json").read_text())
                self._registry = Resource.from_contents(definitions) @ Registry()
            schema = json.loads(schema_file.read_text())
            registry = Resource.from_contents(schema) @ self._registry
            validator = jsonschema.Draft202012Validator(schema, registry=registry)
            self._validators[key] = validator
            return validator

    def knows(self, kind: str, api_version: str) -> bool:
        return self._validator(kind, api_version) is not None

    def violations(self, data: dict[str, Any]) -> list[Violation] | None:
        """Every violation of the object's schema; None when the kind is not a built-in one."""
        validator = self._validator(str(data.get("kind")), str(data.get("apiVersion")))
        if validator is None:
            return None
        found = []
        for error in validator.iter_errors(data):
            path = ".".join(
                f"[{step}]" if isinstance(step, int) else str(step) for step in error.absolute_path
            ).replace(".[", "[")
            found.append(Violation(path, _short(error.message)))
        return sorted(found, key=lambda v: (v.path, v.message))


def _short(message: str) -> str:
    """jsonschema quotes whole sub-documents in some messages; keep one line of reasonable size."""
    message = " ".join(message.split())
    return message if len(message) <= 200 else message[:197] + "..."
