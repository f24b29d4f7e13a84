"""The spec files on disk: reading them safely, and checking each one against the JSON Schema."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import forked, yamlio
from generator.errors import Problem, SpecError, os_reason
from generator.spec import validate as fastschema

if TYPE_CHECKING:
    from generator.yamlspans import Locator

SPEC_DIR = "environments"
PROJECT_FILE = "_project.yaml"


def spec_schema() -> dict[str, Any]:
    return fastschema.package_schema("spec")


class SpecFile:
    """One spec file: its text, its data, and (read only when an error needs it) its locations."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.data: Any = None
        self.broken: list[tuple[str | int, ...]] = []
        """Where the schema check failed: the cross-file checks leave these parts alone."""
        self._locator: Locator | None = None

    def intact(self, path: tuple[str | int, ...]) -> bool:
        """True when the data at ``path`` (and everything above and below it) passed the schema."""
        return self.data is not None and not any(
            bad[: len(path)] == path or path[: len(bad)] == bad for bad in self.broken
        )

    def position(self, path: tuple[str | int, ...], at_key: bool = False) -> tuple[int, int]:
        """1-based line and column of ``path`` (of the document for the empty path)."""
        if not path:
            return 1, 1
        if self._locator is None:
            from generator.yamlspans import Locator  # only where a problem is located

            self._locator = Locator(self.text)
        return self._locator.locate(path, at_key)

    def where(self, path: tuple[str | int, ...], message: str, at_key: bool = False) -> Problem:
        line, col = self.position(path, at_key)
        return Problem(self.file, line, col, yamlio.format_path(path), message)


def read_spec_files(root: Path) -> dict[str, str]:
    """The spec files under ``root/environments`` as {path: text}; refuses escaping symlinks."""
    files, problems = read_spec_dir(root)
    if problems:
        raise SpecError(problems)
    return files


def _suffix(name: str) -> str:
    """``Path(name).suffix``: from the last dot, unless the name starts or ends with it."""
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


class _Unreadable(Exception):
    """Why a spec file cannot be read: the message of its problem."""


def _read_entry(entry: os.DirEntry[str], real_root: Path, folder_inside: bool) -> bytes:
    """A spec file's bytes; _Unreadable says why it cannot be read (each reason a problem)."""
    try:
        link = entry.is_symlink()
        if not (Path(entry.path).resolve().is_relative_to(real_root) if link else folder_inside):
            raise _Unreadable("is a link to outside the repository; refused")
        if not entry.is_file():
            raise _Unreadable("is not a regular file")
        if entry.stat().st_size > yamlio.MAX_FILE_BYTES:
            raise _Unreadable(f"is larger than {yamlio.MAX_FILE_BYTES >> 20} MiB; refused")
        with open(entry.path, "rb") as handle:
            return handle.read()
    except OSError as e:
        reason = os_reason(e)
        raise _Unreadable(f"cannot be read ({reason}); check the file and its rights") from None
    except RuntimeError:  # pathlib's answer to a link that leads back to itself
        raise _Unreadable("is a link that loops; point it at a file") from None


def read_spec_dir(root: Path) -> tuple[dict[str, str], list[Problem]]:
    """The spec files that can be read, and a problem for each one that cannot."""
    spec_dir = root / SPEC_DIR
    if not spec_dir.is_dir():
        raise SpecError(
            [Problem(SPEC_DIR, 0, 0, "", "not found; create it (gitops-gen init) or pass -C DIR")]
        )
    real_root = root.resolve()
    # A file that is not a link is where its folder really is: one resolve for all of them.
    folder_inside = spec_dir.resolve().is_relative_to(real_root)
    files: dict[str, str] = {}
    problems: list[Problem] = []
    try:
        with os.scandir(spec_dir) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as e:
        reason = os_reason(e)
        raise SpecError(
            [Problem(SPEC_DIR, 0, 0, "", f"cannot be read ({reason}); check the folder's rights")]
        ) from None
    for entry in entries:
        rel = f"{SPEC_DIR}/{entry.name}"
        suffix = _suffix(entry.name)
        if suffix == ".yml":
            problems.append(Problem(rel, 0, 0, "", "spec files end in .yaml; rename it"))
            continue
        if suffix != ".yaml":
            continue
        try:
            data = _read_entry(entry, real_root, folder_inside)
        except _Unreadable as e:
            problems.append(Problem(rel, 0, 0, "", str(e)))
            continue
        try:
            files[rel] = data.decode("utf-8")
        except UnicodeDecodeError as e:
            start = data.rfind(b"\n", 0, e.start) + 1
            line = data.count(b"\n", 0, e.start) + 1
            col = len(data[start : e.start].decode("utf-8", "replace")) + 1
            problems.append(
                Problem(
                    rel,
                    line,
                    col,
                    "",
                    f"is not UTF-8 text (byte 0x{data[e.start]:02x}); save the file as UTF-8",
                )
            )
    return files, problems


# From this many spec files on, a forked child parses the second half of them.
PARALLEL_PARSE_FROM = 48


def parse_files(sources: list[SpecFile], project_name: str, problems: list[Problem]) -> None:
    """``parse_file`` for each source, in order.

    From ``PARALLEL_PARSE_FROM`` files on, a forked child parses the second half while this
    process parses the first, and sends back what parsing leaves on each file (its data, the
    parts that failed the schema, its problems). If the child fails in any way, this process
    parses that half itself, so the result (and every problem, in order) is the sequential one.
    """
    if len(sources) < PARALLEL_PARSE_FROM or not forked.can_fork():
        for source in sources:
            parse_file(source, project_name, problems)
        return
    half = len(sources) // 2
    mine, theirs = sources[:half], sources[half:]

    def parse_theirs() -> list[tuple[Any, list[tuple[str | int, ...]], list[Problem]]]:
        parsed = []
        for source in theirs:
            found: list[Problem] = []
            parse_file(source, project_name, found)
            parsed.append((source.data, source.broken, found))
        return parsed

    child = forked.Child(parse_theirs)
    try:
        for source in mine:
            parse_file(source, project_name, problems)
    except BaseException:
        child.cancel()
        raise
    parsed = child.result()
    if parsed is None:
        for source in theirs:
            parse_file(source, project_name, problems)
        return
    for source, (data, broken, found) in zip(theirs, parsed, strict=True):
        source.data, source.broken = data, broken
        problems += found


