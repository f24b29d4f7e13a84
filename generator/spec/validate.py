"""JSON Schema (2020-12) subsets compiled once into plain Python checks: a fast yes/no per object.

jsonschema is thorough but costs about half a millisecond per rendered object; rendering 300
environments validates about 9,000 of them.  ``compile_schema`` turns the keywords our schemas use
into Python source (one function per schema, sub-schemas inlined) that answers only "valid?".
When the answer is no, callers ask jsonschema for the located messages, so error reports are
unchanged.  A schema with any other keyword is refused
(CompileError) and callers keep using jsonschema alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

Check = Callable[[Any], bool]

# Keywords that never affect validity.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples"}
)


class CompileError(Exception):
    """The schema uses something this compiler does not implement."""


def _equal(a: Any, b: Any) -> bool:
    """JSON equality as jsonschema sees it: booleans are never numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_equal, a, b))
    if isinstance(a, str) or isinstance(b, str):
        return type(a) is type(b) and a == b
    if a is None or b is None:
        return a is b
    return bool(a == b)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _unique(items: list[Any]) -> bool:
    if all(type(item) is str for item in items):  # the common case, in linear time
        return len(set(items)) == len(items)
    return all(not _equal(a, b) for i, a in enumerate(items) for b in items[i + 1 :])


