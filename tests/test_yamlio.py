"""Safe, deterministic YAML: every value reads back identically in YAML 1.1 and 1.2 readers."""

from __future__ import annotations

import io
from typing import Any

import pytest
import yaml as pyyaml
from ruamel.yaml import YAML

from generator import yamlio

TRICKY = [
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "Y",
    "N",
    "YES",
    "Off",
    "true",
    "False",
    "~",
    "null",
    "NULL",
    "",
    " ",
    "1.0",
    "0x1F",
    "1e3",
    "012",
    "0o17",
    "0b101",
    "1_000",
    "1:20",
    "2001-12-14",
    ".inf",
    "-.inf",
    ".NaN",
    "+1",
    "-1",
    "1.0.75",
    "100m",
    "10Gi",
    " padded ",
    "padded ",
    " padded",
    "a: b",
    "a:b",
    "a #b",
    "#comment",
    "- item",
    "? key",
    "[list]",
    "{map}",
    "&anchor",
    "*alias",
    "!tag",
    "|",
    ">",
    "'single'",
    '"double"',
    "%directive",
    "@at",
    "`tick`",
    "<<",
    "=",
    "...",
    "---",
    "multi\nline",
    "multi\nline\n",
    "trailing\n\n",
    "\nleading newline",
    "tab\there",
    "cr\rhere",
    "{{ not a template }}",
    "{% if x %}",
    "non-ASCII: café ☕ 日本語",
    "emoji 🚀",
    "line\u2028sep",
    "nel\x85here",
    "bom\ufeff",
    "ctrl\x01char",
    "back\\slash",
    "https://kubernetes.default.svc",
    "oci://ghcr.io/carverauto/charts",
    "unix:/run/spire/sockets/agent.sock",
    "key: value\nother: x",
    "  indented\nblock",
    "ends with colon:",
    "x" * 300,
]


def _read_pyyaml(text: str) -> Any:
    return pyyaml.safe_load(text)


def _read_ruamel(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(io.StringIO(text))


@pytest.mark.parametrize("value", TRICKY)
def test_strings_round_trip_in_both_readers(value: str) -> None:
    doc = {"key": value, "list": [value], "nested": {value or "empty": value}}
    text = yamlio.dump_document(doc, sort_keys=False)
    assert _read_pyyaml(text) == doc
    assert _read_ruamel(text) == doc


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("yes", '"yes"'),
        ("on", '"on"'),
        ("~", '"~"'),
        ("1.0", '"1.0"'),
        ("0x1F", '"0x1F"'),
        ("012", '"012"'),
        (" padded ", '" padded "'),
        ("a: b", '"a: b"'),
        ("{{ not a template }}", '"{{ not a template }}"'),
        ("plain-text", "plain-text"),
        ("https://kubernetes.default.svc", "https://kubernetes.default.svc"),
        (True, "true"),
        (None, "null"),
        (5, "5"),
        (1.5, "1.5"),
        (1e16, "1.0e+16"),
        (float("inf"), ".inf"),
    ],
)
def test_scalar_quoting(value: Any, expected: str) -> None:
    assert yamlio.scalar(value) == expected


def test_value_with_newline_and_colon_cannot_inject_keys() -> None:
    doc = {"a": "x\nb: injected", "c": "y: z"}
    text = yamlio.dump_document(doc)
    assert _read_pyyaml(text) == doc
    assert set(_read_pyyaml(text)) == {"a", "c"}


def test_numbers_and_booleans_keep_their_types() -> None:
    doc = {
        "int": 5,
        "float": 2.0,
        "neg": -3,
        "big": 10**20,
        "bool": False,
        "none": None,
        "small": 1e-7,
    }
    text = yamlio.dump_document(doc)
    assert _read_pyyaml(text) == doc
    assert _read_ruamel(text) == doc


def test_dump_is_sorted_and_stable() -> None:
    a = yamlio.dump_document({"b": 1, "a": {"d": [1, {"q": 1, "p": 2}], "c": {}}})
    b = yamlio.dump_document({"a": {"c": {}, "d": [1, {"p": 2, "q": 1}]}, "b": 1})
    assert a == b
    assert a == "a:\n  c: {}\n  d:\n    - 1\n    - p: 2\n      q: 1\nb: 1\n"


def test_yaml_1_1_boolean_keys_are_quoted() -> None:
    text = yamlio.dump_document({"y": 1, "on": 2, "no": 3})
    assert text == '"no": 3\n"on": 2\n"y": 1\n'
    assert _read_pyyaml(text) == {"y": 1, "on": 2, "no": 3}


def test_empty_collections_and_lists_of_lists() -> None:
    doc = {"m": {}, "l": [], "ll": [[1, 2], [], [{"a": []}]]}
    text = yamlio.dump_document(doc)
    assert _read_pyyaml(text) == doc
    assert _read_ruamel(text) == doc


def test_non_string_keys_are_refused() -> None:
    with pytest.raises(TypeError):
        yamlio.dump_document({1: "a"})


def test_load_reports_duplicate_keys_with_location() -> None:
    with pytest.raises(yamlio.YAMLLoadError) as info:
        yamlio.load("a: 1\nb: 2\na: 3\n")
    assert info.value.line == 3
    assert "duplicate key" in info.value.message


def test_load_is_yaml_1_2() -> None:
    assert yamlio.load("a: yes\nb: on\nc: 012\n") == {"a": "yes", "b": "on", "c": 12}


def test_yaml_1_2_flow_maps_with_urls_load() -> None:
    """libyaml's YAML 1.1 scanner refuses these; the spec is YAML 1.2, so they must load."""
    text = "chart: {repository: oci://ghcr.io/carverauto/charts, name: serviceradar}\n"
    text += "destination: {server: https://kubernetes.default.svc:6443}\n"
    assert yamlio.load(text) == {
        "chart": {"repository": "oci://ghcr.io/carverauto/charts", "name": "serviceradar"},
        "destination": {"server": "https://kubernetes.default.svc:6443"},
    }


def test_an_error_both_parsers_see_is_located() -> None:
    with pytest.raises(yamlio.YAMLLoadError) as info:
        yamlio.load("a: {b: [1,\n")
    assert info.value.line == 2 and "invalid YAML" in info.value.message
