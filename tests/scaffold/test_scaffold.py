"""gitops-gen init scaffolds a repository that checks as it is; schema supports editors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from generator import yamlemit
from generator.cli import main
from generator.scaffold.project import MODELINE_PREFIX, SCHEMA_COPY, schema_text
from generator.spec.model import load_spec
from tests.conftest import EXAMPLE_SPEC, REPO, snapshot_tree

SPEC_FILES = (
    "environments/_project.yaml",
    "environments/staging.yaml",
    "environments/demo.yaml",
    "environments/prod.yaml",
)


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_init_renders_and_checks_as_it_is(tmp_path: Path) -> None:
    target = tmp_path / "acme-web"
    result = cli(
        "-C", str(tmp_path), "init", "acme-web",
        "--chart", "oci://ghcr.io/acme/charts/web", "--version", "1.2.3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    for path in (*SPEC_FILES, "README.md", ".pre-commit-config.yaml", ".gitignore", SCHEMA_COPY):
        assert (target / path).is_file(), path
        assert f"created {path}" in result.stderr
    check = cli("-C", str(target), "check")
    assert check.exit_code == 0, check.output

    spec = load_spec(target)
    assert spec.project.name == "acme-web"
    assert [env.name for env in spec.environments] == ["staging", "demo", "prod"]
    assert [env.namespace for env in spec.environments] == [
        "acme-web-staging",
        "acme-web-demo",
        "acme-web",
    ]
    assert spec.environment("prod").auto_merge is False
    (app,) = spec.environment("demo").apps
    assert (app.name, app.chart.repository, app.chart.name, app.chart.version, app.image_tag) == (
        "web", "oci://ghcr.io/acme/charts", "web", "1.2.3", "v1.2.3",
    )  # fmt: skip
    chart = (target / "rendered/environments/prod/web/Chart.yaml").read_text()
    assert 'version: "1.2.3"' in chart
    assert "repository: oci://ghcr.io/acme/charts" in chart
    assert (target / "rendered/bootstrap/promotion-strategy.yaml").is_file()

    hooks = (target / ".pre-commit-config.yaml").read_text()
    assert "id: gitops-gen-render" in hooks
    assert "rev: v" in hooks
    readme = (target / "README.md").read_text()
    assert readme.startswith("# acme-web GitOps\n")
    assert "kubectl apply -k rendered/bootstrap" in readme


def test_init_output_is_deterministic(tmp_path: Path) -> None:
    for name in ("one", "two"):
        assert (
            cli(
                "init",
                str(tmp_path / name / "shop"),
                "--repo-url",
                "https://git.example.com/a/b.git",
            ).exit_code
            == 0
        )
    assert snapshot_tree(tmp_path / "one") == snapshot_tree(tmp_path / "two")


def test_spec_files_reference_the_schema_copy(tmp_path: Path) -> None:
    assert cli("init", str(tmp_path / "shop")).exit_code == 0
    root = tmp_path / "shop"
    for path in SPEC_FILES:
        first = (root / path).read_text().splitlines()[0]
        assert first == MODELINE_PREFIX + "../" + SCHEMA_COPY
        reference = first.removeprefix(MODELINE_PREFIX)
        assert ((root / path).parent / reference).resolve() == (root / SCHEMA_COPY).resolve()
    assert (root / SCHEMA_COPY).read_text() == cli("schema").stdout
    json.loads((root / SCHEMA_COPY).read_text())


def test_example_spec_files_reference_the_packaged_schema() -> None:
    packaged = REPO / "generator/schemas/spec.schema.json"
    for path in sorted(EXAMPLE_SPEC.glob("*.yaml")):
        first = path.read_text().splitlines()[0]
        assert first.startswith(MODELINE_PREFIX), path
        assert (path.parent / first.removeprefix(MODELINE_PREFIX)).resolve() == packaged


def test_a_bump_works_on_the_scaffold(tmp_path: Path) -> None:
    assert cli("init", str(tmp_path / "shop")).exit_code == 0
    result = cli("-C", str(tmp_path / "shop"), "bump", "0.2.0")
    assert result.exit_code == 0, result.output
    assert cli("-C", str(tmp_path / "shop"), "check").exit_code == 0


def test_init_twice_refuses_and_changes_nothing(tmp_path: Path) -> None:
    assert cli("init", str(tmp_path / "shop")).exit_code == 0
    before = snapshot_tree(tmp_path)
    result = cli("init", str(tmp_path / "shop"))
    assert result.exit_code == 2
    assert "already holds environments/, rendered/, .gitignore," in result.stderr
    assert "init never overwrites" in result.stderr
    assert snapshot_tree(tmp_path) == before


@pytest.mark.parametrize(
    "existing",
    ["README.md", ".gitignore", ".pre-commit-config.yaml", "environments/x.txt", "templates/a.j2"],
)
def test_init_refuses_any_existing_file(tmp_path: Path, existing: str) -> None:
    root = tmp_path / "shop"
    (root / existing).parent.mkdir(parents=True, exist_ok=True)
    (root / existing).write_text("mine\n")
    before = snapshot_tree(tmp_path)
    result = cli("init", str(root))
    assert result.exit_code == 2
    assert existing.split("/")[0] in result.stderr
    assert snapshot_tree(tmp_path) == before


def test_init_into_an_empty_existing_directory_and_the_current_one(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop/.git").mkdir()  # a fresh clone is fine
    result = cli("-C", str(tmp_path / "shop"), "init")
    assert result.exit_code == 0, result.output
    assert load_spec(tmp_path / "shop").project.name == "shop"


LABEL = "use lowercase letters, digits and '-', starting and ending with a letter or digit (the directory's name is the default)"
LIMIT = "a project name has at most 53, Helm's limit for the release name the app takes from it (the directory's name is the default)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bad_Dir"], f"--name: 'Bad_Dir' is not a DNS-1123 label: {LABEL}"),
        (["shop", "--name", "-x"], f"--name: '-x' is not a DNS-1123 label: {LABEL}"),
        (["shop", "--name", "a" * 54], f"--name: '{'a' * 54}' has 54 characters; {LIMIT}"),
        (["shop", "--name", "a" * 55], f"--name: '{'a' * 55}' has 55 characters; {LIMIT}"),
        (["shop", "--name", "a" * 64], f"--name: '{'a' * 64}' has 64 characters; {LIMIT}"),
        (["shop", "--chart", "https://charts.example.com/web"], "--chart: 'https://charts.example.com/web' is not oci://REGISTRY/PATH/CHART (for example oci://ghcr.io/carverauto/charts/serviceradar)"),
        (["shop", "--chart", "oci://ghcr.io"], "--chart: 'oci://ghcr.io' is not oci://REGISTRY/PATH/CHART (for example oci://ghcr.io/carverauto/charts/serviceradar)"),
        (["shop", "--chart", "oci://ghcr.io/acme/Web"], "--chart: chart name 'Web' must use lowercase letters, digits, '-', '_' and '.'"),
        (["shop", "--version", "1.2"], "--version: '1.2' is not an exact semver version such as 1.0.70"),
        (["shop", "--version", "1.2.3+b.1"], "--version: image tag 'v1.2.3+b.1' is not a valid OCI tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}) or digest (@sha256:<64 hex>)"),
        (["shop", "--repo-url", "git@github.com:a/b.git"], "--repo-url: 'git@github.com:a/b.git' must be the repository's https:// URL"),
        (["shop", "--repo-url", "https://github.com/only-owner"], "1 problem in environments/:\n  environments/_project.yaml:9:12: project.repoURL: must be https://host/owner/name[.git] for github"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = cli("-C", str(tmp_path), "init", *args)
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {message}\n"
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_the_longest_name_renders_and_checks(tmp_path: Path) -> None:
    """53 characters: the release name is at Helm's limit, the namespaces within 63."""
    name = "a" * 53
    result = cli("-C", str(tmp_path), "init", "repo", "--name", name)
    assert result.exit_code == 0, result.output
    spec = load_spec(tmp_path / "repo")
    assert [app.release_name for app in spec.environment("staging").apps] == [name]
    assert cli("-C", str(tmp_path / "repo"), "check").exit_code == 0


