"""The Jinja2 environment: built-in templates, overridden file by file by a repository's own."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
import jinja2.sandbox

from generator import yamlemit
from generator.errors import Problem, SpecError

TEMPLATE_DIR = "templates"


def builtin_template_dir() -> Path:
    """The built-in templates ship inside the package, beside this module."""
    return Path(__file__).resolve().parent / "templates"


def _yaml_filter(value: Any, indent: int | None = None) -> str:
    if indent is None:
        return yamlemit.scalar(value)
    return yamlemit.dump_inline(value, indent)


def _md_code(value: Any) -> str:
    text = str(value).replace("`", "'").replace("|", "\\|")
    return f"`{text}`"


def repository_overrides(root: Path) -> dict[str, str]:
    """The repository's own templates/ as {name: source}; refuses files escaping the repository."""
    base = root / TEMPLATE_DIR
    if not base.is_dir():
        return {}
    real_root = root.resolve()
    overrides: dict[str, str] = {}
    problems = []
    for path in sorted(base.rglob("*")):
        if path.is_dir() and not path.is_symlink():
            continue
        rel = path.relative_to(root).as_posix()
        if not path.resolve().is_relative_to(real_root):
            problems.append(Problem(rel, 0, 0, "", "is a link to outside the repository; refused"))
            continue
        if path.is_file():
            try:
                overrides[path.relative_to(base).as_posix()] = path.read_text("utf-8")
            except UnicodeDecodeError:
                problems.append(Problem(rel, 0, 0, "", "is not UTF-8 text"))
    if problems:
        raise SpecError(problems)
    return overrides


class _Loader(jinja2.BaseLoader):
    """The repository's templates first, then the built-in ones; names never leave either folder."""

    def __init__(self, overrides: Mapping[str, str]) -> None:
        self.overrides = overrides
        self.builtin = jinja2.FileSystemLoader(str(builtin_template_dir()))

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        parts = jinja2.loaders.split_template_path(template)  # refuses "..", absolute names
        name = "/".join(parts)
        if name in self.overrides:
            source = self.overrides[name]
            return source, f"{TEMPLATE_DIR}/{name}", lambda: True
        source, _, uptodate = self.builtin.get_source(environment, name)
        return source, f"{TEMPLATE_DIR}/{name} (built-in)", uptodate


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in memory, keyed by name and checked against the source's hash.

    Every render builds a fresh Environment (its filters are per render), but a template is
    compiled only once per process: diff renders two revisions, tests render thousands of specs.
    """

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)  # ignored when the source changed (checksum)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if len(self._store) < 1000:
            self._store[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


class _Sandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, with a fast path for the spec's own data.

    Templates read the spec's frozen dataclasses (``env.name``, ``app.chart.version``) some 150,000
    times in a large render, and each read pays the sandbox's checks. For a field of a frozen
    dataclass of ``generator.spec`` those checks always pass: the name has no leading ``_``, the
    object is no function, method, type, frame or generator, and it is not a list, dict, set or
    deque that a method could change. So such a read returns the field directly; every other
    attribute (``__class__``, methods, properties, anything of any other type) goes through the
    sandbox unchanged.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        fields = _SPEC_FIELDS.get(type(obj))
        if fields is None:
            fields = _SPEC_FIELDS[type(obj)] = _spec_fields(type(obj))
        if attribute in fields:
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)


_SPEC_FIELDS: dict[type, frozenset[str]] = {}


def _spec_fields(cls: type) -> frozenset[str]:
    """The public fields of a frozen dataclass of the spec's model; empty for any other type."""
    import dataclasses

    if not (
        dataclasses.is_dataclass(cls)
        and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        and cls.__module__.startswith("generator.spec.")
    ):
        return frozenset()
    return frozenset(f.name for f in dataclasses.fields(cls) if not f.name.startswith("_"))


def make_environment(overrides: Mapping[str, str] | None = None) -> jinja2.Environment:
    """The one Jinja2 environment every template renders in.

    Templates are untrusted input (they come from pull requests and render in CI with tokens), so
    they run in Jinja2's immutable sandbox: no attribute that starts with ``_``, no Python
    internals, no method that changes a value, and so no way to files or processes.
    """
    env = _Sandbox(
        loader=_Loader(overrides or {}),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        auto_reload=False,
        bytecode_cache=_COMPILED,
    )
    env.filters["yaml"] = _yaml_filter
    env.filters["yaml_document"] = yamlemit.dump_document
    env.filters["md_code"] = _md_code
    return env