class _Compiler:
    """Writes one Python function per schema that needs its own (the root, each ``$ref`` target,
    the branches of ``not``, ``anyOf``, ``oneOf`` and ``if``), with every other sub-schema inlined
    into its parent's code: a check is then a few local tests per value, not a call per keyword.
    """

    # Inlined sub-schemas nest blocks; deeper than this they become functions of their own
    # (Python allows 20 nested loops in one function).
    MAX_DEPTH = 12

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, str] = {}
        self.source: list[str] = []
        self.namespace: dict[str, Any] = dict(_HELPERS)
        self.count = 0
        self.built = 0  # lines of source already executed

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def constant(self, value: Any) -> str:
        name = self.fresh("_c")
        self.namespace[name] = value
        return name

    def ref(self, target: str) -> str:
        name = target[len("#/$defs/") :] if target.startswith("#/$defs/") else ""
        if not name or "/" in name or "~" in name or "%" in name:  # no JSON-pointer escapes
            raise CompileError(f"unsupported $ref {target!r}")
        if name not in self.root.get("$defs", {}):
            raise CompileError(f"$ref {target!r} names no definition")
        if target not in self.refs:
            self.refs[target] = function = self.fresh("_ref")
            self.define(function, self.root["$defs"][name])
        return self.refs[target]

    def function(self, schema: Any) -> str:
        """The name of a function answering whether an instance is valid against ``schema``."""
        name = self.fresh("_schema")
        self.define(name, schema)
        return name

    def define(self, name: str, schema: Any) -> None:
        body = self.body(schema, "x", 1)
        self.source += [f"def {name}(x):", *body, "    return True", ""]

    def body(self, schema: Any, var: str, depth: int) -> list[str]:
        """Lines (indented ``depth`` levels) that return False when ``var`` is not valid."""
        if schema is True:
            return []
        if schema is False:
            return [_indent(depth) + "return False"]
        if not isinstance(schema, Mapping):
            raise CompileError("schema is not an object")
        if depth > self.MAX_DEPTH:
            return [f"{_indent(depth)}if not {self.function(schema)}({var}):", _fail(depth + 1)]
        lines: list[str] = []
        for key, value in schema.items():
            if key in _ANNOTATIONS or key.startswith("x-") or key in ("$defs", "then", "else"):
                continue
            lines += self.keyword(key, value, schema, var, depth)
        return lines

    def keyword(
        self, key: str, value: Any, schema: Mapping[str, Any], v: str, depth: int
    ) -> list[str]:
        at, fail = _indent(depth), _fail(depth + 1)
        if key == "$ref":
            return [f"{at}if not {self.ref(value)}({v}):", fail]
        if key == "type":
            names = [value] if isinstance(value, str) else list(value)
            for name in names:
                if name not in _TYPE_TESTS:
                    raise CompileError(f"unsupported type {name!r}")
            tests = " or ".join(_TYPE_TESTS[name].format(v) for name in names) or "False"
            return [f"{at}if not ({tests}):", fail]
        if key == "properties":
            lines = []
            for name, sub in zip(_names(value), value.values(), strict=True):
                item = self.fresh("v")
                inner = self.body(sub, item, depth + 2)
                if inner:
                    lines += [f"{at}    if {name!r} in {v}:", f"{at}        {item} = {v}[{name!r}]"]
                    lines += inner
            return [f"{at}if isinstance({v}, dict):", *lines] if lines else []
        if key == "additionalProperties":
            if schema.get("patternProperties"):
                raise CompileError("patternProperties")
            known = self.constant(frozenset(schema.get("properties", {})))
            name, item = self.fresh("k"), self.fresh("v")
            inner = self.body(value, item, depth + 3)
            if not inner:
                return []
            return [
                f"{at}if isinstance({v}, dict):",
                f"{at}    for {name}, {item} in {v}.items():",
                f"{at}        if {name} not in {known}:",
                *inner,
            ]
        if key == "required":
            names = _names(value)
            if not names:
                return []
            missing = " or ".join(f"{name!r} not in {v}" for name in names)
            return [f"{at}if isinstance({v}, dict) and ({missing}):", fail]
        if key == "pattern":
            regex = self.constant(re.compile(value))
            return [f"{at}if isinstance({v}, str) and {regex}.search({v}) is None:", fail]
        if key == "const":
            if type(value) is str:
                return [f"{at}if type({v}) is not str or {v} != {self.constant(value)}:", fail]
            return [f"{at}if not _equal({v}, {self.constant(value)}):", fail]
        if key == "enum":
            options = list(value)
            if options and all(type(option) is str for option in options):
                allowed = self.constant(frozenset(options))
                return [f"{at}if type({v}) is not str or {v} not in {allowed}:", fail]
            return [f"{at}if not _in_enum({v}, {self.constant(options)}):", fail]
        if key in _SIZES:
            kind, compare = _SIZES[key]
            bound = repr(value) if type(value) is int else self.constant(value)
            return [f"{at}if isinstance({v}, {kind}) and len({v}) {compare} {bound}:", fail]
        if key == "items":
            if isinstance(value, list):
                raise CompileError("items as a list")
            item = self.fresh("v")
            inner = self.body(value, item, depth + 2)
            if not inner:
                return []
            return [f"{at}if isinstance({v}, list):", f"{at}    for {item} in {v}:", *inner]
        if key == "uniqueItems":
            if not value:
                return []
            return [f"{at}if isinstance({v}, list) and not _unique({v}):", fail]
        if key in ("minimum", "maximum"):
            compare = "<" if key == "minimum" else ">"
            bound = self.constant(value)
            return [f"{at}if _is_number({v}) and {v} {compare} {bound}:", fail]
        if key == "propertyNames":
            name = self.fresh("k")
            inner = self.body(value, name, depth + 2)
            if not inner:
                return []
            return [f"{at}if isinstance({v}, dict):", f"{at}    for {name} in {v}:", *inner]
        if key == "not":
            return [f"{at}if {self.function(value)}({v}):", fail]
        if key == "anyOf":
            calls = " or ".join(f"{self.function(sub)}({v})" for sub in value) or "False"
            return [f"{at}if not ({calls}):", fail]
        if key == "allOf":
            return [line for sub in value for line in self.body(sub, v, depth)]
        if key == "oneOf":
            calls = " + ".join(f"{self.function(sub)}({v})" for sub in value) or "0"
            return [f"{at}if ({calls}) != 1:", fail]
        if key == "if":
            test = self.function(value)
            then = self.body(schema.get("then", True), v, depth + 1) or [f"{at}    pass"]
            otherwise = self.body(schema.get("else", True), v, depth + 1) or [f"{at}    pass"]
            return [f"{at}if {test}({v}):", *then, f"{at}else:", *otherwise]
        raise CompileError(f"unsupported keyword {key!r}")

    def build(self, schema: Any) -> Check:
        """The check for ``schema``; functions built before (shared ``$ref`` targets) are reused.

        A schema refused half way leaves the compiler as it was, for the next one.
        """
        refs = dict(self.refs)
        try:
            if isinstance(schema, Mapping) and list(schema) == ["$ref"]:
                name = self.ref(schema["$ref"])  # the usual "#/$defs/<kind>": no wrapper
            else:
                name = self.function(schema)
        except Exception as error:  # a malformed schema too: refused, for jsonschema to handle
            self.refs, self.source = refs, self.source[: self.built]
            if isinstance(error, CompileError):
                raise
            raise CompileError(f"cannot compile ({type(error).__name__}: {error})") from None
        new, self.built = "\n".join(self.source[self.built :]), len(self.source)
        exec(compile(new, "<compiled schema>", "exec"), self.namespace)
        return self.namespace[name]  # type: ignore[no-any-return]


