"""Documents of a known shape: from the third document with the same lines but other values, the
line reader builds the data from what it learned instead of reading the nesting again.

The rule is the reader's own: never a different answer. Each test reads a document with what was
learned and without it (the shapes forgotten), and compares both with each other (data, and what
the reader noticed: integers beyond the safe range, string keys) and with ruamel.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator import yamlblock, yamlemit, yamlio
from tests.spec.test_properties import FAST, YAML_WORDS, documents, same


def read(text: str, **limits: int) -> tuple[Any, yamlblock.Result]:
    return yamlblock.read(
        text,
        yamlio._plain_scalar,
        limits.get("max_depth", yamlio.MAX_DEPTH),
        limits.get("max_nodes", yamlio.MAX_NODES),
        yamlio.MAX_SCALAR_CHARS,
        yamlio.MAX_SAFE_INTEGER,
    )


def read_afresh(text: str) -> tuple[Any, yamlblock.Result]:
    """``read`` as if no shape had been seen (and without remembering this one)."""
    saved = dict(yamlblock._shapes)
    yamlblock._shapes.clear()
    try:
        return read(text)
    finally:
        yamlblock._shapes.clear()
        yamlblock._shapes.update(saved)


def learned(text: str) -> bool:
    """A shape was learned for ``text``: the next document of its shape is built, not read."""
    shape = tuple(
        info[0]
        for raw in text.split("\n")
        if (info := yamlblock._raw_lines[raw]) is not yamlblock._BLANK
    )
    return type(yamlblock._shapes.get(shape)) is yamlblock._Shape


@pytest.fixture(autouse=True)
def no_shapes_yet() -> Iterator[None]:
    yamlblock._shapes.clear()
    yield
    yamlblock._shapes.clear()


def agrees_both_ways(text: str) -> bool:
    """The reader leaves ``text`` alone both ways, or reads it the same both ways and as ruamel
    does; True when it read it."""
    try:
        data, seen = read(text)
    except (yamlblock.Unread, yamlio._Fallback):
        with pytest.raises((yamlblock.Unread, yamlio._Fallback)):
            read_afresh(text)
        return False
    fresh, fresh_seen = read_afresh(text)
    assert same(data, fresh), text
    assert (seen.nodes, seen.unsafe, seen.string_keys) == (
        fresh_seen.nodes,
        fresh_seen.unsafe,
        fresh_seen.string_keys,
    ), text
    assert same(data, yamlio._load(text, "safe")), text
    return True


# Values a line can hold without changing its shape (any scalar), and some that change it.
_VALUES: list[Any] = [
    *YAML_WORDS,
    "",
    "a: b",
    "#x",
    "- x",
    "[a]",
    "it's",
    'say "hi"',
    "ünïcode",
    0,
    -1,
    2**53 - 1,
    2**53,
    -(2**60),
    0.5,
    -0.0,
    1e300,
    float("inf"),
    True,
    False,
    None,
    {},
    [],
    ["a", "b"],
]


def vary(data: Any, rng: random.Random) -> Any:
    """``data`` with the same keys and nesting, and other values."""
    if isinstance(data, dict):
        return {key: vary(value, rng) for key, value in data.items()}
    if isinstance(data, list) and data:
        return [vary(item, rng) for item in data]
    return rng.choice(_VALUES)


@FAST
@given(data=documents(), seed=st.integers(0, 2**32))
def test_documents_of_one_shape_read_as_they_do_alone(data: Any, seed: int) -> None:
    yamlblock._shapes.clear()
    rng = random.Random(seed)
    texts = [yamlemit.dump_document(data)] * 2
    texts += [yamlemit.dump_document(vary(data, rng)) for _ in range(6)]
    if agrees_both_ways(texts[0]) and agrees_both_ways(texts[1]):
        assert learned(texts[0]), texts[0]  # the rest of this test reads with what was learned
    for text in texts[2:]:
        agrees_both_ways(text)


def test_the_third_document_of_a_shape_is_built_from_what_was_learned() -> None:
    first = "name: a\nimage:\n  tag: v1\n  pullPolicy: Always\nports:\n  - 80\n  - name: x\n"
    second = first.replace("v1", "v2").replace("80", "'81'")
    third = first.replace("name: a", "name: 7").replace("Always", "~")
    assert agrees_both_ways(first) and not learned(first)
    assert agrees_both_ways(second) and learned(first)
    assert agrees_both_ways(third)
    assert read(third)[0] == {
        "name": 7,
        "image": {"tag": "v1", "pullPolicy": None},
        "ports": [80, {"name": "x"}],
    }


def test_an_integer_beyond_the_safe_range_is_noticed_on_every_read() -> None:
    safe, unsafe = "a: 1\nb:\n  - c: 2\n", "a: 1\nb:\n  - c: 9007199254740993\n"
    for text in (safe, safe, unsafe, safe, unsafe):
        assert agrees_both_ways(text)
    assert learned(safe)
    assert read(unsafe)[1].unsafe and not read(safe)[1].unsafe


def test_values_that_are_containers_are_made_anew_for_each_document() -> None:
    text = "a: {}\nb: []\nc: [x, y]\nd:\n  - {}\n"
    for _ in range(3):
        read(text)
    assert learned(text)
    one, two = read(text)[0], read(text)[0]
    one["a"]["k"] = 1
    one["b"].append(1)
    one["c"].append("z")
    one["d"][0]["k"] = 1
    assert two == {"a": {}, "b": [], "c": ["x", "y"], "d": [{}]}


@pytest.mark.parametrize(
    "keys",
    [
        ("1", "true", "'1'", "1.0"),  # the same value to Python (1 == True == 1.0), not to YAML
        ("0.0", "-0.0"),
        ("null", "~", "'null'"),
    ],
)
def test_keys_that_python_finds_equal_are_different_shapes(keys: tuple[str, ...]) -> None:
    for key in keys * 3:
        assert agrees_both_ways(f"{key}: a\nb: c\n")


def test_a_list_of_words_of_another_length_is_another_shape() -> None:
    for text in ["a: [x]\n", "a: [x]\n", "a: [x, y]\n", "a: [x, y, z]\n", "a: [y]\n"]:
        assert agrees_both_ways(text)


def test_list_entries_that_start_a_map_at_another_column_are_another_shape() -> None:
    for text in ["- a: 1\n  b: 2\n"] * 2 + ["-   a: 1\n    b: 2\n", "- a: 3\n  b: 4\n"]:
        assert agrees_both_ways(text)
    assert read("-   a: 1\n    b: 2\n")[0] == [{"a": 1, "b": 2}]
    # Here the map starts at column 4, so "b" at column 2 is under none of it: not read.
    assert not agrees_both_ways("-   a: 1\n  b: 2\n")


def test_a_learned_shape_still_keeps_the_limits() -> None:
    text = "a:\n  b:\n    c: 1\n"
    for _ in range(3):
        read(text)
    assert learned(text)
    assert read(text, max_depth=2)[0] == {"a": {"b": {"c": 1}}}
    with pytest.raises(yamlblock.Unread):
        read(text, max_depth=1)
    with pytest.raises(yamlblock.Unread):
        read(text, max_nodes=3)


def test_a_document_that_is_not_read_is_never_learned() -> None:
    text = "a: 1\na: 2\n"  # a duplicate key: ruamel's loader words the error
    for _ in range(3):
        with pytest.raises(yamlblock.Unread):
            read(text)
    assert yamlblock._shapes == {}
