"""Safe, deterministic YAML: every value reads back identically in YAML 1.1 and 1.2 readers."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import yaml as pyyaml
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from generator import yamlemit, yamlio
from generator.yamlspans import Locator

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
    text = yamlemit.dump_document(doc, sort_keys=False)
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
    assert yamlemit.scalar(value) == expected


def test_value_with_newline_and_colon_cannot_inject_keys() -> None:
    doc = {"a": "x\nb: injected", "c": "y: z"}
    text = yamlemit.dump_document(doc)
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
    text = yamlemit.dump_document(doc)
    assert _read_pyyaml(text) == doc
    assert _read_ruamel(text) == doc


def test_dump_is_sorted_and_stable() -> None:
    a = yamlemit.dump_document({"b": 1, "a": {"d": [1, {"q": 1, "p": 2}], "c": {}}})
    b = yamlemit.dump_document({"a": {"c": {}, "d": [1, {"p": 2, "q": 1}]}, "b": 1})
    assert a == b
    assert a == "a:\n  c: {}\n  d:\n    - 1\n    - p: 2\n      q: 1\nb: 1\n"


def test_yaml_1_1_boolean_keys_are_quoted() -> None:
    text = yamlemit.dump_document({"y": 1, "on": 2, "no": 3})
    assert text == '"no": 3\n"on": 2\n"y": 1\n'
    assert _read_pyyaml(text) == {"y": 1, "on": 2, "no": 3}


def test_empty_collections_and_lists_of_lists() -> None:
    doc = {"m": {}, "l": [], "ll": [[1, 2], [], [{"a": []}]]}
    text = yamlemit.dump_document(doc)
    assert _read_pyyaml(text) == doc
    assert _read_ruamel(text) == doc


def test_non_string_keys_are_refused() -> None:
    with pytest.raises(TypeError):
        yamlemit.dump_document({1: "a"})


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


# --- locating a path in the text, for error messages ---------------------------------------------

_keys = st.text(alphabet="abcé1 -_:", min_size=1, max_size=6)
_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.text(alphabet="xyz: #é\n", max_size=5)
)
_documents = st.recursive(
    _leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=25,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Any:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


@settings(max_examples=300, deadline=None)
@given(data=_documents, flow=st.booleans())
def test_the_locator_finds_what_the_round_trip_loader_finds(data: Any, flow: bool) -> None:
    """Positions read from parser events equal those of a whole round-trip document."""
    text = json.dumps(data, ensure_ascii=False) if flow else yamlemit.dump_document(data, False)
    document = yamlio.load_located(text)
    locator = Locator(text)
    for path in [*_paths(data), ("missing",), (0, "missing")]:
        for at_key in (False, True):
            assert locator.locate(path, at_key) == yamlio.locate(document, path, at_key), path


def test_the_locator_follows_aliases_and_merge_keys() -> None:
    text = (
        "base: &base\n"
        "  image: {tag: v1}\n"
        "  port: 80\n"
        "copy: *base\n"
        "merged:\n"
        "  <<: *base\n"
        "  extra: 1\n"
        "listed:\n"
        "  <<: [*base]\n"
    )
    locator = Locator(text)
    assert locator.locate(("copy",)) == (4, 1)  # a map: at its key
    assert locator.locate(("copy", "image", "tag")) == (2, 16)  # where the value is written
    assert locator.locate(("merged", "port")) == (3, 9)
    assert locator.locate(("merged", "extra")) == (7, 10)
    assert locator.locate(("listed", "image"), at_key=True) == (2, 3)
    assert locator.locate(("merged", "nothing")) == (5, 1)


def test_the_locator_reads_the_text_only_as_far_as_it_must() -> None:
    text = "first: 1\n" + "".join(f"k{i}: {i}\n" for i in range(10_000))
    locator = Locator(text)
    assert locator.locate(("first",)) == (1, 8)
    assert len(locator._nodes) < 5
    assert locator.locate(("k9999",), at_key=True) == (10_001, 1)
    assert locator.locate(("k5",)) == (7, 5)  # from what it kept


def test_the_locator_reads_yaml_1_2_that_libyaml_refuses() -> None:
    text = "chart: {repository: oci://ghcr.io/x/charts, name: x}\nversion: [1, 2]\n"
    assert Locator(text).locate(("version", 1)) == (2, 14)
    assert Locator(text).locate(("chart", "name")) == (1, 51)


@pytest.mark.parametrize(
    ("text", "unsafe", "string_keys"),
    [
        ("a: 1\nb: [x, {c: 2}]\n", False, True),
        (f"a: {2**53 - 1}\nb: {-(2**53 - 1)}\n", False, True),
        (f"a: {2**53}\n", True, True),
        (f"a: [{-(2**53)}]\n", True, True),
        (f'a: "{2**53}"\n', False, True),  # quoted: a string, passed exactly
        ("1: a\n", False, False),
        ("a: {true: b}\n", False, False),
        ("a: {null: b}\n", False, False),
        ('"1": a\n', False, True),
    ],
)
def test_the_fast_path_notices_big_integers_and_keys_that_are_not_strings(
    text: str, unsafe: bool, string_keys: bool
) -> None:
    """The fast loader checks the limits while it builds the document (no walk afterwards)."""
    document = yamlio._fast_load(text)
    assert document.data == yamlio._load(text, "safe")
    assert document.unsafe_integers is unsafe
    assert document.string_keys is string_keys
    assert yamlio.load_document(text) == document


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "x" * (yamlio.MAX_SCALAR_CHARS + 1) + "\n",  # a string over the limit
        "[" * (yamlio.MAX_DEPTH + 2) + "]" * (yamlio.MAX_DEPTH + 2) + "\n",  # too deep
        "a: &x 1\nb: *x\n",  # an alias
    ],
)
def test_the_fast_path_leaves_limits_and_aliases_to_ruamel(text: str) -> None:
    """Over a limit, the fast path hands over, and the refusal is worded by the limits walk."""
    with pytest.raises((yamlio._Fallback, yamlio.YAMLLoadError)):
        yamlio._fast_load(text)


def test_a_document_over_the_node_limit_is_refused_with_the_walk_s_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(yamlio, "MAX_NODES", 5)
    with pytest.raises(yamlio._Fallback):
        yamlio._fast_load("[1, 2, 3, 4, 5]\n")
    with pytest.raises(yamlio.YAMLLoadError, match="more than 5 nodes"):
        yamlio.load_document("[1, 2, 3, 4, 5]\n")
    assert yamlio._fast_load("[1, 2, 3, 4]\n").data == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "text", ["a: 1\n" + "b: x\n" * 1_800_000, "[" + "1, " * 3_000_000 + "1]\n"]
)
def test_the_size_limit_holds_on_every_path(text: str) -> None:
    """A spec read from a git revision reaches the loader unmeasured: the loader refuses it."""
    assert len(text.encode()) > yamlio.MAX_FILE_BYTES
    with pytest.raises(yamlio.YAMLLoadError, match="larger than 8 MiB"):
        yamlio.load_document(text)
