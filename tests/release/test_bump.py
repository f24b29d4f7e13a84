"""gitops-gen bump: round-trip edits of the version pins, proved byte for byte."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from generator.cli import main
from generator.yamlspans import scalar_spans
from tests.conftest import REPO, snapshot_tree

# ServiceRadar's real Chart.yaml (Apache-2.0), as it stood in December 2025.
CHART_YAML = REPO / "tests/testdata/serviceradar/Chart.yaml"
PROJECT = "environments/_project.yaml"


def line_col(path: Path, needle: str) -> tuple[int, int]:
    """1-based line and column of the value right after ``needle`` (a line's start) in ``path``."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith(needle):
            return number, len(needle) + 1
    raise AssertionError(f"{needle!r} not in {path}")


def where(root: Path, file: str, needle: str) -> str:
    line, col = line_col(root / file, needle)
    return f"{file}:{line}:{col}"


def bump(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-C", str(root), "bump", *args])


def changed_files(before: Mapping[str, bytes], after: Mapping[str, bytes]) -> set[str]:
    return {p for p in set(before) | set(after) if before.get(p) != after.get(p)}


def test_bump_changes_only_the_two_pins_of_the_example(example_repo: Path) -> None:
    located = where(example_repo, PROJECT, "      version: ")
    before = snapshot_tree(example_repo)
    result = bump(example_repo, "1.0.76")
    assert result.exit_code == 0, result.output
    after = snapshot_tree(example_repo)
    expected = (
        before[PROJECT]
        .replace(b"      version: 1.0.75\n", b"      version: 1.0.76\n")
        .replace(b"      tag: v1.0.75\n", b"      tag: v1.0.76\n")
    )
    assert expected != before[PROJECT]
    assert after[PROJECT] == expected
    spec_changes = {p for p in changed_files(before, after) if p.startswith("environments/")}
    assert spec_changes == {PROJECT}
    assert f"{located}: apps.serviceradar.chart.version: 1.0.75 -> 1.0.76" in result.stderr
    # Then it rendered: each environment's wrapper chart depends on the new version.
    for env in ("staging", "demo", "prod"):
        chart = (example_repo / f"rendered/environments/{env}/serviceradar/Chart.yaml").read_text()
        assert 'version: "1.0.76"' in chart
    demo_values = (example_repo / "rendered/environments/demo/serviceradar/values.yaml").read_text()
    assert "imageTag: v1.0.76" in demo_values
    staging_values = (
        example_repo / "rendered/environments/staging/serviceradar/values.yaml"
    ).read_text()
    assert "imageTag: latest" in staging_values
    assert CliRunner().invoke(main, ["-C", str(example_repo), "check"]).exit_code == 0


def test_bump_edits_a_helm_chart_yaml_keeping_appversion_quoted(example_repo: Path) -> None:
    shutil.copy(CHART_YAML, example_repo / "Chart.yaml")
    original = CHART_YAML.read_bytes()
    result = bump(example_repo, "1.0.76", "--chart-yaml", "Chart.yaml")
    assert result.exit_code == 0, result.output
    expected = original.replace(b"\nversion: 1.0.75\n", b"\nversion: 1.0.76\n").replace(
        b'\nappVersion: "1.0.75"', b'\nappVersion: "1.0.76"'
    )
    assert expected != original
    assert (example_repo / "Chart.yaml").read_bytes() == expected


def test_json_report(example_repo: Path) -> None:
    shutil.copy(CHART_YAML, example_repo / "Chart.yaml")
    version_at = line_col(example_repo / PROJECT, "      version: ")
    tag_at = line_col(example_repo / PROJECT, "      tag: ")
    staging_at = line_col(example_repo / "environments/staging.yaml", "      tag: ")
    result = bump(example_repo, "v1.1.0", "--chart-yaml", "Chart.yaml", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["version"] == "1.1.0"
    assert report["imageTag"] == "v1.1.0"
    assert report["apps"] == ["serviceradar"]
    assert report["changed"] is True
    assert report["written"] == ["Chart.yaml", PROJECT]
    assert report["changes"] == [
        {"file": PROJECT, "line": version_at[0], "column": version_at[1], "path": "apps.serviceradar.chart.version",
         "old": "1.0.75", "new": "1.1.0"},
        {"file": PROJECT, "line": tag_at[0], "column": tag_at[1], "path": "apps.serviceradar.image.tag",
         "old": "v1.0.75", "new": "v1.1.0"},
        {"file": "Chart.yaml", "line": 5, "column": 10, "path": "version",
         "old": "1.0.75", "new": "1.1.0"},
        {"file": "Chart.yaml", "line": 6, "column": 13, "path": "appVersion",
         "old": "1.0.75", "new": "1.1.0"},
    ]  # fmt: skip
    assert report["overrides"] == [
        {"file": "environments/staging.yaml", "line": staging_at[0], "column": staging_at[1],
         "path": "apps.serviceradar.image.tag", "environment": "staging", "value": "latest",
         "mutable": True},
    ]  # fmt: skip
    assert report["rendered"]["changed"] is True
    assert "environments/prod/serviceradar/Chart.yaml" in report["rendered"]["updated"]


def test_same_version_again_writes_nothing(example_repo: Path) -> None:
    assert bump(example_repo, "1.0.76").exit_code == 0
    before = snapshot_tree(example_repo)
    result = bump(example_repo, "1.0.76", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["changed"] is False
    assert "already at 1.0.76" in result.stderr
    assert snapshot_tree(example_repo) == before


def test_dry_run_writes_nothing(example_repo: Path) -> None:
    before = snapshot_tree(example_repo)
    result = bump(example_repo, "2.0.0", "--dry-run", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["rendered"] is None
    assert len(json.loads(result.stdout)["changes"]) == 2
    assert snapshot_tree(example_repo) == before


def test_image_tag_option(example_repo: Path) -> None:
    result = bump(example_repo, "1.0.76", "--image-tag", "sha-0123abc")
    assert result.exit_code == 0, result.output
    assert "      tag: sha-0123abc\n" in (example_repo / PROJECT).read_text()


def test_environment_pins_are_left_alone_and_reported(example_repo: Path) -> None:
    prod = example_repo / "environments/prod.yaml"
    prod.write_text(
        prod.read_text().replace(
            "apps:\n  serviceradar:\n",
            "apps:\n  serviceradar:\n    chart:\n      version: 1.0.70\n"
            "    image:\n      tag: v1.0.70\n",
        )
    )
    assert CliRunner().invoke(main, ["-C", str(example_repo), "render"]).exit_code == 0
    prod_before = prod.read_bytes()
    chart_pin = where(example_repo, "environments/prod.yaml", "      version: ")
    tag_pin = where(example_repo, "environments/prod.yaml", "      tag: ")
    latest = where(example_repo, "environments/staging.yaml", "      tag: ")
    result = bump(example_repo, "1.0.76")
    assert result.exit_code == 0, result.output
    assert prod.read_bytes() == prod_before
    assert (
        f"warning: {chart_pin}: apps.serviceradar.chart.version: prod stays pinned to 1.0.70"
        in result.stderr
    )
    assert f"warning: {tag_pin}: apps.serviceradar.image.tag: prod stays pinned" in result.stderr
    assert f"note: {latest}: apps.serviceradar.image.tag: staging keeps the " in result.stderr
    rendered = (example_repo / "rendered/environments/prod/serviceradar/Chart.yaml").read_text()
    assert 'version: "1.0.70"' in rendered


ROUND_TRIP_PROJECT = (
    "# yaml-language-server: $schema=../schema.json\r\n"
    "project: {name: web, repoURL: 'https://github.com/acme/web-gitops.git',\r\n"
    "  scm: {provider: github, secretRef: s, appID: 1}}\r\n"
    "\r\n"
    "apps:\r\n"
    "  web:\r\n"
    "    chart:\r\n"
    "      repository: oci://ghcr.io/acme/charts   # where it lives\r\n"
    "      name: web\r\n"
    "      version: '1.9.0'    # single-quoted on purpose\r\n"
    "\r\n"
    "\r\n"
    '    image: {tag: "v1.9.0", pullPolicy: IfNotPresent}  # flow style\r\n'
    "  api:\r\n"
    "    chart: {repository: 'oci://ghcr.io/acme/charts', name: api, version: 1.9.0}\r\n"
    "    values: &shared\r\n"
    "      replicas: 2\r\n"
    "promotion:\r\n"
    "  order: [dev]\r\n"
)


def test_round_trip_keeps_crlf_quotes_flow_style_comments_and_blank_lines(
    build_tree: Callable[[Mapping[str, str]], Path],
) -> None:
    root = build_tree({PROJECT: ROUND_TRIP_PROJECT, "environments/dev.yaml": "namespace: dev\n"})
    (root / PROJECT).write_bytes(ROUND_TRIP_PROJECT.encode())  # keep the CRLF line endings
    result = bump(root, "1.10.0", "--app", "web", "--app", "api")
    assert result.exit_code == 0, result.output
    expected = (
        ROUND_TRIP_PROJECT.replace("version: '1.9.0'", "version: '1.10.0'")
        .replace('{tag: "v1.9.0"', '{tag: "v1.10.0"')
        .replace("name: api, version: 1.9.0}", "name: api, version: 1.10.0}")
    )
    assert (root / PROJECT).read_bytes() == expected.encode()


def test_plain_appversion_becomes_quoted_and_a_missing_one_is_added(example_repo: Path) -> None:
    chart = example_repo / "chart/Chart.yaml"
    chart.parent.mkdir()
    chart.write_text("apiVersion: v2\nname: x\nversion: 1.0.75 # released\nappVersion: 1.0.75\n")
    assert bump(example_repo, "1.0.76", "--chart-yaml", "chart/Chart.yaml").exit_code == 0
    assert chart.read_text() == (
        'apiVersion: v2\nname: x\nversion: 1.0.76 # released\nappVersion: "1.0.76"\n'
    )
    chart.write_text("apiVersion: v2\nversion: 1.0.76\nname: x\n")
    result = bump(example_repo, "1.0.77", "--chart-yaml", "chart/Chart.yaml")
    assert result.exit_code == 0, result.output
    assert chart.read_text() == 'apiVersion: v2\nversion: 1.0.77\nappVersion: "1.0.77"\nname: x\n'
    chart.write_text("apiVersion: v2\nname: x\nversion: 1.0.77")  # no final line break
    result = bump(example_repo, "1.0.78", "--chart-yaml", "chart/Chart.yaml")
    assert result.exit_code == 0, result.output
    assert chart.read_text() == 'apiVersion: v2\nname: x\nversion: 1.0.78\nappVersion: "1.0.78"\n'
    chart.write_text("apiVersion: v2\r\nversion: 1.0.78 # keep\r\nname: x\r\n")
    assert bump(example_repo, "1.0.79", "--chart-yaml", "chart/Chart.yaml").exit_code == 0
    assert chart.read_bytes() == (
        b'apiVersion: v2\r\nversion: 1.0.79 # keep\r\nappVersion: "1.0.79"\r\nname: x\r\n'
    )


def test_allow_downgrade(example_repo: Path) -> None:
    result = bump(example_repo, "1.0.74", "--allow-downgrade")
    assert result.exit_code == 0, result.output
    assert "version: 1.0.74\n" in (example_repo / PROJECT).read_text()


def test_prerelease_is_lower_than_its_release(example_repo: Path) -> None:
    result = bump(example_repo, "1.0.75-rc.1")
    assert result.exit_code == 2
    assert "1.0.75-rc.1 is lower than the current 1.0.75" in result.stderr


# --- bad input: exit 2, a located message, nothing written ---------------------------------


def _refused(root: Path, *args: str) -> str:
    before = snapshot_tree(root)
    result = bump(root, *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert snapshot_tree(root) == before
    return result.stderr


def test_downgrade_is_refused_with_its_location(example_repo: Path) -> None:
    err = _refused(example_repo, "1.0.74")
    located = where(example_repo, PROJECT, "      version: ")
    assert (
        f"{located}: apps.serviceradar.chart.version: 1.0.74 is lower than "
        "the current 1.0.75; pass --allow-downgrade" in err
    )


def test_chart_yaml_downgrade_refuses_the_whole_bump(example_repo: Path) -> None:
    (example_repo / "Chart.yaml").write_text("apiVersion: v2\nname: x\nversion: 2.0.0\n")
    err = _refused(example_repo, "1.0.76", "--chart-yaml", "Chart.yaml")
    assert "Chart.yaml:3:10: version: 1.0.76 is lower than the current 2.0.0" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1.0"], "VERSION: '1.0' is not an exact semver version"),
        (["latest"], "VERSION: 'latest' is not an exact semver version"),
        (["1.0.76", "--image-tag", "a/b"], "--image-tag: 'a/b' is not a valid OCI tag"),
        (["1.0.76+build.1"], "image tag: 'v1.0.76+build.1' is not a valid OCI tag"),
        (["1.0.76", "--app", "nope"], "--app: 'nope' not defined in environments/_project.yaml"),
        (
            ["1.0.76", "--chart-yaml", "missing/Chart.yaml"],
            "--chart-yaml: missing/Chart.yaml: not found",
        ),
        (["1.0.76", "--chart-yaml", "environments"], "is a directory"),
    ],
)
def test_bad_arguments(example_repo: Path, args: list[str], message: str) -> None:
    assert message in _refused(example_repo, *args)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("apiVersion: v2\nname: x\nversion: [1\n", "Chart.yaml:4:1: invalid YAML"),
        ("apiVersion: v2\nname: x\n", "Chart.yaml: not a Helm Chart.yaml"),
        ("base: &v 1.0.0\nversion: *v\n", "Chart.yaml:2:10: version: is an alias"),
        ("version: |\n  1.0.0\n", "Chart.yaml:1:10: version: is a multi-line scalar"),
    ],
)
def test_bad_chart_yaml(example_repo: Path, text: str, message: str) -> None:
    (example_repo / "Chart.yaml").write_text(text)
    assert message in _refused(example_repo, "1.0.76", "--chart-yaml", "Chart.yaml")


def test_invalid_spec_is_refused_before_any_edit(example_repo: Path) -> None:
    demo = example_repo / "environments/demo.yaml"
    line = len(demo.read_text().splitlines()) + 1
    demo.write_text(demo.read_text() + "colour: blue\n")
    err = _refused(example_repo, "1.0.76")
    assert f"environments/demo.yaml:{line}:1: colour: unknown key" in err


def test_several_apps_need_app(build_tree: Callable[[Mapping[str, str]], Path]) -> None:
    root = build_tree({PROJECT: ROUND_TRIP_PROJECT, "environments/dev.yaml": "namespace: dev\n"})
    assert "defines 2 apps; name the ones to bump with --app (one of: web, api)" in _refused(
        root, "2.0.0"
    )


def test_image_tag_for_an_app_without_an_image_pin(
    build_tree: Callable[[Mapping[str, str]], Path],
) -> None:
    root = build_tree({PROJECT: ROUND_TRIP_PROJECT, "environments/dev.yaml": "namespace: dev\n"})
    err = _refused(root, "2.0.0", "--app", "api", "--image-tag", "v2")
    assert "environments/_project.yaml:14:3: apps.api: app 'api' pins no image tag here" in err


def test_alias_in_the_spec_is_refused_with_its_location(
    build_tree: Callable[[Mapping[str, str]], Path],
) -> None:
    text = (
        ROUND_TRIP_PROJECT.replace("\r\n", "\n")
        .replace("name: api, version: 1.9.0}", "name: api, version: *v}")
        .replace("      version: '1.9.0'", "      version: &v '1.9.0'")
    )
    root = build_tree({PROJECT: text, "environments/dev.yaml": "namespace: dev\n"})
    err = _refused(root, "2.0.0", "--app", "api")
    assert "environments/_project.yaml:15:74: apps.api.chart.version: is an alias" in err


def test_missing_environments_directory(tmp_path: Path) -> None:
    err = _refused(tmp_path, "1.0.0")
    assert "environments: not found" in err


def test_scalar_spans_follow_nesting_lists_and_complex_keys() -> None:
    text = "a:\n  - x: 1\n  - [p, 'q']\n? [k]\n: v\nb: {c: \"d\"}\n"
    spans = scalar_spans(text)
    assert text[spans[("a", 0, "x")].start : spans[("a", 0, "x")].end] == "1"
    assert text[spans[("a", 1, 1)].start : spans[("a", 1, 1)].end] == "'q'"
    assert spans[("b", "c")].style == '"'
    assert (spans[("b", "c")].line, spans[("b", "c")].col) == (6, 8)
    assert spans[("<complex key>",)].value == "v"


# --- Chart.yaml and spec layouts: flow style, anchors, tags -------------------------------


@pytest.fixture
def small_repo(build_tree: Callable[[Mapping[str, str]], Path]) -> Path:
    text = ROUND_TRIP_PROJECT.replace("\r\n", "\n")
    return build_tree({PROJECT: text, "environments/dev.yaml": "namespace: dev\n"})


def _bumped_chart(root: Path, text: str, *args: str) -> bytes:
    (root / "Chart.yaml").write_bytes(text.encode())
    result = bump(root, "1.9.1", "--app", "web", "--chart-yaml", "Chart.yaml", *args)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return (root / "Chart.yaml").read_bytes()


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (  # flow style: appVersion joins the mapping inside the braces
            "{apiVersion: v2, name: x, version: 1.9.0}\n",
            '{apiVersion: v2, name: x, version: 1.9.1, appVersion: "1.9.1"}\n',
        ),
        (
            "{apiVersion: v2,\n  version: '1.9.0',  # pinned\n  name: x}\n",
            "{apiVersion: v2,\n  version: '1.9.1', appVersion: \"1.9.1\",  # pinned\n  name: x}\n",
        ),
        (
            "{apiVersion: v2, name: x, version: 1.9.0, appVersion: 1.9.0}\n",
            '{apiVersion: v2, name: x, version: 1.9.1, appVersion: "1.9.1"}\n',
        ),
        (  # an anchored version keeps its anchor; its aliases follow the new value
            "apiVersion: v2\nname: x\nversion: &v 1.9.0\nannotations:\n  release: *v\n",
            'apiVersion: v2\nname: x\nversion: &v 1.9.1\nappVersion: "1.9.1"\n'
            "annotations:\n  release: *v\n",
        ),
        (  # the anchor and the value on separate lines
            "apiVersion: v2\nversion: &v\n  1.9.0\nname: x\nkeywords: [*v]\n",
            'apiVersion: v2\nversion: &v\n  1.9.1\nappVersion: "1.9.1"\nname: x\nkeywords: [*v]\n',
        ),
        (  # tags stay, in either order with an anchor
            "apiVersion: v2\nname: x\nversion: !!str 1.9.0\nappVersion: !!str &a '1.9.0'\n",
            "apiVersion: v2\nname: x\nversion: !!str 1.9.1\nappVersion: !!str &a '1.9.1'\n",
        ),
        (
            'apiVersion: v2\nname: x\nversion: &v !!str "1.9.0"\nx: [*v]\n',
            'apiVersion: v2\nname: x\nversion: &v !!str "1.9.1"\nappVersion: "1.9.1"\nx: [*v]\n',
        ),
    ],
)
def test_chart_yaml_layouts_are_edited_in_place(small_repo: Path, before: str, after: str) -> None:
    assert _bumped_chart(small_repo, before) == after.encode()