def test_a_chart_name_too_long_for_a_release_leaves_the_app_the_projects_name(
    tmp_path: Path,
) -> None:
    chart = "c" * 60
    result = cli(
        "-C",
        str(tmp_path),
        "init",
        "repo",
        "--name",
        "shop",
        "--chart",
        f"oci://r.example/charts/{chart}",
    )
    assert result.exit_code == 0, result.output
    [app] = load_spec(tmp_path / "repo").environment("prod").apps
    assert (app.name, app.release_name, app.chart.name) == ("shop", "shop", chart)


def test_the_help_states_the_name_limit() -> None:
    help_text = " ".join(cli("init", "--help").stdout.split())
    assert (
        "--name TEXT Project name: a DNS-1123 label of at most 53 characters, Helm's limit for the release name the app takes from it"
        in help_text
    )
    assert "63" not in help_text and "55" not in help_text


def test_schema_output_writes_only_when_changed(tmp_path: Path) -> None:
    result = cli("-C", str(tmp_path), "schema", "--output", SCHEMA_COPY)
    assert result.exit_code == 0
    assert f"{SCHEMA_COPY}: updated" in result.stderr
    assert (tmp_path / SCHEMA_COPY).read_text() == schema_text()
    mtime = (tmp_path / SCHEMA_COPY).stat().st_mtime_ns
    again = cli("-C", str(tmp_path), "schema", "-o", SCHEMA_COPY)
    assert f"{SCHEMA_COPY}: up to date" in again.stderr
    assert (tmp_path / SCHEMA_COPY).stat().st_mtime_ns == mtime
    (tmp_path / SCHEMA_COPY).write_text("{}")
    assert "updated" in cli("-C", str(tmp_path), "schema", "-o", SCHEMA_COPY).stderr
    assert (tmp_path / SCHEMA_COPY).read_text() == schema_text()


