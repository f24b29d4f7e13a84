"""Set a release's version pins in the spec (and a Chart.yaml), editing only those scalars."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator import yamlio
from generator.errors import Problem, UsageError
from generator.release.tags import DEFAULT_PREFIX, strip_v
from generator.render.output import Changes
from generator.spec import naming
from generator.spec.files import PROJECT_FILE, SPEC_DIR, read_spec_files
from generator.spec.model import Spec, parse_spec
from generator.yamlspans import Path_, Span, position, scalar_spans

PROJECT_PATH = f"{SPEC_DIR}/{PROJECT_FILE}"


# --- edits ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Edit:
    """One scalar that bump changes."""

    file: str
    path: Path_
    line: int
    col: int
    old: str
    new: str
    span: Span = field(repr=False, compare=False)
    quote: bool = field(default=False, repr=False, compare=False)
    """Write the new value quoted even where the old one was plain (a Chart.yaml's appVersion)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.col,
            "path": yamlio.format_path(self.path),
            "old": self.old,
            "new": self.new,
        }

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}: {yamlio.format_path(self.path)}"
        return f"{where}: {self.old} -> {self.new}"


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


def _quote_plainly(text: str) -> bool:
    """True when a plain scalar would still read back as this string (in YAML 1.1 and 1.2)."""
    return yamlio.is_plain_safe(text) or bool(naming.SEMVER.fullmatch(text) and "+" not in text)