def test_an_anchored_and_tagged_pin_in_the_spec_keeps_both(
    build_tree: Callable[[Mapping[str, str]], Path],
) -> None:
    text = (
        ROUND_TRIP_PROJECT.replace("\r\n", "\n")
        .replace("      version: '1.9.0'", "      version: &v !!str '1.9.0'")
        .replace("    values: &shared\n", "    values: &shared\n      release: *v\n")
    )
    root = build_tree({PROJECT: text, "environments/dev.yaml": "namespace: dev\n"})
    result = bump(root, "1.9.1", "--app", "web")
    assert result.exit_code == 0, result.output
    expected = text.replace("version: &v !!str '1.9.0'", "version: &v !!str '1.9.1'").replace(
        '{tag: "v1.9.0"', '{tag: "v1.9.1"'
    )
    assert (root / PROJECT).read_text() == expected


def test_an_edit_that_would_not_read_back_is_a_located_error(small_repo: Path) -> None:
    """A tag that turns the new text into another type: refused, located, nothing written."""
    (small_repo / "Chart.yaml").write_text("apiVersion: v2\nname: x\nversion: !!float 1.5\n")
    err = _refused(small_repo, "1.9.1", "--app", "web", "--chart-yaml", "Chart.yaml")
    assert "Chart.yaml:3:18: version: " in err
    assert "set the value by hand" in err