def test_schema_output_to_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    result = cli("-C", str(tmp_path), "schema", "--output", "dir")
    assert result.exit_code == 2
    assert "dir" in result.stderr


# Editors (the YAML language server) validate with draft-07 semantics; keywords that only
# 2019-09/2020-12 define would be ignored there, so the spec schema keeps to the common set.
_DRAFT7_KEYWORDS = {
    "$schema", "$id", "$ref", "$defs", "$comment", "title", "description", "default", "examples",
    "type", "enum", "const", "properties", "additionalProperties", "patternProperties", "required",
    "items", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "pattern",
    "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "if", "then", "else", "allOf", "anyOf", "oneOf", "not", "format", "propertyNames",
}  # fmt: skip


def test_schema_uses_only_keywords_that_editors_understand() -> None:
    used: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                used.add(key)
                if key in ("properties", "$defs", "patternProperties"):
                    for child in value.values():
                        walk(child)
                else:
                    walk(value)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(json.loads(schema_text()))
    extensions = {key for key in used if key.startswith("x-")}
    assert used - extensions <= _DRAFT7_KEYWORDS, sorted(used - extensions - _DRAFT7_KEYWORDS)


@pytest.mark.parametrize("name", ["123", "true", "null", "1e3", "0x1f", "2024", "on", "y"])
def test_names_that_read_as_other_types_stay_strings(tmp_path: Path, name: str) -> None:
    target = tmp_path / "repo"
    result = cli("-C", str(tmp_path), "init", "repo", "--name", name)
    assert result.exit_code == 0, result.output
    check = cli("-C", str(target), "check")
    assert check.exit_code == 0, check.output
    spec = load_spec(target)
    assert spec.project.name == name
    assert [env.namespace for env in spec.environments] == [f"{name}-staging", f"{name}-demo", name]
    assert [app.name for app in spec.environment("prod").apps] == [name]
    project = (target / "environments/_project.yaml").read_text()
    assert f"  name: {yamlemit.scalar(name)}\n" in project
    assert f"\n  {yamlemit.scalar(name)}:\n    chart:" in project
    assert f"# {name} GitOps\n" in (target / "README.md").read_text()


def test_a_directory_named_like_a_number_is_a_valid_default_name(tmp_path: Path) -> None:
    result = cli("-C", str(tmp_path), "init", "2024")
    assert result.exit_code == 0, result.output
    assert cli("-C", str(tmp_path / "2024"), "check").exit_code == 0
    spec = load_spec(tmp_path / "2024")
    assert spec.project.name == "2024"
    assert spec.environment("prod").namespace == "2024"


def test_a_chart_named_null_stays_a_string(tmp_path: Path) -> None:
    target = tmp_path / "acme"
    result = cli(
        "-C", str(tmp_path), "init", "acme", "--chart", "oci://ghcr.io/acme/true/null",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert cli("-C", str(target), "check").exit_code == 0
    (app,) = load_spec(target).environment("staging").apps
    assert (app.name, app.chart.repository, app.chart.name) == (
        "null", "oci://ghcr.io/acme/true", "null",
    )  # fmt: skip
    project = (target / "environments/_project.yaml").read_text()
    assert '\n  "null":\n    chart:' in project
    assert 'name: "null"\n' in project
    staging = (target / "environments/staging.yaml").read_text()
    assert '#   "null":\n' in staging
