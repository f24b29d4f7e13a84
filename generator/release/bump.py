"""Set a release's version pins in the spec (and a Chart.yaml), editing only those scalars."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import yamlio
from generator.errors import UsageError
from generator.release.chartyaml import apply_chart_edits, edit_chart_yaml
from generator.release.edits import (
    Edit,
    ProblemCollector,
    apply_edits,
    check_read_back,
    check_version,
    editable_span,
    spans_of,
)
from generator.release.tags import DEFAULT_PREFIX, strip_v
from generator.render.output import Changes
from generator.spec import naming
from generator.spec.files import PROJECT_FILE, SPEC_DIR, read_spec_files
from generator.spec.model import Spec, parse_spec
from generator.yamlspans import Path_, Span

PROJECT_PATH = f"{SPEC_DIR}/{PROJECT_FILE}"


@dataclass(frozen=True, slots=True)
class Override:
    """A pin below the project's apps (defaults, an environment file) that bump leaves alone."""

    file: str
    path: Path_
    line: int
    col: int
    environment: str
    """The environment the pin applies to, or ``defaults`` for every environment."""
    value: str
    mutable: bool
    """A mutable image tag such as ``latest``: the environment follows it on purpose."""

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.col,
            "path": yamlio.format_path(self.path),
            "environment": self.environment,
            "value": self.value,
            "mutable": self.mutable,
        }

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}: {yamlio.format_path(self.path)}"
        if self.mutable:
            return f"{where}: {self.environment} keeps the mutable tag {self.value} (left alone)"
        return (
            f"{where}: {self.environment} stays pinned to {self.value}; the bump does not reach it "
            "(remove the pin to follow the release)"
        )


@dataclass(frozen=True, slots=True)
class BumpResult:
    version: str
    image_tag: str | None
    apps: tuple[str, ...]
    edits: tuple[Edit, ...]
    overrides: tuple[Override, ...]
    written: tuple[str, ...]
    """Files rewritten (empty on a dry run or when every pin was already set)."""
    rendered: Changes | None
    """What render changed in rendered/; None on a dry run."""

    def to_json(self) -> dict[str, Any]:
        rendered = None
        if self.rendered is not None:
            rendered = {
                "created": self.rendered.created,
                "updated": self.rendered.updated,
                "removed": self.rendered.removed,
                "changed": bool(self.rendered),
            }
        return {
            "version": self.version,
            "imageTag": self.image_tag,
            "apps": list(self.apps),
            "changed": bool(self.edits),
            "changes": [e.to_json() for e in self.edits],
            "overrides": [o.to_json() for o in self.overrides],
            "written": list(self.written),
            "rendered": rendered,
        }


