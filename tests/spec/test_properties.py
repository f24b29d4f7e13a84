"""Property-based tests: random values survive the YAML round trip, random valid specs render, and
each environment's values are exactly the documented merge of its layers.

The fast paths (yamlio's event-based loader, fastschema's compiled checks) are compared here with
the libraries they stand in for, on random input.
"""

from __future__ import annotations

import copy
import io
import json
import math
import random
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml as pyyaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from generator import yamlemit, yamlio
from generator.render import plan as render
from generator.spec import model as spec
from generator.spec import validate as fastschema
from generator.spec.files import spec_schema

REPO = Path(__file__).resolve().parents[2]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

YAML_WORDS = [
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "Y",
    "NO",
    "true",
    "False",
    "~",
    "null",
    "Null",
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
    "2001-12-14 21:59:43",
    ".inf",
    "-.inf",
    ".NaN",
    "+1",
    "-0",
    "<<",
    "=",
    "...",
    "---",
    "- a",
    "? a",
    "a: b",
    "a:b",
    "a #b",
    "#c",
    "&a",
    "*a",
    "!t",
    "!!str",
    "|",
    ">",
    "%YAML 1.1",
    "@",
    "`",
    "{{ .Values.x }}",
    "{% raw %}",
    "{{",
    "}}",
    "key: value\nother: x",
    " lead",
    "trail ",
    "\ttab",
    "a\r\nb",
    "\u2028",
    "\x85",
    "\ufeff",
    "\x00",
    "\x7f",
    "é",
    "日本",
    "🚀",
    "\\",
    '"',
    "'",
]

_chars = st.characters(blacklist_categories=("Cs",))
texts = st.one_of(
    st.text(_chars, max_size=40),
    st.sampled_from(YAML_WORDS),
    st.lists(st.sampled_from(YAML_WORDS), min_size=2, max_size=6).map("".join),
    st.lists(st.sampled_from(YAML_WORDS), min_size=2, max_size=6).map(" ".join),
    st.builds(lambda s, n: (s or "x") * n, st.text(_chars, max_size=3), st.integers(1000, 60_000)),
)
# Keys stay under the length YAML readers accept for a key (see test_any_string_reads_back_exactly).
keys = texts.filter(lambda k: len(k) <= 200)
scalars = st.one_of(
    texts,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
)


def documents(keys: st.SearchStrategy[str] = keys, leaves: st.SearchStrategy[Any] = scalars) -> Any:
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)
        ),
        max_leaves=20,
    )


def read_pyyaml(text: str) -> Any:
    return pyyaml.load(text, Loader=getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader))


