"""``diff --manifests``: the values diff and the object diff in one report, hazards first."""

from __future__ import annotations

import json
from pathlib import Path

from generator.diff import manifest_report
from generator.diff.compare import Diff
from generator.diff.manifests import ManifestDiff, diff_manifests
from generator.diff.markdown import DEFAULT_MAX_CHARS
from generator.diff.report import render_report, to_json
from generator.diff.wording import json_safe
from generator.git.revisions import Tree
from generator.helm.runner import Helm


def manifest_diff_for(
    root: Path, diff: Diff, helm: Helm, *, between: tuple[str, str] | None = None
) -> ManifestDiff:
    """Render and compare the objects behind ``diff``'s two sides."""
    assert diff.trees is not None
    base, head = diff.trees
    if between is not None:
        pairs = [between]
    else:
        pairs = [(section.name, section.name) for section in diff.environments]
    fallback = None
    if diff.mode == "promotion":
        # Environment branches hold no bootstrap/: the Applications live on the default branch.
        from generator.errors import SpecError
        from generator.spec.model import load_spec

        try:
            fallback = Tree("working tree", None, {}, load_spec(root))
        except SpecError:
            fallback = None
    return diff_manifests(base, head, pairs, helm, fallback=fallback)


def render_combined(
    diff: Diff, objects: ManifestDiff, fmt: str, max_chars: int | None, color: bool
) -> str:
    if fmt == "json":
        data = to_json(diff)
        data["manifests"] = manifest_report.to_json(objects)
        data["changed"] = diff.changed or objects.changed
        text = json.dumps(
            json_safe(data),
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
            default=str,
            allow_nan=False,
        )
        return text + "\n"
    if fmt == "markdown":
        limit = DEFAULT_MAX_CHARS if max_chars is None else max_chars
        hazards = manifest_report.fit(manifest_report.hazards_markdown(objects), limit // 4)
        values_budget = max(2000, (limit - len(hazards)) * 2 // 5)
        values = render_report(diff, "markdown", values_budget)
        rest = max(0, limit - len(hazards) - len(values) - 1)
        return hazards + values + "\n" + manifest_report.format_markdown(objects, rest)
    return (
        manifest_report.hazards_text(objects)
        + render_report(diff, "text", max_chars, color)
        + "\n"
        + manifest_report.format_text(objects)
    )