def bump_repository(
    root: Path,
    version: str,
    apps: Sequence[str] = (),
    image_tag: str | None = None,
    chart_yaml: Path | None = None,
    allow_downgrade: bool = False,
    dry_run: bool = False,
) -> BumpResult:
    """Set the pins, validate the result, write the changed files, then render.

    Nothing is written when any input is wrong: every edit is made and checked in memory first.
    ``chart_yaml`` is relative to ``root`` unless absolute.
    """
    version = strip_v(version.strip())
    if problem := naming.semver_problem(version):
        raise UsageError(f"VERSION: {problem}")
    explicit_tag = image_tag is not None
    tag = image_tag if image_tag is not None else DEFAULT_PREFIX + version
    if problem := naming.oci_tag_problem(tag):
        hint = "" if explicit_tag else "; pass --image-tag with a valid tag"
        raise UsageError(f"{'--image-tag' if explicit_tag else 'image tag'}: {problem}{hint}")

    files = read_spec_files(root)
    spec = parse_spec(files)  # the current spec must be valid before it is edited
    project_text = files[PROJECT_PATH]
    project_data = yamlio.load(project_text)
    selected = _select_apps(project_data, apps)

    out = ProblemCollector()
    spans = spans_of(PROJECT_PATH, project_text)
    edits: list[Edit] = []
    tagged = False
    for app in selected:
        path: Path_ = ("apps", app, "chart", "version")
        span = editable_span(out, PROJECT_PATH, spans, path)
        if span is not None:
            check_version(out, PROJECT_PATH, span, path, version, allow_downgrade)
            edits.append(Edit(PROJECT_PATH, path, span.line, span.col, span.value, version, span))
        tag_path: Path_ = ("apps", app, "image", "tag")
        tag_span = editable_span(out, PROJECT_PATH, spans, tag_path)
        if tag_span is not None:
            tagged = True
            edits.append(
                Edit(
                    PROJECT_PATH,
                    tag_path,
                    tag_span.line,
                    tag_span.col,
                    tag_span.value,
                    tag,
                    tag_span,
                )
            )
        elif tag_path not in spans and explicit_tag:
            line, col = yamlio.locate(yamlio.load_located(project_text), ("apps", app))
            out.add(
                PROJECT_PATH,
                Span(0, 0, line, col, None, ""),
                ("apps", app),
                f"app {app!r} pins no image tag here; add image: {{tag: ...}} under apps.{app} "
                "first or leave out --image-tag",
            )

    chart_file: tuple[Path, str] | None = None
    chart_text: str | None = None
    chart_edits: list[Edit] = []
    if chart_yaml is not None:
        chart_file, chart_text, chart_edits = edit_chart_yaml(
            out, root, chart_yaml, version, allow_downgrade
        )
    out.raise_if_any()

    edits = [e for e in edits if e.old != e.new]
    new_project = apply_edits(project_text, edits)
    check_read_back(PROJECT_PATH, new_project, edits)
    new_spec = _validate_spec(files, new_project)
    overrides = _overrides(spec, files, selected, version, tag if tagged else None)

    all_edits = tuple(edits) + tuple(chart_edits)
    writes: dict[str, tuple[Path, str]] = {}
    if chart_file is not None and chart_text is not None and chart_edits:
        new_chart = apply_chart_edits(chart_text, chart_edits)
        check_read_back(chart_file[1], new_chart, chart_edits)
        writes[chart_file[1]] = (chart_file[0], new_chart)
    if edits:
        writes[PROJECT_PATH] = (root / PROJECT_PATH, new_project)
    written = tuple(writes)
    result_apps = tuple(selected)
    if dry_run:
        return BumpResult(
            version, tag if tagged else None, result_apps, all_edits, overrides, (), None
        )

    from generator.render.plan import render
    from generator.render.repository import render_repository
    from generator.render.templating import repository_overrides

    render(new_spec, repository_overrides(root))  # a template error stops us before any write
    for target, text in writes.values():
        _write_atomically(target, text)
    _rendered, changes = render_repository(root)
    return BumpResult(
        version, tag if tagged else None, result_apps, all_edits, overrides, written, changes
    )


def _select_apps(project: Mapping[str, Any], apps: Sequence[str]) -> list[str]:
    known = list(project["apps"])
    if not apps:
        if len(known) == 1:
            return known
        raise UsageError(
            f"{PROJECT_PATH} defines {len(known)} apps; name the ones to bump with --app "
            f"(one of: {', '.join(known)})"
        )
    unknown = [a for a in apps if a not in known]
    if unknown:
        raise UsageError(
            f"--app: {', '.join(map(repr, unknown))} not defined in {PROJECT_PATH} "
            f"(apps: {', '.join(known)})"
        )
    return list(dict.fromkeys(apps))


def _validate_spec(files: Mapping[str, str], new_project: str) -> Spec:
    return parse_spec({**files, PROJECT_PATH: new_project})


def _overrides(
    spec: Spec,
    files: Mapping[str, str],
    apps: Sequence[str],
    version: str,
    tag: str | None,
) -> tuple[Override, ...]:
    """Pins that shadow the project's: in ``defaults.apps`` and in each environment's file."""
    layers: list[tuple[str, str, Path_]] = [(PROJECT_PATH, "defaults", ("defaults",))]
    layers += [(env.file, env.name, ()) for env in spec.environments]
    found: list[Override] = []
    for file, environment, base in layers:
        spans = spans_of(file, files[file])
        for app in apps:
            for leaf, new in ((("chart", "version"), version), (("image", "tag"), tag)):
                path = (*base, "apps", app, *leaf)
                span = spans.get(path)
                if span is None or span.style == "*":
                    continue
                mutable = leaf[0] == "image" and not naming.is_immutable_tag(span.value)
                if span.value == new and not mutable:
                    continue
                found.append(
                    Override(file, path, span.line, span.col, environment, span.value, mutable)
                )
    return tuple(found)


def _write_atomically(target: Path, text: str) -> None:
    """Replace ``target`` in one step, keeping its mode; the bytes are exactly ``text`` in UTF-8."""
    mode = target.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=".gitops-gen-tmp-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