def token_for(edit: Edit) -> str:
    """The new scalar's text in the old one's quoting style (plain stays plain where safe)."""
    style, new = edit.span.style, edit.new
    if style == "'":
        return "'" + new.replace("'", "''") + "'"
    if style == '"' or edit.quote or not _quote_plainly(new):
        return '"' + new.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return new


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Replace exactly the spans of ``edits``; every other character stays as it was."""
    for edit in sorted(edits, key=lambda e: e.span.start, reverse=True):
        text = text[: edit.span.start] + token_for(edit) + text[edit.span.end :]
    return text


# --- bump -----------------------------------------------------------------------------------


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file: str, span: Span | None, path: Path_, message: str) -> None:
        line, col = (span.line, span.col) if span is not None else (0, 0)
        self.problems.append(Problem(file, line, col, yamlio.format_path(path), message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise UsageError("\n".join(str(p) for p in self.problems))


def _spans(file: str, text: str) -> dict[Path_, Span]:
    try:
        return scalar_spans(text)
    except yamlio.YAMLLoadError as e:
        raise UsageError(str(Problem(file, e.line, e.col, e.path, e.message))) from None


def _editable(out: _Collector, file: str, spans: Mapping[Path_, Span], path: Path_) -> Span | None:
    span = spans.get(path)
    if span is None:
        return None
    if span.style == "*":
        out.add(
            file,
            span,
            path,
            "is an alias; bump edits plain or quoted scalars: write the value here",
        )
        return None
    if span.style in ("|", ">") or "\n" in span.value:
        out.add(file, span, path, "is a multi-line scalar; write the version on one line")
        return None
    return span


def _check_version(
    out: _Collector, file: str, span: Span, path: Path_, new: str, allow_downgrade: bool
) -> None:
    old = span.value
    lower = naming.SEMVER.fullmatch(old) and naming.semver_key(new) < naming.semver_key(old)
    if lower and not allow_downgrade:
        out.add(file, span, path, f"{new} is lower than the current {old}; pass --allow-downgrade")


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

    out = _Collector()
    spans = _spans(PROJECT_PATH, project_text)
    edits: list[Edit] = []
    tagged = False
    for app in selected:
        path: Path_ = ("apps", app, "chart", "version")
        span = _editable(out, PROJECT_PATH, spans, path)
        if span is not None:
            _check_version(out, PROJECT_PATH, span, path, version, allow_downgrade)
            edits.append(Edit(PROJECT_PATH, path, span.line, span.col, span.value, version, span))
        tag_path: Path_ = ("apps", app, "image", "tag")
        tag_span = _editable(out, PROJECT_PATH, spans, tag_path)
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
        chart_file, chart_text, chart_edits = _chart_edits(
            out, root, chart_yaml, version, allow_downgrade
        )
    out.raise_if_any()

    edits = [e for e in edits if e.old != e.new]
    new_project = apply_edits(project_text, edits)
    _verify(PROJECT_PATH, new_project, edits)
    new_spec = _validate_spec(files, new_project)
    overrides = _overrides(spec, files, selected, version, tag if tagged else None)

    all_edits = tuple(edits) + tuple(chart_edits)
    writes: dict[str, tuple[Path, str]] = {}
    if chart_file is not None and chart_text is not None and chart_edits:
        new_chart = _apply_chart(chart_text, chart_edits)
        _verify(chart_file[1], new_chart, chart_edits)
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
    _plan, changes = render_repository(root)
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


def _verify(file: str, text: str, edits: Sequence[Edit]) -> None:
    """The edited text must read back with exactly the new values.

    Files whose layout bump cannot edit in place (unusual tags, complex keys, ...) end here: a
    located input error, the file left as it was.
    """
    first = min(edits, key=lambda e: e.span.start, default=None)
    if first is None:
        return
    hint = "bump leaves the file unchanged; set the value by hand"
    try:
        data = yamlio.load(text)
    except (yamlio.YAMLLoadError, ValueError, TypeError) as e:
        # ValueError/TypeError: a tag such as !!float or !!int that the new text does not fit.
        reason = e.message if isinstance(e, yamlio.YAMLLoadError) else str(e)
        problem = Problem(
            file, first.line, first.col, yamlio.format_path(first.path),
            f"the edited file would not read back ({reason}); {hint}",
        )  # fmt: skip
        raise UsageError(str(problem)) from None
    problems = []
    for edit in edits:
        node: Any = data
        try:
            for part in edit.path:
                node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
        if node != edit.new or type(node) is not str:
            problems.append(
                Problem(
                    file,
                    edit.line,
                    edit.col,
                    yamlio.format_path(edit.path),
                    f"would read back as {node!r}, not {edit.new!r}; {hint}",
                )
            )
    if problems:
        raise UsageError("\n".join(str(p) for p in problems))


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
        spans = _spans(file, files[file])
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


def _chart_edits(
    out: _Collector, root: Path, chart_yaml: Path, version: str, allow_downgrade: bool
) -> tuple[tuple[Path, str], str | None, list[Edit]]:
    display = chart_yaml.as_posix()
    path = chart_yaml if chart_yaml.is_absolute() else root / chart_yaml
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise UsageError(f"--chart-yaml: {display}: not found") from None
    except IsADirectoryError:
        raise UsageError(
            f"--chart-yaml: {display}: is a directory; name the Chart.yaml file"
        ) from None
    except UnicodeDecodeError as e:
        raise UsageError(f"--chart-yaml: {display}: is not UTF-8 text (byte {e.start})") from None
    try:
        data = yamlio.load(text)
    except yamlio.YAMLLoadError as e:
        raise UsageError(str(Problem(display, e.line, e.col, e.path, e.message))) from None
    if not isinstance(data, dict) or "version" not in data:
        raise UsageError(f"{display}: not a Helm Chart.yaml (it has no top-level version)")
    spans = _spans(display, text)
    edits: list[Edit] = []
    span = _editable(out, display, spans, ("version",))
    if span is not None:
        _check_version(out, display, span, ("version",), version, allow_downgrade)
        if span.value != version:
            edits.append(
                Edit(display, ("version",), span.line, span.col, span.value, version, span)
            )
    app_span = _editable(out, display, spans, ("appVersion",))
    if app_span is not None:
        if app_span.value != version or app_span.style is None:
            edits.append(
                Edit(
                    display,
                    ("appVersion",),
                    app_span.line,
                    app_span.col,
                    app_span.value,
                    version,
                    app_span,
                    True,
                )
            )
    elif ("appVersion",) not in spans and span is not None:
        edits.append(_insert_app_version(display, text, span, version))
    return (path, display), text, edits


def _insert_app_version(display: str, text: str, version: Span, new: str) -> Edit:
    """No appVersion yet: an empty span to fill, right after version's value.

    In a flow mapping (``{version: 1.0.0}``) it joins the mapping as ``, appVersion: "..."``;
    in a block mapping it goes on its own line after version's, at the key's indentation.
    """
    if version.flow:
        at = version.end
        line, col = position(text, at)
        empty = Span(at, at, line, col, "insert-flow", "")
    else:
        eol = text.find("\n", version.end)
        at = len(text) if eol < 0 else eol + 1
        indent = version.key_col
        newline = "\r\n" if text[at - 2 : at] == "\r\n" else "\n"
        line = position(text, version.end)[0] + 1
        empty = Span(at, at, line, indent + 1, "insert", " " * indent + newline)
    return Edit(display, ("appVersion",), empty.line, empty.col, "", new, empty, True)


def _apply_chart(text: str, edits: Sequence[Edit]) -> str:
    for edit in sorted(edits, key=lambda e: e.span.start, reverse=True):
        if edit.span.style == "insert-flow":
            token = f', appVersion: "{edit.new}"'
            text = text[: edit.span.start] + token + text[edit.span.start :]
        elif edit.span.style == "insert":
            indent, newline = edit.span.value.rstrip("\r\n"), edit.span.value.lstrip(" ")
            token = f'{indent}appVersion: "{edit.new}"{newline}'
            if edit.span.start == len(text) and not text.endswith("\n"):
                token = newline + token  # version was the last line, without a line break
            text = text[: edit.span.start] + token + text[edit.span.start :]
        else:
            text = text[: edit.span.start] + token_for(edit) + text[edit.span.end :]
    return text


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
