"""Comparing data, and the text, markdown and JSON reports (with the markdown size limit)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.diff.compare import Diff, Section, Side, compare_trees
from generator.diff.data import MISSING, Change, compare_data
from generator.diff.facts import SummaryItem
from generator.diff.files import ObjectDiff
from generator.diff.markdown import MARKER, format_markdown, md_code
from generator.diff.report import format_json, format_text
from generator.diff.wording import show_value
from generator.git.revisions import Tree
from generator.render.plan import render
from generator.spec.model import parse_spec
from tests.conftest import git, write_tree


def changes(before: Any, after: Any) -> list[tuple[str, Any, Any]]:
    return [(c.path, c.before, c.after) for c in compare_data(before, after)]


# --- compare_data -------------------------------------------------------------------------------


def test_key_order_never_counts() -> None:
    assert changes({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"d": 3, "c": 2}, "a": 1}) == []


def test_values_compare_as_typed_data() -> None:
    assert changes({"a": 1}, {"a": 1.0}) == []
    assert changes({"a": True}, {"a": "true"}) == [("a", True, "true")]
    assert changes({"a": 1}, {"a": True}) == [("a", 1, True)]
    assert changes({"a": "5"}, {"a": 5}) == [("a", "5", 5)]
    assert changes({"a": None}, {"a": None}) == []


def test_added_and_removed_subtrees_list_every_leaf() -> None:
    assert changes({"a": 1}, {"a": 1, "b": {"c": {"d": 1}, "e": []}}) == [
        ("b.c.d", MISSING, 1),
        ("b.e", MISSING, []),
    ]
    assert changes({"x": {"y": "z"}}, {}) == [("x.y", "z", MISSING)]


def test_a_list_of_scalars_is_one_value() -> None:
    assert changes({"ports": [22, 80]}, {"ports": [22, 80, 443]}) == [
        ("ports", [22, 80], [22, 80, 443])
    ]
    assert changes({"ports": [22, 80]}, {"ports": [22, 80]}) == []


def test_list_items_match_by_name_key_or_branch() -> None:
    before = {"deps": [{"name": "a", "version": "1"}, {"name": "b", "version": "1"}]}
    after = {"deps": [{"name": "b", "version": "2"}, {"name": "a", "version": "1"}]}
    assert changes(before, after) == [("deps[name=b].version", "1", "2")]
    envs = {"environments": [{"branch": "env/a", "autoMerge": True}]}
    more = {
        "environments": [
            {"branch": "env/a", "autoMerge": True},
            {"branch": "env/b", "autoMerge": False},
        ]
    }
    assert changes(envs, more) == [("environments[branch=env/b].autoMerge", MISSING, False)]


def test_list_items_without_a_key_match_by_position() -> None:
    before = {"ignore": [{"kind": "PVC", "jsonPointers": ["/status"]}]}
    after = {"ignore": [{"kind": "PVC", "jsonPointers": ["/spec"]}, {"kind": "Secret"}]}
    assert changes(before, after) == [
        ("ignore[0].jsonPointers", ["/status"], ["/spec"]),
        ("ignore[1].kind", MISSING, "Secret"),
    ]


def test_paths_quote_keys_with_dots() -> None:
    assert changes({"annotations": {"a.b/c": "1"}}, {"annotations": {"a.b/c": "2"}}) == [
        ('annotations["a.b/c"]', "1", "2")
    ]


def test_normalizers_and_ignored_paths() -> None:
    before = {"name": "web-staging", "env": "staging", "description": "in staging", "host": "a"}
    after = {"name": "web-prod", "env": "prod", "description": "in prod", "host": "b"}
    names_a = {"web-staging": "web-<env>", "staging": "<env>"}
    names_b = {"web-prod": "web-<env>", "prod": "<env>"}
    found = compare_data(
        before,
        after,
        lambda v: names_a.get(v, v),
        lambda v: names_b.get(v, v),
        frozenset({"description"}),
    )
    assert found == [Change("host", "a", "b")]


# --- values and code spans ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("1.0.75", "1.0.75"),
        ("v1.0.76", "v1.0.76"),
        ("true", '"true"'),
        ("5", '"5"'),
        ("1e3", '"1e3"'),
        ("", '""'),
        (" padded", '" padded"'),
        ("two\nlines", '"two\\nlines"'),
        ("\x1b[31mred", '"\\u001b[31mred"'),
        (True, "true"),
        (None, "null"),
        (5, "5"),
        ([22, 80], "[22, 80]"),
        ({"a": "b"}, '{"a": "b"}'),
        ("x" * 500, "x" * 159 + "…"),
    ],
)
def test_show_value(value: Any, shown: str) -> None:
    assert show_value(value) == shown


def test_md_code_survives_backticks_and_pipes() -> None:
    assert md_code("a|b") == "`a|b`"
    assert md_code("a|b", table=True) == "`a\\|b`"
    assert md_code("a`b") == "`` a`b ``"
    assert md_code("a``b") == "``` a``b ```"


# --- a synthetic project: many environments, one change that touches all of them ---------------


def synthetic_spec(
    envs: int, apps: int = 1, version: str = "1.0.0", replicas: int = 2
) -> dict[str, str]:
    """A spec with ``envs`` environments and ``apps`` apps, built in memory."""
    lines = [
        "project:",
        "  name: big",
        "  repoURL: https://github.com/example/big-gitops.git",
        "  scm: {provider: github, secretRef: scm, appID: 1}",
        "apps:",
    ]
    for a in range(apps):
        lines += [
            f"  app{a:02d}:",
            "    chart:",
            "      repository: oci://ghcr.io/example/charts",
            f"      name: app{a:02d}",
            f"      version: {version}",
            "    image:",
            f"      tag: v{version}",
            f"    values: {{replicas: {replicas}, ingress: {{host: app{a}.example.com}}}}",
        ]
    lines += ["promotion:", "  order: [" + ", ".join(f"env{e:03d}" for e in range(envs)) + "]"]
    files = {"environments/_project.yaml": "\n".join(lines) + "\n"}
    for e in range(envs):
        files[f"environments/env{e:03d}.yaml"] = f"namespace: ns{e:03d}\n"
    return files


def synthetic_tree(label: str, files: dict[str, str]) -> Tree:
    spec = parse_spec(files)
    return Tree(label, None, render(spec), spec)


@pytest.fixture(scope="module")
def wide_diff() -> Any:
    base = synthetic_tree("main", synthetic_spec(300))
    head = synthetic_tree("change", synthetic_spec(300, version="1.0.1", replicas=3))
    return compare_trees(base, head)


def test_a_change_to_300_environments_stays_under_the_limit(wide_diff: Any) -> None:
    assert len(wide_diff.environments) == 300
    assert all(s.status == "changed" for s in wide_diff.environments)
    full = format_markdown(wide_diff, max_chars=10_000_000)
    assert len(full) > 65_000
    assert "Truncated" not in full
    assert full.count("<details>") == 300

    text = format_markdown(wide_diff)
    assert len(text) <= 65_000
    # The summary is whole: each headline change once, with every environment counted.
    assert "| `app00` chart version | `1.0.0` | `1.0.1` | `env000`," in text
    assert "and 292 more |" in text
    assert "300 of 300 environments change" in text
    # The details stop at a section boundary or are cut short, and the note says what is missing.
    shown = text.count("<details>")
    assert 0 < shown < 300
    assert text.count("<details>") == text.count("</details>")
    note = text[text.index("> **Truncated**") :]
    assert "to stay under 65,000 characters" in note
    left_out = 300 - shown
    cut = "are cut short" in note
    assert f"{left_out} of 300 sections are left out" in note or (cut and left_out == 0)
    assert "`gitops-gen diff --env ENV`" in note


@pytest.mark.parametrize("limit", [2_000, 2_500, 7_777, 20_000, 64_999])
def test_markdown_never_exceeds_the_limit(wide_diff: Any, limit: int) -> None:
    text = format_markdown(wide_diff, max_chars=limit)
    assert len(text) <= limit
    assert text.startswith(MARKER)
    assert "| `app00` chart version |" in text
    assert "> **Truncated**" in text


def test_a_summary_too_big_for_the_limit_is_cut_with_a_note() -> None:
    base_files = synthetic_spec(120)
    head_files = dict(base_files)
    for e in range(120):  # a different image tag in each environment: 120 distinct summary rows
        head_files[f"environments/env{e:03d}.yaml"] = (
            f"namespace: ns{e:03d}\napps:\n  app00:\n    image: {{tag: v9.0.{e}}}\n"
        )
    diff = compare_trees(synthetic_tree("a", base_files), synthetic_tree("b", head_files))
    assert len(diff.summary_rows()) == 120
    text = format_markdown(diff, max_chars=3_000)
    assert len(text) <= 3_000
    assert "more summary rows left out to stay under the size limit" in text


def test_text_is_coloured_only_when_asked(wide_diff: Any) -> None:
    plain = format_text(wide_diff)
    coloured = format_text(wide_diff, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[33m~ replicas" not in coloured  # paths live under the chart's name
    assert "\x1b[33m~ app00.replicas: 2 → 3\x1b[0m" in coloured
    assert "  app00 chart version: 1.0.0 → 1.0.1  [env000, env001" in plain


def test_json_shape(wide_diff: Any) -> None:
    data = json.loads(format_json(wide_diff))
    assert set(data) == {
        "mode",
        "base",
        "head",
        "changed",
        "notes",
        "summary",
        "environments",
        "bootstrap",
    }
    assert data["mode"] == "revisions" and data["changed"] is True
    assert data["base"] == {"label": "main", "commit": None, "drySha": None}
    first = data["summary"][0]
    assert first == {
        "kind": "chart-version",
        "subject": "app00",
        "before": "1.0.0",
        "after": "1.0.1",
        "environments": [f"env{e:03d}" for e in range(300)],
    }
    env = data["environments"][0]
    assert set(env) == {"name", "status", "readmeChanged", "summary", "objects"}
    values = next(o for o in env["objects"] if o["id"] == "app00/values.yaml")
    assert values == {
        "id": "app00/values.yaml",
        "kind": "values",
        "status": "changed",
        "note": None,
        "changes": [
            {"path": "app00.image.tag", "op": "changed", "before": "v1.0.0", "after": "v1.0.1"},
            {"path": "app00.replicas", "op": "changed", "before": 2, "after": 3},
        ],
    }
    assert data["bootstrap"]["status"] == "unchanged"


def test_cli_on_a_300_environment_repository(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "big", synthetic_spec(300))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "300 environments")
    project = "environments/_project.yaml"
    write_tree(root, {project: synthetic_spec(300, replicas=3)[project]})
    result = CliRunner().invoke(
        main, ["-C", str(root), "diff", "--format", "markdown", "--max-chars", "20000"]
    )
    assert result.exit_code == 1, result.output
    assert len(result.stdout) <= 20_000
    assert "300 of 300 environments change" in result.stdout
    assert "> **Truncated**" in result.stdout


def long_name_spec(version: str, envs: int = 20) -> dict[str, str]:
    """Environments with 63-character names (the longest DNS label); every other one pins a tag."""
    names = [f"e{e:02d}" + "x" * 60 for e in range(envs)]
    lines = [
        "project:",
        "  name: big",
        "  repoURL: https://github.com/example/big-gitops.git",
        "  scm: {provider: github, secretRef: scm, appID: 1}",
        "apps:",
        "  web:",
        "    chart:",
        "      repository: oci://ghcr.io/example/charts",
        "      name: web",
        "      version: 1.0.0",
        "    image: {tag: v1.0.0}",
        "promotion:",
        "  order: [" + ", ".join(names) + "]",
    ]
    files = {"environments/_project.yaml": "\n".join(lines) + "\n"}
    for e, name in enumerate(names):
        pin = f"apps:\n  web:\n    image: {{tag: v{version}}}\n" if e % 2 else ""
        files[f"environments/{name}.yaml"] = f"namespace: ns{e}\n{pin}"
    return files


@pytest.mark.parametrize("limit", [2_000, 2_001, 2_100, 2_500, 3_000, 4_000, 6_000, 9_000])
def test_long_environment_names_never_exceed_the_limit(limit: int) -> None:
    diff = compare_trees(
        synthetic_tree("a", long_name_spec("1.0.0")), synthetic_tree("b", long_name_spec("2.0.0"))
    )
    assert sum(s.status == "changed" for s in diff.environments) == 10
    text = format_markdown(diff, max_chars=limit)
    assert len(text) <= limit
    assert text.startswith(MARKER)
    assert text.count("<details>") == text.count("</details>")
    full = format_markdown(diff, max_chars=10_000_000)
    assert ("> **Truncated**" in text) == (len(full) > limit)


@pytest.mark.parametrize("limit", [2_000, 2_300, 3_000, 5_000])
def test_a_header_too_long_for_the_limit_shrinks_with_a_note(limit: int) -> None:
    """Labels and notes are the user's: a header longer than the limit still yields a comment."""
    base = synthetic_tree("main", long_name_spec("1.0.0", envs=40))
    head = synthetic_tree("b" * 1_500, long_name_spec("2.0.0", envs=40))
    diff = compare_trees(base, head)
    diff = replace(diff, notes=("n" * 1_200,))
    text = format_markdown(diff, max_chars=limit)
    assert len(text) <= limit
    assert text.startswith(MARKER)
    assert "20 of 40 environments change" in text
    assert "to stay under the size limit" in text
    assert "> **Truncated**" in text


