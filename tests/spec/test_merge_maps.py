"""The merge rules for maps that are not plain dicts, and for values YAML never gives.

The loaders give plain dicts, and the merge tests them first (a plain dict is the one case that
matters for speed). Any other ``Mapping`` still merges as a map, and is copied into a plain dict;
anything that is not a map is replaced whole.
"""

from __future__ import annotations

from types import MappingProxyType

from generator.spec.merge import NotAMapError, deep_merge


def test_a_mapping_that_is_not_a_dict_merges_key_by_key() -> None:
    base = MappingProxyType({"a": 1, "b": {"c": 2}})
    assert deep_merge(base, {"b": {"d": 3}}) == {"a": 1, "b": {"c": 2, "d": 3}}
    assert deep_merge({"b": {"c": 2}}, MappingProxyType({"b": {"d": 3}})) == {"b": {"c": 2, "d": 3}}


def test_a_mapping_inside_an_override_is_copied_into_a_plain_dict() -> None:
    inner = MappingProxyType({"a": 1, "gone": None})
    merged = deep_merge({}, {"x": {"y": inner}})
    assert merged == {"x": {"y": {"a": 1}}}
    assert type(merged["x"]["y"]) is dict
    clean = deep_merge({}, {"x": {"y": MappingProxyType({"a": 1})}})
    assert type(clean["x"]["y"]) is dict  # even with no null to remove


def test_values_that_are_not_maps_replace_the_base_whole() -> None:
    assert deep_merge({"a": (1, 2)}, {"a": (3,)}) == {"a": (3,)}
    assert deep_merge({"a": {"b": 1}}, {"a": b"raw"}) == {"a": b"raw"}
    assert deep_merge({"a": b"raw"}, {"a": {"b": 1}}) == {"a": {"b": 1}}


def test_the_error_names_the_dotted_path() -> None:
    error = NotAMapError(("image", "tag"))
    assert str(error) == "image.tag" and error.path == ("image", "tag")