def read_ruamel(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(io.StringIO(text))


def same(a: Any, b: Any) -> bool:
    """Equality that also tells -0.0 from 0.0 and an int from a bool or a float, in keys too
    (Python finds the keys 1, True and 1.0 equal)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(ka, kb) and same(va, vb)
            for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


def _sorted(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _sorted(data[k]) for k in sorted(data)}
    if isinstance(data, list):
        return [_sorted(v) for v in data]
    return data


# --- the YAML round trip ---------------------------------------------------------------------


@FAST
@given(value=texts)
def test_any_string_reads_back_exactly(value: str) -> None:
    doc = {"key": value, "list": [value], "nested": {"k": value, "list": [{"k": value}]}}
    text = yamlemit.dump_document(doc, sort_keys=False)
    for read in (read_pyyaml, read_ruamel, yamlio.load):
        assert same(read(text), doc), (read.__name__, text[:200])
    as_key = {value: value, "list": [{value: 1, "k": 2}]}
    if (
        len(yamlemit.scalar(value) if "\n" not in value else yamlemit.quote(value))
        > yamlemit.MAX_KEY_CHARS
    ):
        with pytest.raises(ValueError, match="longer than YAML readers accept"):
            yamlemit.dump_document(as_key)
        return
    text = yamlemit.dump_document(as_key, sort_keys=False)
    for read in (read_pyyaml, read_ruamel, yamlio.load):
        assert same(read(text), as_key), (read.__name__, text[:200])


@FAST
@given(data=documents())
def test_any_document_reads_back_exactly(data: Any) -> None:
    text = yamlemit.dump_document(data)
    expected = _sorted(data)
    assert same(read_pyyaml(text), expected)
    assert same(read_ruamel(text), expected)
    assert same(yamlio.load(text), expected)


@FAST
@given(data=documents(), indent=st.integers(2, 10))
def test_inline_values_under_a_key_read_back(data: Any, indent: int) -> None:
    """The ``yaml(indent)`` filter as templates use it: ``key:`` then the filter's output."""
    pad = " " * (indent - 2)
    text = f"{pad}key:{yamlemit.dump_inline(data, indent)}\n"
    wrapped = ("outer:\n" + text) if indent > 2 else text
    loaded = read_pyyaml(wrapped)
    node = loaded["outer"]["key"] if indent > 2 else loaded["key"]
    assert same(node, data)


@FAST
@given(data=documents())
def test_fast_loader_equals_ruamel_on_any_style(data: Any) -> None:
    """PyYAML writes flow styles, single quotes and folded scalars our own dumper never uses."""
    for text in (
        pyyaml.safe_dump(data, allow_unicode=True, default_flow_style=None),
        pyyaml.safe_dump(data, allow_unicode=True, default_flow_style=True, width=20),
        json.dumps(data, ensure_ascii=False),
    ):
        try:
            slow = yamlio._load(text, "safe")
        except yamlio.YAMLLoadError:
            with pytest.raises(yamlio.YAMLLoadError):
                yamlio.load(text)
            continue
        try:
            fast = yamlio._fast_load(text)
        except yamlio._Fallback:
            continue
        assert same(fast.data, slow), text[:300]
        # What the fast path notices on its way equals what the walks over the slow result find.
        assert fast.unsafe_integers == yamlio.check_limits(slow)
        assert fast.string_keys == _only_string_keys(slow)


def _only_string_keys(node: Any) -> bool:
    if isinstance(node, dict):
        return all(type(k) is str and _only_string_keys(v) for k, v in node.items())
    if isinstance(node, list):
        return all(map(_only_string_keys, node))
    return True


# --- the compiled schema checks equal jsonschema -------------------------------------------------


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


_REPLACEMENTS = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    2**40,
    "",
    "x",
    "UPPER",
    "a b",
    "x" * 300,
    "https://h/p",
    [],
    [1, 1],
    ["a", "a"],
    {},
    {"k": 1},
    float("nan"),
]


def _mutate(data: Any, rng: random.Random) -> Any:
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(data))
        if not path:
            return copy.deepcopy(rng.choice(_REPLACEMENTS))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        roll = rng.random()
        if roll < 0.2 and isinstance(parent, dict):
            del parent[path[-1]]
        elif roll < 0.35 and isinstance(parent, dict):
            parent[rng.choice(["extra", "kind", "name", "spec"])] = copy.deepcopy(
                rng.choice(_REPLACEMENTS)
            )
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(_REPLACEMENTS))
    return data


def _rendered_objects() -> list[tuple[str, Any]]:
    objects = []
    for path in sorted((REPO / "rendered").rglob("*.yaml")):
        data = yamlio.load(path.read_text("utf-8"))
        kind = {"Chart.yaml": "Chart", "values.yaml": "Values"}.get(path.name) or data["kind"]
        objects.append((kind, data))
    return objects


def _spec_objects() -> list[tuple[str, Any]]:
    return [
        (
            "projectFile" if p.name == "_project.yaml" else "environmentFile",
            yamlio.load(p.read_text()),
        )
        for p in sorted((REPO / "environments").glob("*.yaml"))
    ]


@pytest.mark.parametrize(
    ("schema_of", "objects"),
    [
        (lambda: fastschema.package_schema("kinds"), _rendered_objects),
        (spec_schema, _spec_objects),
    ],
    ids=["kinds", "spec"],
)
def test_compiled_schema_agrees_with_jsonschema(schema_of: Any, objects: Any) -> None:
    schema = schema_of()
    rng = random.Random(20240601)
    cases = invalid = 0
    for kind, data in objects():
        ref = {"$ref": f"#/$defs/{kind}", "$defs": schema["$defs"]}
        fast = fastschema.compile_schema({"$ref": f"#/$defs/{kind}"}, schema)
        slow = jsonschema.Draft202012Validator(ref)
        for i in range(150):
            candidate = data if i == 0 else _mutate(data, rng)
            expected = slow.is_valid(candidate)
            assert fast(candidate) is expected, (kind, json.dumps(candidate, default=str)[:400])
            cases += 1
            invalid += not expected
    assert invalid > cases // 3  # the mutations really do produce invalid objects


