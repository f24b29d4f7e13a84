"""The merge rules: maps merge deeply and the later layer wins, lists are replaced whole, null removes."""

from __future__ import annotations

import pytest

from generator.spec.merge import deep_merge, set_path


def test_maps_merge_deeply_and_override_wins() -> None:
    base = {"a": {"b": 1, "c": 2}, "d": 3}
    assert deep_merge(base, {"a": {"c": 20, "e": 5}}) == {"a": {"b": 1, "c": 20, "e": 5}, "d": 3}


def test_lists_are_replaced_whole() -> None:
    assert deep_merge({"l": [1, 2, 3]}, {"l": [9]}) == {"l": [9]}


def test_null_removes_a_key() -> None:
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"b": None}}) == {"a": {"c": 2}}
    assert deep_merge({"a": {"b": 1}}, {"a": None}) == {}


def test_null_for_a_missing_key_is_a_no_op() -> None:
    assert deep_merge({"a": 1}, {"z": None, "m": {"n": None, "o": 1}}) == {"a": 1, "m": {"o": 1}}


def test_scalar_replaces_map_and_map_replaces_scalar() -> None:
    assert deep_merge({"a": {"b": 1}}, {"a": "x"}) == {"a": "x"}
    assert deep_merge({"a": "x"}, {"a": {"b": 1}}) == {"a": {"b": 1}}


def test_inputs_are_not_modified() -> None:
    base = {"a": {"b": [1], "d": {"e": 1}}, "x": None}
    override = {"a": {"c": 2, "d": None}, "x": {"y": None, "z": 1}}
    merged = deep_merge(base, override)
    assert merged == {"a": {"b": [1], "c": 2}, "x": {"z": 1}}
    assert base == {"a": {"b": [1], "d": {"e": 1}}, "x": None}
    assert override == {"a": {"c": 2, "d": None}, "x": {"y": None, "z": 1}}


def test_set_path_on_a_merged_map_leaves_every_layer_alone() -> None:
    """Merged maps share the parts a merge leaves as they were (one app's base values serve
    every environment), so setting the image tag in one environment copies the maps on its way."""
    base = {"image": {"repository": "nginx", "tag": "base"}, "deep": {"a": {"b": {"c": 1}}}}
    staging = deep_merge(base, {"replicas": 1})
    prod = deep_merge(base, {"replicas": 3})
    assert staging["image"] is base["image"]  # shared until written
    set_path(staging, ["image", "tag"], "v2")
    set_path(staging, ["deep", "a", "b", "c"], 2)
    assert base == {"image": {"repository": "nginx", "tag": "base"}, "deep": {"a": {"b": {"c": 1}}}}
    assert prod["image"] == {"repository": "nginx", "tag": "base"}
    assert prod["deep"] == {"a": {"b": {"c": 1}}}
    assert staging["image"] == {"repository": "nginx", "tag": "v2"}
    assert staging["deep"] == {"a": {"b": {"c": 2}}}


def test_set_path_creates_maps_and_refuses_scalars() -> None:
    data: dict = {"global": {"x": 1}}
    set_path(data, ["global", "imageTag"], "v1")
    set_path(data, ["image", "tag"], "v1")
    assert data == {"global": {"x": 1, "imageTag": "v1"}, "image": {"tag": "v1"}}
    with pytest.raises(TypeError):
        set_path({"image": "nginx"}, ["image", "tag"], "v1")


def test_the_readme_example() -> None:
    base = {
        "replicas": 2,
        "debug": True,
        "hosts": ["x.example", "y.example"],
        "image": {"repository": "r"},
    }
    defaults = {"replicas": 3}
    dev = {"debug": None, "hosts": ["a.example"]}
    result = deep_merge(deep_merge(base, defaults), dev)
    assert result == {"replicas": 3, "hosts": ["a.example"], "image": {"repository": "r"}}