def test_the_summary_gives_way_before_the_headline_names() -> None:
    diff = compare_trees(
        synthetic_tree("a", long_name_spec("1.0.0", envs=40)),
        synthetic_tree("b", long_name_spec("2.0.0", envs=40)),
    )
    diff = replace(diff, notes=("n" * 600,))
    text = format_markdown(diff, max_chars=3_000)
    assert len(text) <= 3_000
    assert "20 of 40 environments change: `e01" in text  # the headline keeps its names
    assert "The summary (1 row) is left out to stay under the size limit" in text
    assert "| change |" not in text
    assert "The summary above is complete" not in text


def test_cli_with_long_environment_names(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "long", long_name_spec("1.0.0"))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "long names")
    write_tree(root, long_name_spec("2.0.0"))
    result = CliRunner().invoke(
        main, ["-C", str(root), "diff", "--format", "markdown", "--max-chars", "2000"]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1, result.output
    assert len(result.stdout) <= 2_000
    assert "> **Truncated**" in result.stdout


def test_every_limit_holds_for_long_names() -> None:
    diff = compare_trees(
        synthetic_tree("a", long_name_spec("1.0.0", envs=30)),
        synthetic_tree("b" * 300, long_name_spec("2.0.0", envs=30)),
    )
    for limit in range(2_000, 8_000, 37):
        assert len(format_markdown(diff, max_chars=limit)) <= limit, limit


def test_pipes_are_escaped_only_in_table_cells() -> None:
    section = Section(
        "staging",
        "changed",
        (SummaryItem("pull-policy", "web|api", "Always|x", "IfNotPresent|y"),),
        (
            ObjectDiff(
                "web/values.yaml",
                "values",
                "changed",
                (Change("web.args", "a|b", "c|d"), Change('web["x|y"]', after="e|f")),
            ),
        ),
    )
    diff = Diff("revisions", Side("main", None, None), Side("b", None, None), (section,))
    text = format_markdown(diff)
    assert "| `web\\|api` pull policy | `Always\\|x` | `IfNotPresent\\|y` | `staging` |" in text
    assert "- `web.args`: `a|b` → `c|d`" in text
    assert '- added `web["x|y"]`: `e|f`' in text
    details = text[text.index("<details>") :]
    assert "\\|" not in details


def test_nan_equals_nan_and_json_stays_strict() -> None:
    nan, inf = float("nan"), float("inf")
    assert changes({"a": nan, "l": [1.0, nan]}, {"a": nan, "l": [1.0, nan]}) == []
    assert changes({"a": nan}, {"a": 1.0})[0][0] == "a"
    section = Section(
        "staging",
        "changed",
        (),
        (
            ObjectDiff(
                "web/values.yaml",
                "values",
                "changed",
                (
                    Change("web.ratio", 0.5, nan),
                    Change("web.limits", {"max": inf}, {"max": -inf, "l": [nan]}),
                ),
            ),
        ),
    )
    diff = Diff("revisions", Side("main", None, None), Side("b", None, None), (section,))
    text = format_json(diff)
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text, parse_constant=lambda name: pytest.fail(f"non-standard {name}"))
    change, limits = data["environments"][0]["objects"][0]["changes"]
    assert change == {"path": "web.ratio", "op": "changed", "before": 0.5, "after": ".nan"}
    assert limits["before"] == {"max": ".inf"}
    assert limits["after"] == {"max": "-.inf", "l": [".nan"]}
    assert "~ web.ratio: 0.5 → .nan" in format_text(diff)


def test_unchanged_nan_values_are_no_difference(tmp_path: Path) -> None:
    project = "environments/_project.yaml"

    def with_nan(replicas: int) -> dict[str, str]:
        files = synthetic_spec(2, replicas=replicas)
        files[project] = files[project].replace("{replicas:", "{ratio: .nan, replicas:")
        return files

    root = write_tree(tmp_path / "nan", with_nan(2))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "nan")
    write_tree(root, {project: with_nan(3)[project]})
    result = CliRunner().invoke(main, ["-C", str(root), "diff", "--format", "json", "HEAD"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    paths = [c["path"] for o in data["environments"][0]["objects"] for c in o["changes"]]
    assert paths == ["app00.replicas"]