def parse_file(source: SpecFile, project_name: str, problems: list[Problem]) -> None:
    try:
        document = yamlio.load_document(source.text)
    except yamlio.YAMLLoadError as e:
        if e.parts and not e.line:
            problems.append(source.where(e.parts, e.message))
        else:
            problems.append(Problem(source.file, e.line, e.col, e.path, e.message))
        return
    data = document.data
    if data is None:
        what = (
            "the project file is empty: it holds the project, apps and promotion order"
            if source.file == project_name
            else "the environment is empty; write {} for an empty environment"
        )
        problems.append(Problem(source.file, 1, 1, "", what))
        return
    kind = "projectFile" if source.file == project_name else "environmentFile"
    # A null setting removes the key it overrides, so it is valid anywhere; values are data.
    checked = without_null_settings(data)
    # The compiled check answers most files; jsonschema only explains what is wrong.
    valid = fastschema.checker("spec", kind)(checked)
    errors: Any = () if valid else fastschema.explainer("spec", kind).iter_errors(checked)
    for error in errors:
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            allowed = ", ".join(sorted(error.schema.get("properties", {})))
            for key in sorted(
                set(error.instance) - set(error.schema.get("properties", {})), key=str
            ):
                hint = _did_you_mean(str(key), error.schema.get("properties", {}))
                problems.append(
                    source.where((*path, key), f"unknown key{hint} (allowed here: {allowed})", True)
                )
            # The cross-file checks read known keys only: an unknown one does not stop them.
            continue
        if error.validator == "required":
            source.broken += [
                (*path, key) for key in error.validator_value if key not in error.instance
            ]
        else:
            source.broken.append(path)
        problems.append(source.where(path, _schema_message(error)))
    for path in () if document.string_keys else _non_string_keys(data, ()):
        source.broken.append(path)
        problems.append(source.where(path, "keys must be strings; quote the key", True))
    big = _unsafe_integers(data, kind == "projectFile") if document.unsafe_integers else ()
    for path, number in big:
        problems.append(
            source.where(
                path,
                f"{number} is outside ±(2^53-1): Helm and Argo CD read values as float64 and "
                f'would change it; quote it to pass it exactly, as a string: "{number}"',
            )
        )
    source.data = data


def without_null_settings(node: Any) -> Any:
    """The document without map entries whose value is null, except inside ``values`` (data)."""
    if isinstance(node, dict):
        return {
            key: value if key == "values" else without_null_settings(value)
            for key, value in node.items()
            if value is not None
        }
    if isinstance(node, list):
        return [without_null_settings(item) for item in node]
    return node


def _schema_message(error: Any) -> str:
    """A jsonschema error in the words a person acts on."""
    kind = error.validator
    if kind == "type":
        expected = error.validator_value
        expected = [expected] if isinstance(expected, str) else expected
        # In YAML's words, as _type_name says what was found.
        expected = " or ".join({"object": "map", "array": "list"}.get(t, t) for t in expected)
        got = _type_name(error.instance)
        hint = (
            "; quote it to make it a string"
            if expected == "string" and got in ("a number", "a boolean")
            else ""
        )
        if expected == "boolean":
            hint = "; write true or false"
        return f"must be {_article(expected)}, not {got}{hint}"
    if kind == "pattern":
        explanation = error.schema.get("x-error", "does not match " + error.validator_value)
        return f"{error.instance!r} {explanation}"
    if kind == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"{error.instance!r} is not one of: {allowed}"
    if kind == "required":
        return str(error.message).replace("is a required property", "is required")
    if kind == "uniqueItems":
        return "lists the same entry twice"
    if kind == "minItems":
        return "must not be empty"
    if kind == "minProperties":
        return "must define at least one entry"
    return str(error.message)


def _did_you_mean(key: str, known: Mapping[str, Any]) -> str:
    import difflib

    close = difflib.get_close_matches(key, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _article(name: str) -> str:
    return ("an " if name[:1] in "aeiou" else "a ") + name


def _type_name(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a map",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _unsafe_integers(data: Any, project: bool) -> Iterator[tuple[tuple[str | int, ...], int]]:
    """Integers that Helm would change, in every values layer: apps, defaults.apps, environments."""
    bases: tuple[tuple[str, ...], ...] = (
        (("apps",), ("defaults", "apps")) if project else (("apps",),)
    )
    for base in bases:
        apps = data
        for part in base:
            apps = apps.get(part) if isinstance(apps, dict) else None
        if not isinstance(apps, dict):
            continue
        for app, settings in apps.items():
            if isinstance(settings, dict) and "values" in settings:
                yield from _integers_beyond(settings["values"], (*base, app, "values"))


def _integers_beyond(
    node: Any, path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], int]]:
    if type(node) is int:
        if not -yamlio.MAX_SAFE_INTEGER <= node <= yamlio.MAX_SAFE_INTEGER:
            yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _integers_beyond(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _integers_beyond(value, (*path, index))


def _non_string_keys(node: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                yield (*path, key)
            else:
                yield from _non_string_keys(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _non_string_keys(value, (*path, index))
