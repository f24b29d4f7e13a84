"""Layering as a user writes it: image.tagPath of any depth, and deep_merge's edges."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from generator.spec.merge import deep_merge, set_path
from generator.spec.model import load_spec

SPEC = {
    "environments/_project.yaml": """\
project:
  name: shop
  repoURL: https://gitlab.example.com/example/shop-gitops.git
  scm: {{provider: gitlab, secretRef: gitlab-token, projectId: 42}}
apps:
  web:
    chart:
      repository: https://charts.example.com
      name: web
      version: 2.1.0
    image: {{tag: v1.2.3, tagPath: {tag_path}, pullPolicyPath: {policy_path}}}
    values: {{replicas: 2}}
promotion:
  order: [dev]
""",
    "environments/dev.yaml": "namespace: shop-dev\ndestination: {{name: dev-cluster}}\n",
}


def _web_values(build_tree: Callable[..., Path], tag_path: str, policy_path: str) -> object:
    files = {
        name: text.format(tag_path=tag_path, policy_path=policy_path) for name, text in SPEC.items()
    }
    (dev,) = load_spec(build_tree(files)).environments
    return dev.apps[0].values


def test_a_deep_tag_path_creates_every_map_on_the_way(build_tree: Callable[..., Path]) -> None:
    values = _web_values(build_tree, "deploy.image.tag", "deploy.image.pullPolicy")
    assert values == {
        "web": {
            "replicas": 2,
            "deploy": {"image": {"tag": "v1.2.3", "pullPolicy": "IfNotPresent"}},
        }
    }


def test_a_one_key_tag_path_sets_a_top_level_value(build_tree: Callable[..., Path]) -> None:
    values = _web_values(build_tree, "imageTag", "global.pullPolicy")
    assert values == {
        "global": {"pullPolicy": "IfNotPresent"},
        "web": {"replicas": 2, "imageTag": "v1.2.3"},
    }


def test_set_path_at_each_depth() -> None:
    data: dict = {"a": {"keep": 1}}
    set_path(data, ["top"], 1)
    set_path(data, ["a", "b", "c"], 3)
    assert data == {"top": 1, "a": {"keep": 1, "b": {"c": 3}}}
    with pytest.raises(TypeError):
        set_path({"a": {"b": [1]}}, ["a", "b", "c"], 1)


def test_null_inside_a_new_map_and_inside_a_replaced_scalar_means_absent() -> None:
    assert deep_merge({"a": 1}, {"m": {"n": {"o": None, "p": 2}}}) == {"a": 1, "m": {"n": {"p": 2}}}
    assert deep_merge({"a": 1}, {"a": {"b": None, "c": 1}}) == {"a": {"c": 1}}
    assert deep_merge(None, {"a": None, "b": [1, None]}) == {"b": [1, None]}


def test_only_the_maps_a_layer_changes_are_new() -> None:
    """The merge shares what it leaves as it was, and builds a new map for every map it changes,
    so neither input is ever changed (set_path copies on its way: test_merge.py)."""
    base = {"a": [{"b": [1]}], "m": {"n": {"o": 1}, "p": {"q": 1}}}
    merged = deep_merge(base, {"x": 1, "m": {"n": {"o": 2}}})
    assert merged == {"a": [{"b": [1]}], "m": {"n": {"o": 2}, "p": {"q": 1}}, "x": 1}
    assert merged is not base and merged["m"] is not base["m"]
    assert merged["a"] is base["a"] and merged["m"]["p"] is base["m"]["p"]
    assert base == {"a": [{"b": [1]}], "m": {"n": {"o": 1}, "p": {"q": 1}}}
    assert deep_merge(base, {}) is base
    override = {"new": {"deep": [1], "gone": None}}
    merged = deep_merge({}, override)
    assert merged == {"new": {"deep": [1]}}
    assert merged["new"]["deep"] is override["new"]["deep"]
    assert override == {"new": {"deep": [1], "gone": None}}


def test_an_override_map_is_shared_unless_it_holds_a_null() -> None:
    """A map that arrives through an override is kept as it is when it has no null at any depth;
    one null anywhere in it means a new map without it (and without it only)."""
    clean = {"a": {"b": [1, None], "c": {"d": 1}}}
    merged = deep_merge({"x": 1}, {"new": clean})
    assert merged["new"] is clean
    dirty = {"a": {"b": [1, None], "c": {"d": None, "e": 2}}, "f": {"g": 1}}
    merged = deep_merge({"x": 1}, {"new": dirty})
    assert merged["new"] == {"a": {"b": [1, None], "c": {"e": 2}}, "f": {"g": 1}}
    assert merged["new"] is not dirty and merged["new"]["f"] is dirty["f"]
    assert dirty["a"]["c"] == {"d": None, "e": 2}
    assert deep_merge(1, {"a": None, "b": {"c": None}}) == {"b": {}}
