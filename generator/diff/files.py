"""Two sets of rendered files compared: each YAML document matched by its Kubernetes identity
(else by its path) and compared as data; any other file as text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from generator import yamlio
from generator.diff.data import Change, Normalize, compare_data, identity
from generator.git.envbranches import METADATA_FILE

# Files that describe a tree rather than deploy anything.
README = "README.md"
IGNORED_FILES = frozenset({README, METADATA_FILE})
DATA_SUFFIXES = (".yaml", ".yml", ".json")
_DOCUMENT_START = re.compile(r"^---[ \t]*(?:#.*)?$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class ObjectDiff:
    """What changed in one Kubernetes object or one file of a wrapper chart."""

    id: str
    """``Application argocd/web-prod`` for Kubernetes objects, the path for chart files."""
    kind: str
    status: str
    """added, removed or changed."""
    changes: tuple[Change, ...]
    note: str | None = None
    """Set when the content could not be compared as data (text files, invalid YAML)."""


@dataclass(frozen=True, slots=True)
class _Object:
    id: str
    kind: str
    data: Any
    note: str | None = None


def _parse_file(path: str, text: str, normalize: Normalize) -> Iterator[tuple[Any, _Object]]:
    """(match key, object) for each document of one file."""
    name = PurePosixPath(path).name
    if not name.endswith(DATA_SUFFIXES):
        yield ("file", path), _Object(path, "file", text)
        return
    documents: list[Any] = []
    try:
        for part in _DOCUMENT_START.split(text) if "\n---" in "\n" + text else [text]:
            data = yamlio.load(part)
            if data is not None:
                documents.append(data)
    except yamlio.YAMLLoadError as e:
        yield (
            ("file", path),
            _Object(path, "file", text, f"not valid YAML ({e.message}); compared as text"),
        )
        return
    for index, data in enumerate(documents):
        identity = _k8sidentity(data)
        if identity is None:
            doc_id = path if len(documents) == 1 else f"{path}#{index + 1}"
            yield ("file", doc_id), _Object(doc_id, PurePosixPath(path).stem, data)
            continue
        api, kind, namespace, obj_name = identity
        key = ("object", api, kind, normalize(namespace), normalize(obj_name))
        shown = "/".join(p for p in (namespace, obj_name) if p)
        yield key, _Object(f"{kind} {shown}".rstrip(), kind, data)


def _k8sidentity(data: Any) -> tuple[str, str, str, str] | None:
    if not isinstance(data, dict):
        return None
    api, kind = data.get("apiVersion"), data.get("kind")
    if not isinstance(api, str) or not isinstance(kind, str):
        return None
    meta = data.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    return api, kind, str(meta.get("namespace") or ""), str(meta.get("name") or "")


def _objects(
    files: Mapping[str, str], paths: Iterable[str], normalize: Normalize
) -> dict[Any, _Object]:
    objects: dict[Any, _Object] = {}
    for path in paths:
        if path in files and PurePosixPath(path).name not in IGNORED_FILES:
            for key, obj in _parse_file(path, files[path], normalize):
                objects[key] = obj
    return objects


def compare_files(
    before: Mapping[str, str],
    after: Mapping[str, str],
    normalize_before: Normalize = identity,
    normalize_after: Normalize = identity,
    ignore: Mapping[str, frozenset[str]] | None = None,
) -> list[ObjectDiff]:
    """Compare two sets of files object by object; files with identical text are never parsed."""
    ignore = ignore or {}
    if normalize_before is identity and normalize_after is identity:
        paths = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    else:
        paths = sorted(set(before) | set(after))
    old = _objects(before, paths, normalize_before)
    new = _objects(after, paths, normalize_after)
    diffs: list[ObjectDiff] = []
    for key in sorted(set(old) | set(new), key=_object_order):
        a, b = old.get(key), new.get(key)
        if a is None or b is None:
            obj = b or a
            assert obj is not None
            status = "added" if a is None else "removed"
            changes: list[Change] = []
            if obj.kind != "file":
                changes = compare_data({}, obj.data) if a is None else compare_data(obj.data, {})
            diffs.append(ObjectDiff(obj.id, obj.kind, status, tuple(changes), obj.note))
        elif a.kind == "file" or b.kind == "file":
            if a.data != b.data:
                note = b.note or a.note or "content changed"
                diffs.append(ObjectDiff(b.id, b.kind, "changed", (), note))
        else:
            skip = ignore.get(PurePosixPath(b.id).name, frozenset())
            changes = compare_data(a.data, b.data, normalize_before, normalize_after, skip)
            if changes:
                diffs.append(ObjectDiff(b.id, b.kind, "changed", tuple(changes)))
    return diffs


def _object_order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """Chart files first (by path), then Kubernetes objects by kind, namespace and name."""
    return (0, key[1]) if key[0] == "file" else (1, key[2], key[3], key[4], key[1])
