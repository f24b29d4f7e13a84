"""JSON Schema (2020-12) subsets compiled once into plain Python checks: a fast yes/no per object.

jsonschema is thorough but costs about half a millisecond per rendered object; rendering 300
environments validates about 9,000 of them.  ``compile_schema`` turns the keywords our schemas use
into nested closures that answer only "valid?".  When the answer is no, callers ask jsonschema for
the located messages, so error reports are unchanged.  A schema with any other keyword is refused
(CompileError) and callers keep using jsonschema alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
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


_TYPES: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "number": _is_number,
    "integer": lambda x: _is_number(x) and (isinstance(x, int) or float(x).is_integer()),
}


class _Compiler:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, target: str) -> Check:
        if not target.startswith("#/$defs/") or "/" in target[len("#/$defs/") :]:
            raise CompileError(f"unsupported $ref {target!r}")
        if target not in self.refs:
            name = target[len("#/$defs/") :]
            slot: list[Check] = []
            self.refs[target] = lambda x: slot[0](x)  # placeholder while compiling (recursion)
            slot.append(self.compile(self.root["$defs"][name]))
            self.refs[target] = slot[0]
        return self.refs[target]

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda x: True
        if schema is False:
            return lambda x: False
        if not isinstance(schema, Mapping):
            raise CompileError("schema is not an object")
        checks: list[Check] = []
        for key, value in schema.items():
            if key in _ANNOTATIONS or key.startswith("x-") or key in ("$defs", "then", "else"):
                continue
            checks.append(self.keyword(key, value, schema))
        if not checks:
            return lambda x: True
        if len(checks) == 1:
            return checks[0]

        def every(x: Any) -> bool:
            for check in checks:  # noqa: SIM110 - a loop is faster than all() over a generator
                if not check(x):
                    return False
            return True

        return every

    def keyword(self, key: str, value: Any, schema: Mapping[str, Any]) -> Check:
        if key == "$ref":
            return self.ref(value)
        if key == "type":
            names = [value] if isinstance(value, str) else list(value)
            tests = [_TYPES[name] for name in names]
            if len(tests) == 1:
                return tests[0]
            return lambda x: any(t(x) for t in tests)
        if key == "properties":
            props = {name: self.compile(sub) for name, sub in value.items()}

            def properties(x: Any) -> bool:
                if isinstance(x, dict):
                    for k, v in x.items():
                        check = props.get(k)
                        if check is not None and not check(v):
                            return False
                return True

            return properties
        if key == "additionalProperties":
            known = set(schema.get("properties", {}))
            if schema.get("patternProperties"):
                raise CompileError("patternProperties")
            sub = self.compile(value)

            def additional(x: Any) -> bool:
                if isinstance(x, dict):
                    for k, v in x.items():
                        if k not in known and not sub(v):
                            return False
                return True

            return additional
        if key == "required":
            names = list(value)
            return lambda x: not isinstance(x, dict) or all(n in x for n in names)
        if key == "pattern":
            regex = re.compile(value)
            return lambda x: not isinstance(x, str) or regex.search(x) is not None
        if key == "const":
            return lambda x: _equal(x, value)
        if key == "enum":
            options = list(value)
            return lambda x: any(_equal(x, o) for o in options)
        if key == "minLength":
            return lambda x: not isinstance(x, str) or len(x) >= value
        if key == "maxLength":
            return lambda x: not isinstance(x, str) or len(x) <= value
        if key == "items":
            if isinstance(value, list):
                raise CompileError("items as a list")
            sub = self.compile(value)
            return lambda x: not isinstance(x, list) or all(sub(v) for v in x)
        if key == "minItems":
            return lambda x: not isinstance(x, list) or len(x) >= value
        if key == "maxItems":
            return lambda x: not isinstance(x, list) or len(x) <= value
        if key == "uniqueItems":
            if not value:
                return lambda x: True
            return lambda x: not isinstance(x, list) or _unique(x)
        if key == "minProperties":
            return lambda x: not isinstance(x, dict) or len(x) >= value
        if key == "maxProperties":
            return lambda x: not isinstance(x, dict) or len(x) <= value
        if key == "minimum":
            return lambda x: not (_is_number(x) and x < value)
        if key == "maximum":
            return lambda x: not (_is_number(x) and x > value)
        if key == "propertyNames":
            sub = self.compile(value)
            return lambda x: not isinstance(x, dict) or all(sub(k) for k in x)
        if key == "not":
            sub = self.compile(value)
            return lambda x: not sub(x)
        if key == "anyOf":
            subs = [self.compile(s) for s in value]
            return lambda x: any(s(x) for s in subs)
        if key == "allOf":
            subs = [self.compile(s) for s in value]
            return lambda x: all(s(x) for s in subs)
        if key == "oneOf":
            subs = [self.compile(s) for s in value]
            return lambda x: sum(1 for s in subs if s(x)) == 1
        if key == "if":
            test = self.compile(value)
            then = self.compile(schema.get("then", True))
            otherwise = self.compile(schema.get("else", True))
            return lambda x: then(x) if test(x) else otherwise(x)
        raise CompileError(f"unsupported keyword {key!r}")


def compile_schema(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Check:
    """A function telling whether an instance is valid; ``root`` holds ``$defs`` for ``$ref``."""
    return _Compiler(root if root is not None else schema).compile(schema)


# --- the package's own schemas (generator/schemas/<name>.schema.json), loaded once ---------------


@cache
def package_schema(name: str) -> dict[str, Any]:
    """``spec`` or ``kinds``: the JSON Schema shipped in the package."""
    text = resources.files("generator").joinpath(f"schemas/{name}.schema.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


@cache
def explainer(name: str, kind: str) -> Any:
    """A jsonschema validator for ``$defs/kind`` of a package schema, for located messages."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": package_schema(name)["$defs"]})


@cache
def checker(name: str, kind: str) -> Check:
    """A compiled yes/no check for ``$defs/kind``; jsonschema is asked only to explain a no."""
    try:
        return compile_schema({"$ref": f"#/$defs/{kind}"}, package_schema(name))
    except CompileError:
        return explainer(name, kind).is_valid  # type: ignore[no-any-return]