# --- random valid specs render, and values follow the documented merge ---------------------------

ENV_NAMES = ["dev", "qa", "staging", "prod", "eu-1"]
APP_NAMES = ["web", "api", "db-migrate"]
value_keys = st.one_of(
    st.sampled_from(["a", "b", "c", "replicas", "image", "host"]),
    st.text(_chars, max_size=20),
    st.sampled_from(YAML_WORDS),
)
value_keys_top = value_keys.filter(lambda k: k != "global")


spec_texts = st.one_of(
    st.text(_chars, max_size=30),
    st.sampled_from(YAML_WORDS),
    st.builds(lambda s, n: (s or "x") * n, st.text(_chars, max_size=3), st.integers(100, 3000)),
)
_RAW_FORBIDDEN = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def as_spec_text(data: Any) -> str:
    """JSON (which is YAML) with the characters YAML does not allow raw escaped."""
    text = json.dumps(data, ensure_ascii=False)
    return _RAW_FORBIDDEN.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def layer(with_nulls: bool) -> st.SearchStrategy[dict[str, Any]]:
    leaves = st.one_of(
        spec_texts,
        st.integers(-(10**6), 10**6),
        st.booleans(),
        st.floats(allow_nan=False, allow_infinity=False),
    )
    if with_nulls:
        leaves = st.one_of(leaves, st.none())
    tree = st.recursive(
        leaves,
        lambda c: st.one_of(
            st.lists(leaves, max_size=3), st.dictionaries(value_keys, c, max_size=3)
        ),
        max_leaves=12,
    )
    return st.dictionaries(value_keys_top, tree, max_size=4)


# Built once: strategies built anew inside every draw made hypothesis see flaky generation.
LAYER = layer(with_nulls=True)