def _names(given: Any) -> list[str]:
    """Property names, which the generated code holds as literals: strings only."""
    names = list(given)
    if not all(type(name) is str for name in names):
        raise CompileError("a property name that is not a string")
    return names


def _indent(depth: int) -> str:
    return "    " * depth


def _fail(depth: int) -> str:
    return _indent(depth) + "return False"


def _in_enum(x: Any, options: list[Any]) -> bool:
    return any(_equal(x, option) for option in options)


def _is_integer(x: Any) -> bool:
    return _is_number(x) and (isinstance(x, int) or float(x).is_integer())


# How each JSON type is tested, on the generated code's variable.
_TYPE_TESTS = {
    "object": "isinstance({0}, dict)",
    "array": "isinstance({0}, list)",
    "string": "isinstance({0}, str)",
    "boolean": "isinstance({0}, bool)",
    "null": "{0} is None",
    "number": "_is_number({0})",
    "integer": "_is_integer({0})",
}
# The length keywords: the type they apply to and the comparison that fails.
_SIZES = {
    "minLength": ("str", "<"),
    "maxLength": ("str", ">"),
    "minItems": ("list", "<"),
    "maxItems": ("list", ">"),
    "minProperties": ("dict", "<"),
    "maxProperties": ("dict", ">"),
}
_HELPERS = {
    "_equal": _equal,
    "_in_enum": _in_enum,
    "_is_integer": _is_integer,
    "_is_number": _is_number,
    "_unique": _unique,
}


def compile_schema(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Check:
    """A function telling whether an instance is valid; ``root`` holds ``$defs`` for ``$ref``."""
    return _Compiler(root if root is not None else schema).build(schema)


# --- the package's own schemas (generator/schemas/<name>.schema.json), loaded once ---------------


_SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


@cache
def package_schema(name: str) -> dict[str, Any]:
    """``spec`` or ``kinds``: the JSON Schema shipped in the package."""
    # Beside the package's modules, as the built-in templates are (render/templating.py):
    # importlib.resources would import zipfile and tempfile for every command.
    text = (_SCHEMAS / f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


@cache
def explainer(name: str, kind: str) -> Any:
    """A jsonschema validator for ``$defs/kind`` of a package schema, for located messages."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": package_schema(name)["$defs"]})


@cache
def _package_compiler(name: str) -> _Compiler:
    """One compiler per package schema: the kinds share their ``$defs``, compiled once."""
    return _Compiler(package_schema(name))


@cache
def checker(name: str, kind: str) -> Check:
    """A compiled yes/no check for ``$defs/kind``; jsonschema is asked only to explain a no."""
    try:
        return _package_compiler(name).build({"$ref": f"#/$defs/{kind}"})
    except CompileError:
        return explainer(name, kind).is_valid  # type: ignore[no-any-return]
