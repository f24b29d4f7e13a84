"""The line reader for plain block YAML reads exactly what ruamel reads, or leaves the text alone.

Its one rule: never give a different answer. Each test below compares it with ruamel's safe loader
(the loader every other path ends in) on generated documents, written in several styles, and on
those documents broken line by line. A text the reader takes must read the same in ruamel; a text
ruamel refuses must never be taken.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
import yaml as pyyaml
from hypothesis import given
from hypothesis import strategies as st

from generator import yamlblock, yamlemit, yamlio
from tests.spec.test_properties import FAST, YAML_WORDS, documents, same


def block_read(text: str) -> Any:
    data, _ = yamlblock.read(
        text,
        yamlio._plain_scalar,
        yamlio.MAX_DEPTH,
        yamlio.MAX_NODES,
        yamlio.MAX_SCALAR_CHARS,
        yamlio.MAX_SAFE_INTEGER,
    )
    return data


def ruamel(text: str) -> Any:
    return yamlio._load(text, "safe")


def agrees(text: str) -> bool:
    """The reader leaves ``text`` alone, or reads what ruamel reads (and ruamel reads it)."""
    try:
        ours = block_read(text)
    except (yamlblock.Unread, yamlio._Fallback):
        return False
    theirs = ruamel(text)  # raises if the reader took a text ruamel refuses
    assert same(ours, theirs), text[:400]
    return True


# Block documents in the styles people and tools write: our own emitter, PyYAML's block style at
# two indentations, lists indented under their key or not.
def styles(data: Any) -> list[str]:
    return [
        yamlemit.dump_document(data),
        yamlemit.dump_document(data, sort_keys=False),
        pyyaml.safe_dump(data, allow_unicode=True, default_flow_style=False, width=10_000),
        pyyaml.safe_dump(data, allow_unicode=True, default_flow_style=False, indent=4, width=10**4),
        "# a comment\n\n" + yamlemit.dump_document(data).replace("\n", "\n\n", 3),
    ]


@FAST
@given(data=documents())
def test_the_reader_agrees_with_ruamel_on_every_block_style(data: Any) -> None:
    for text in styles(data):
        agrees(text)


@FAST
@given(
    data=documents(
        keys=st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True),
        leaves=st.one_of(
            st.from_regex(r"[a-z0-9][a-z0-9./:-]{0,20}", fullmatch=True),
            st.integers(-(2**60), 2**60),
            st.booleans(),
            st.none(),
        ),
    )
)
def test_the_reader_takes_the_documents_it_is_for(data: Any) -> None:
    """Names, numbers, booleans and nulls in maps and lists: what spec files and objects hold."""
    text = yamlemit.dump_document(data)
    if isinstance(data, (dict, list)) and data:
        assert agrees(text), text


# Each breakage is something a person's edit or a template produces: a character YAML gives a
# meaning to, a line moved left or right, a line dropped or doubled, a tab, a trailing comment.
TOKENS = [
    *YAML_WORDS,
    ": ",
    " #",
    "- ",
    "-",
    "? ",
    "&a ",
    "*a",
    "!t ",
    "|",
    ">",
    "{",
    "}",
    "[",
    "]",
    ",",
    '"',
    "'",
    "\\",
    "\t",
    "%",
    "@",
    "`",
    "---",
    "...",
    "{}",
    "[]",
    "[a, b]",
    "[1, 2]",
    "~",
]


def broken(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    index = rng.randrange(len(lines))
    line = lines[index]
    what = rng.randrange(6)
    if what == 0 and line:
        at = rng.randrange(len(line) + 1)
        lines[index] = line[:at] + rng.choice(TOKENS) + line[at:]
    elif what == 1:
        lines[index] = " " * rng.choice([1, 2, 3, 4]) + line
    elif what == 2:
        lines[index] = line[rng.randrange(1, 4) :] if line.startswith("  ") else line
    elif what == 3:
        del lines[index]
    elif what == 4:
        lines.insert(index, line)
    else:
        lines[index] = line + rng.choice([" # note", ":", " :", ": x", "  ", " - a"])
    return "\n".join(lines)


@FAST
@given(data=documents(), seed=st.integers(0, 2**32))
def test_a_broken_document_is_read_as_ruamel_reads_it_or_left_alone(data: Any, seed: int) -> None:
    rng = random.Random(seed)
    for text in styles(data)[:3]:
        for _ in range(4):
            text = broken(text, rng)
            try:
                ours = block_read(text)
            except (yamlblock.Unread, yamlio._Fallback):
                continue
            try:
                theirs = ruamel(text)
            except yamlio.YAMLLoadError as e:
                pytest.fail(f"the reader took a text ruamel refuses ({e}):\n{text[:400]}")
            assert same(ours, theirs), text[:400]


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n  b: 2\n",  # deeper than the map, under no key
        "a:\n  b: 1\n c: 2\n",  # between two levels
        "- a\nb: 1\n",  # a map after a list at the same level
        "a: 1\n- b\n",  # a list after a key with a value
        "a: b\n  c\n",  # a multi-line plain scalar
        "a: b: c\n",  # a second colon
        "a: b #c\n",  # a trailing comment
        "a: &x 1\n",  # an anchor
        "a: !!str 1\n",  # a tag
        "a: |\n  x\n",  # a block scalar
        'a: "x\\ny"\n',  # an escape
        "a: {b: 1}\n",  # a flow map
        "a: [1, 2]\n",  # numbers in a flow list
        "a: 1\na: 2\n",  # a duplicate key
        "a:\tb\n",  # a tab
        "a: b\r\n",  # CR
        "--- \na: 1\n",  # a document marker
        "a: .inf\n",  # a number the fast loaders leave to ruamel
        "<<: {a: 1}\n",  # a merge key
        "- - a\n",  # a list in a list on one line
        "a: -\n",  # a lone dash
        "just a scalar\n",
        "# only a comment\n",
        "",
    ],
)
def test_what_the_reader_leaves_to_the_loaders(text: str) -> None:
    with pytest.raises((yamlblock.Unread, yamlio._Fallback)):
        block_read(text)


@pytest.mark.parametrize(
    ("text", "data"),
    [
        (
            "a: 1\nb:\n  c: [x, y.z]\n  d: []\n  e: {}\n",
            {"a": 1, "b": {"c": ["x", "y.z"], "d": [], "e": {}}},
        ),
        ("a:\n- b: 1\n  c: 2\n- 3\n-\n  d: 4\n-\n", {"a": [{"b": 1, "c": 2}, 3, {"d": 4}, None]}),
        ("'a''b': 'c''d'\n\"e f\": \"g: h\"\n", {"a'b": "c'd", "e f": "g: h"}),
        (
            "a: yes\nb: +12\nc: -1.5e3\nd: ~\ne:\nf: TRUE\n",
            {"a": "yes", "b": 12, "c": -1500.0, "d": None, "e": None, "f": True},
        ),
        (
            "a: http://x.example/p?q=1#frag\nb: -x\nc: a:b\n",
            {"a": "http://x.example/p?q=1#frag", "b": "-x", "c": "a:b"},
        ),
    ],
)
def test_what_the_reader_reads(text: str, data: Any) -> None:
    assert same(block_read(text), data)
    assert same(ruamel(text), data)


def test_lists_and_values_are_fresh_for_each_document() -> None:
    """Lines are kept between documents; the containers they hold must not be shared."""
    first, second = block_read("a: []\nb: {}\nc: [x]\n"), block_read("a: []\nb: {}\nc: [x]\n")
    first["a"].append(1)
    first["b"]["k"] = 1
    first["c"].append("y")
    assert second == {"a": [], "b": {}, "c": ["x"]}


def test_what_a_line_holds_is_noticed_on_every_read_of_it() -> None:
    """Lines are read once and kept: a big integer or a key that is not a string must still be
    noticed in every document that holds the line, not only the first."""
    text = f"a: {2**53}\nb:\n- {2**60}\n1: x\n"
    for _ in range(3):
        document = yamlio.load_document(text)
        assert document.unsafe_integers is True
        assert document.string_keys is False
    assert yamlio.load_document("a: 1\n").unsafe_integers is False