def documented_merge(base: Any, over: Any) -> Any:
    """README, "Merge rules": maps merge deeply and the later wins, lists are replaced whole, and
    null in a layer removes the key (nulls inside a map a layer brings in mean "absent")."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = copy.deepcopy(base)
        for key, value in over.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = documented_merge(out.get(key, _ABSENT), value)
        return out
    return _without_nulls(over)


_ABSENT = object()


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return copy.deepcopy(value)


@st.composite
def specs(draw: st.DrawFn) -> tuple[dict[str, str], dict[tuple[str, str], dict[str, Any]]]:
    envs = draw(st.lists(st.sampled_from(ENV_NAMES), min_size=1, max_size=4, unique=True))
    apps = draw(st.lists(st.sampled_from(APP_NAMES), min_size=1, max_size=3, unique=True))
    base = {app: draw(LAYER) for app in apps}  # base nulls reach Helm
    defaults = {app: draw(LAYER) for app in apps if draw(st.booleans())}
    per_env = {env: {app: draw(LAYER) for app in apps if draw(st.booleans())} for env in envs}
    project = {
        "project": {
            "name": "prop",
            "repoURL": "https://github.com/org/repo.git",
            "scm": {"provider": "github", "secretRef": "s", "appID": 1},
        },
        "apps": {
            app: {
                "chart": {
                    "repository": "oci://r.example/c",
                    "name": f"chart-{app}",
                    "version": "1.0.0",
                },
                "values": base[app],
            }
            for app in apps
        },
        "defaults": {"apps": {app: {"values": v} for app, v in defaults.items()}},
        "promotion": {"order": envs},
    }
    files = {"environments/_project.yaml": as_spec_text(project)}
    expected = {}
    for env in envs:
        overrides = {app: {"values": v} for app, v in per_env[env].items()}
        files[f"environments/{env}.yaml"] = as_spec_text({"namespace": env, "apps": overrides})
        for app in apps:
            merged = base[app]
            for over in (defaults.get(app, {}), per_env[env].get(app, {})):
                merged = documented_merge(merged, over)
            expected[(env, app)] = {f"chart-{app}": merged}
    return files, expected


def _check_rendered(files: dict[str, str], expected: dict[tuple[str, str], dict[str, Any]]) -> None:
    plan = render.render(spec.parse_spec(files))
    for path, text in plan.items():
        if path.endswith(".yaml"):
            assert read_pyyaml(text) == read_ruamel(text), path
    for (env, app), values in expected.items():
        text = plan[f"environments/{env}/{app}/values.yaml"]
        assert same(read_pyyaml(text), _sorted(values)), (env, app)
        assert same(read_ruamel(text), _sorted(values)), (env, app)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(case=specs())
def test_random_specs_render_and_values_are_the_documented_merge(case: Any) -> None:
    _check_rendered(*case)


@pytest.mark.slow
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(case=specs())
def test_random_specs_render_many(case: Any) -> None:
    _check_rendered(*case)


@pytest.mark.slow
@MANY
@given(data=documents())
def test_any_document_reads_back_exactly_many(data: Any) -> None:
    text = yamlemit.dump_document(data)
    assert same(read_pyyaml(text), _sorted(data))
    assert same(yamlio.load(text), _sorted(data))


# --- two merge cases the random specs found, kept as plain examples ------------------------------


def _values_of(base: dict[str, Any], env_values: dict[str, Any]) -> Any:
    project = {
        "project": {
            "name": "p",
            "repoURL": "https://github.com/o/r.git",
            "scm": {"provider": "github", "secretRef": "s", "appID": 1},
        },
        "apps": {
            "web": {
                "chart": {"repository": "oci://r/c", "name": "web", "version": "1.0.0"},
                "values": base,
            }
        },
        "promotion": {"order": ["dev"]},
    }
    files = {
        "environments/_project.yaml": json.dumps(project),
        "environments/dev.yaml": json.dumps(
            {"namespace": "dev", "apps": {"web": {"values": env_values}}}
        ),
    }
    return read_pyyaml(render.render(spec.parse_spec(files))["environments/dev/web/values.yaml"])[
        "web"
    ]


def test_null_inside_a_map_replacing_a_scalar_removes_the_key() -> None:
    assert _values_of({"a": 1}, {"a": {"b": None, "c": 2}}) == {"a": {"c": 2}}


def test_null_in_base_values_is_passed_to_helm() -> None:
    assert _values_of({"debug": None, "a": 1}, {}) == {"debug": None, "a": 1}


# --- the forked renderer gives exactly the sequential output and errors ----------------------------


def _synthetic_files(envs: int, apps: int) -> dict[str, str]:
    import sys

    sys.path.insert(0, str(REPO / "bench"))
    import synth

    files = {"environments/_project.yaml": synth.project_yaml(envs, apps)}
    for i in range(envs):
        files[f"environments/{synth.env_name(i)}.yaml"] = synth.environment_yaml(i, apps)
    return files


@pytest.mark.parametrize("broken", [None, "env-010", "env-070"])
def test_parallel_render_equals_sequential(
    monkeypatch: pytest.MonkeyPatch, broken: str | None
) -> None:
    files = _synthetic_files(80, 2)
    assert len(spec.parse_spec(files).environments) >= render.PARALLEL_FROM
    source = (REPO / "generator/render/templates/environment/README.md.j2").read_text()
    templates = {}
    if broken:  # a template error in the first or the second half
        templates["environment/README.md.j2"] = (
            f'{{% if env.name == "{broken}" %}}{{{{ nope }}}}{{% endif %}}' + source
        )

    def run(no_fork: str) -> Any:
        monkeypatch.setenv("GITOPS_GEN_NO_FORK", no_fork)
        try:
            return render.render(spec.parse_spec(files), templates)
        except Exception as e:
            return (type(e), str(e))

    parallel, sequential = run(""), run("1")
    assert parallel == sequential
    assert isinstance(parallel, tuple) == bool(broken)
