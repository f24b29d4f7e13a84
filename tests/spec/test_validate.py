"""The compiled schema checks (generator/spec/validate.py) against jsonschema, keyword by keyword.

``checker`` caches what it compiles, so the spec tests compile the package's schemas once; these
compile small schemas of their own, each with instances on both sides of its edge, and hold every
answer to jsonschema's (Draft 2020-12). They also pin what the compiler refuses.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from generator.spec.validate import CompileError, _Compiler, compile_schema


def _deep(levels: int, inner: Any) -> Any:
    """``inner`` as the items of items of ... (``levels`` times)."""
    for _ in range(levels):
        inner = {"items": inner}
    return inner


def _deep_list(levels: int, inner: Any) -> Any:
    for _ in range(levels):
        inner = [inner]
    return inner


SCALARS: list[Any] = ["a", "", 0, 1, 1.0, 1.5, -1, True, False, None, {}, [], {"a": 1}, [1]]

CASES: dict[str, tuple[Any, list[Any]]] = {
    "true": (True, SCALARS),
    "false": (False, SCALARS),
    "annotations only": (
        {"title": "t", "description": "d", "default": 1, "x-error": "e", "$comment": "c"},
        SCALARS,
    ),
    "annotations before keywords": (
        {"description": "d", "type": "string", "x-error": "e", "minLength": 2},
        ["a", "ab", 1, None],
    ),
    "then without if": ({"then": False, "else": False}, SCALARS),
    **{
        f"type {name}": ({"type": name}, SCALARS)
        for name in ("string", "integer", "number", "object", "array", "boolean", "null")
    },
    "two types": ({"type": ["string", "null"]}, SCALARS),
    "no types": ({"type": []}, SCALARS),
    "type and minimum": ({"type": "integer", "minimum": 2}, [1, 2, 3, 2.5, "a", True]),
    "properties": (
        {"properties": {"a": {"type": "string"}, "b": {"type": "integer"}}},
        [{}, {"a": "x"}, {"a": 1}, {"c": 1}, {"c": 1, "a": 1}, {"a": "x", "b": "y"}, "a", [1]],
    ),
    "a property that is false": ({"properties": {"a": False}}, [{}, {"a": 1}, {"b": 1}]),
    "no additional properties": (
        {"properties": {"a": {}}, "additionalProperties": False},
        [{}, {"a": 1}, {"b": 1}, {"a": 1, "b": 1}, [1], "b"],
    ),
    "additional properties of a type": (
        {"properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "integer"}},
        [{}, {"a": "x"}, {"a": 1}, {"b": 1}, {"b": "x"}, {"a": "x", "b": 2, "c": "y"}, []],
    ),
    "additional properties without properties": (
        {"additionalProperties": False},
        [{}, {"a": 1}, [], "a"],
    ),
    "required": (
        {"required": ["a", "b"]},
        [{}, {"a": 1}, {"b": 1}, {"a": 1, "b": None}, "ab", ["a", "b"]],
    ),
    "pattern": ({"pattern": "b"}, ["ab", "ba", "b", "a", "", 1, None]),
    "anchored pattern": ({"pattern": "^a$"}, ["a", "ab", "ba", "", 1]),
    "const number": ({"const": 1}, [1, 1.0, 2, True, "1", None, [1]]),
    "const false": ({"const": False}, [False, 0, None, True, ""]),
    "const null": ({"const": None}, [None, 0, False, "", {}]),
    "const map": (
        {"const": {"a": [1, True]}},
        [
            {"a": [1, True]},
            {"a": [1, 1]},
            {"a": [True, True]},
            {"a": [1]},
            {"a": [1, True, 2]},
            {"b": [1, True]},
            {"a": [1, True], "b": 1},
            {"a": (1,)},
            [["a"]],
            "a",
        ],
    ),
    "const list": ({"const": [1, "a"]}, [[1, "a"], [1.0, "a"], [True, "a"], [1], ["a", 1], {}]),
    "const string": ({"const": "1"}, ["1", 1, "", None]),
    "enum": ({"enum": [1, "a", None, [2]]}, [1, 1.0, True, "a", "b", None, 0, False, [2], [3], 2]),
    "enum of strings": ({"enum": ["a", "b"]}, ["a", "b", "c", "", 1, None, ["a"]]),
    "enum without strings": ({"enum": [1, None]}, [1, 1.0, True, None, 0, "1", "a"]),
    "empty enum": ({"enum": []}, SCALARS),
    "minLength": ({"minLength": 2}, ["a", "ab", "abc", "", 5, None]),
    "maxLength": ({"maxLength": 2}, ["a", "ab", "abc", "", 500, None]),
    # Bounds that are not ints: 2.0 is an integer to JSON Schema, and no Python literal is inf.
    "length bounds that are floats": (
        {"minLength": 2.0, "maxLength": float("inf"), "maxItems": 1.0},
        ["a", "ab", "abcdef", "", [], [1], [1, 2], 1],
    ),
    "items": ({"items": {"type": "integer"}}, [[], [1, 2], [1, "a"], ["a"], "ab", {"a": "b"}]),
    "minItems": ({"minItems": 2}, [[], [1], [1, 2], [1, 2, 3], "ab", {"a": 1, "b": 2}]),
    "maxItems": ({"maxItems": 2}, [[], [1], [1, 2], [1, 2, 3], "abc", {"a": 1, "b": 2, "c": 3}]),
    "uniqueItems": (
        {"uniqueItems": True},
        [
            [],
            [1, 2],
            [1, 1],
            ["a", "a"],
            ["a", "b"],
            [1, True],
            [0, False],
            [1, 1.0],
            [{"a": 1}, {"a": 1}],
            [{"a": 1}, {"a": 2}],
            [[1], [1]],
            [[1], [True]],
            ["a", 1, "a"],
            [None, None],
            "aa",
            {"a": 1},
        ],
    ),
    "uniqueItems false": ({"uniqueItems": False}, [[1, 1], ["a", "a"], [], "a"]),
    "minProperties": ({"minProperties": 1}, [{}, {"a": 1}, {"a": 1, "b": 2}, [], [1], "a"]),
    "maxProperties": ({"maxProperties": 1}, [{}, {"a": 1}, {"a": 1, "b": 2}, [1, 2], "ab"]),
    "minimum": ({"minimum": 2}, [1, 2, 3, 1.5, 2.0, 2.5, True, "1", None]),
    "maximum": ({"maximum": 2}, [1, 2, 3, 1.5, 2.0, 2.5, True, "3", None]),
    "propertyNames": (
        {"propertyNames": {"pattern": "^a"}},
        [{}, {"ab": 1}, {"b": 1}, {"ab": 1, "b": 1}, ["b"], "b"],
    ),
    "not": ({"not": {"type": "string"}}, ["a", 1, None]),
    "anyOf": ({"anyOf": [{"type": "string"}, {"minimum": 2}]}, ["a", 1, 3, 1.5, None]),
    "empty anyOf": ({"anyOf": []}, SCALARS),
    "allOf": ({"allOf": [{"type": "integer"}, {"minimum": 2}]}, ["a", 1, 3, 2.5, None]),
    "oneOf": ({"oneOf": [{"type": "integer"}, {"minimum": 2}]}, [1, 3, 2.5, 1.5, "a"]),
    "empty oneOf": ({"oneOf": []}, SCALARS),
    "if then else": (
        {"if": {"type": "string"}, "then": {"minLength": 2}, "else": {"minimum": 2}},
        ["a", "ab", 1, 3, None],
    ),
    "if then": ({"if": {"type": "string"}, "then": {"minLength": 2}}, ["a", "ab", 1]),
    "if else": ({"if": {"type": "string"}, "else": {"minimum": 2}}, ["a", 1, 3]),
    "if alone": ({"if": {"type": "string"}}, ["a", 1]),
    "$ref": (
        {"$ref": "#/$defs/short", "$defs": {"short": {"type": "string", "maxLength": 1}}},
        ["a", "ab", 1],
    ),
    "$ref twice": (
        {
            "properties": {"a": {"$ref": "#/$defs/n"}, "b": {"$ref": "#/$defs/n"}},
            "$defs": {"n": {"type": "integer"}},
        },
        [{"a": 1, "b": 2}, {"a": 1, "b": "x"}, {"a": "x"}, {}],
    ),
    "property names that need quoting": (
        {
            "properties": {"a'b": {"type": "string"}, 'c"\nd': {"type": "integer"}, "": {}},
            "required": ["a'b", 'c"\nd'],
        },
        [{"a'b": "x", 'c"\nd': 1}, {"a'b": 1, 'c"\nd': 1}, {"a'b": "x"}, {"ab": "x", "cd": 1}],
    ),
    # Deeper than Python's 20 nested loops in one function: the inner levels become functions.
    "deep nesting": (
        _deep(24, {"properties": {"a": {"additionalProperties": {"items": {"type": "integer"}}}}}),
        [
            _deep_list(24, {"a": {"b": [1, 2]}}),
            _deep_list(24, {"a": {"b": [1, "2"]}}),
            _deep_list(24, "x"),
            _deep_list(23, {"a": {"b": [1]}}),
            _deep_list(24, {"a": 1}),
        ],
    ),
    "recursive $ref": (
        {
            "$ref": "#/$defs/node",
            "$defs": {
                "node": {
                    "type": "object",
                    "properties": {"next": {"$ref": "#/$defs/node"}},
                    "additionalProperties": False,
                }
            },
        },
        [
            {},
            {"next": {}},
            {"next": {"next": {"next": {}}}},
            {"next": {"next": {"x": 1}}},
            {"next": 1},
            [],
        ],
    ),
}


@pytest.mark.parametrize(("schema", "instances"), CASES.values(), ids=CASES.keys())
def test_each_keyword_agrees_with_jsonschema(schema: Any, instances: list[Any]) -> None:
    compiled = compile_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    answers = [compiled(instance) for instance in instances]
    assert answers == [validator.is_valid(instance) for instance in instances]
    assert all(type(answer) is bool for answer in answers)


def test_every_case_has_a_valid_and_an_invalid_instance() -> None:
    """Else a case could not tell a check from one that always answers the same."""
    one_sided = {"true", "false", "annotations only", "then without if", "if alone"}
    one_sided |= {"uniqueItems false", "no types", "empty enum", "empty anyOf", "empty oneOf"}
    for name, (schema, instances) in CASES.items():
        validator = jsonschema.Draft202012Validator(schema)
        answers = {validator.is_valid(instance) for instance in instances}
        assert len(answers) == (1 if name in one_sided else 2), name


def test_a_ref_is_read_from_the_root_given() -> None:
    root = {"$defs": {"n": {"type": "integer"}}}
    check = compile_schema({"$ref": "#/$defs/n"}, root)
    assert (check(1), check("a")) == (True, False)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (1, "schema is not an object"),
        ([{"type": "string"}], "schema is not an object"),
        (
            {"$ref": "#/definitions/a", "definitions": {"a": {}}},
            "unsupported $ref '#/definitions/a'",
        ),
        ({"$ref": "#/$defs/a/b", "$defs": {"a": {"b": {}}}}, "unsupported $ref '#/$defs/a/b'"),
        ({"$ref": "other.json#/$defs/a"}, "unsupported $ref 'other.json#/$defs/a'"),
        ({"additionalProperties": False, "patternProperties": {"^a": {}}}, "patternProperties"),
        ({"items": [{"type": "string"}]}, "items as a list"),
        ({"prefixItems": [{"type": "string"}]}, "unsupported keyword 'prefixItems'"),
        ({"properties": {"a": {"format": "email"}}}, "unsupported keyword 'format'"),
        ({"type": "decimal"}, "unsupported type 'decimal'"),
        ({"$ref": "#/$defs/missing", "$defs": {}}, "$ref '#/$defs/missing' names no definition"),
        ({"$ref": "#/$defs/a~1b", "$defs": {"a/b": {}}}, "unsupported $ref '#/$defs/a~1b'"),
        ({"$ref": "#/$defs/a%25", "$defs": {"a%": {}}}, "unsupported $ref '#/$defs/a%25'"),
        ({"type": 5}, "cannot compile (TypeError: 'int' object is not iterable)"),
        (
            {"pattern": "("},
            "cannot compile (error: missing ), unterminated subpattern at position 0)",
        ),
        ({"required": ["a", 1]}, "a property name that is not a string"),
    ],
)
def test_what_the_compiler_refuses(schema: Any, message: str) -> None:
    with pytest.raises(CompileError) as info:
        compile_schema(schema)
    assert str(info.value) == message


def test_a_refused_schema_leaves_the_shared_compiler_whole() -> None:
    """The package's kinds share one compiler: a kind refused half way must not leave a $ref
    registered whose function was never written, for the next kind to call."""
    root = {
        "$defs": {
            "name": {"type": "string", "minLength": 1},
            "bad": {"properties": {"n": {"$ref": "#/$defs/name"}}, "prefixItems": []},
            "good": {"properties": {"n": {"$ref": "#/$defs/name"}}, "required": ["n"]},
        }
    }
    compiler = _Compiler(root)
    with pytest.raises(CompileError):
        compiler.build({"$ref": "#/$defs/bad"})
    good = compiler.build({"$ref": "#/$defs/good"})
    assert [good({"n": "x"}), good({"n": ""}), good({})] == [True, False, False]
    name = compiler.build({"$ref": "#/$defs/name"})  # built with good: shared, not written twice
    assert [name("x"), name("")] == [True, False]
    assert sum(line.startswith("def ") for line in compiler.source) == 2  # name and good
    with pytest.raises(CompileError):  # refused again, not a function that was never written
        compiler.build({"$ref": "#/$defs/bad"})
    # A malformed schema (not only an unsupported one) leaves it whole as well.
    with pytest.raises(CompileError):
        compiler.build({"properties": {"n": {"$ref": "#/$defs/good"}, "m": {"pattern": "("}}})
    assert good({"n": "x"}) and compiler.build({"$ref": "#/$defs/good"}) is good
