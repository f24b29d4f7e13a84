"""The spec: what each setting turns on, and how problems are found (tests/cli/test_bad_input.py holds
every class of bad input with its exact message)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.spec.model import load_spec
from tests.conftest import edit_spec, spec_problems

# --- every problem in one run ---------------------------------------------------------------------


def test_every_problem_is_reported_at_once(example_repo: Path) -> None:
    """Problems of the schema, of the cross-file checks and of reading files, all in one run."""
    edit_spec(
        example_repo,
        "staging.yaml",
        "namespace: demo-staging\n",
        'namespace: demo-staging\nautoMerge: "yes"\n',
    )
    edit_spec(
        example_repo,
        "_project.yaml",
        "order: [staging, demo, prod]",
        "order: [staging, demo, prod, prod]",
    )
    edit_spec(example_repo, "_project.yaml", "version: 1.0.75", 'version: "1.x"')
    edit_spec(example_repo, "demo.yaml", "namespace: demo\n", "namespace: Demo\n")
    (example_repo / "environments/qa.yaml").write_bytes(b"namespace: q\xe0\n")
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:26:16: apps.serviceradar.chart.version: '1.x' must be an exact semver version such as 1.0.70 (no ranges, no leading v)",
        "environments/_project.yaml:114:32: promotion.order[3]: environment 'prod' is listed twice; keep one",
        "environments/demo.yaml:3:12: namespace: namespace 'Demo' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
        "environments/qa.yaml:1:1: environment 'qa' is not in promotion.order of environments/_project.yaml; add it there or remove this file",
        "environments/qa.yaml:1:13: is not UTF-8 text (byte 0xe0); save the file as UTF-8",
        "environments/staging.yaml:4:12: autoMerge: must be a boolean, not a string; write true or false",
    ]


def test_a_broken_app_does_not_hide_the_problems_of_another(
    build_tree: Callable[..., Path],
) -> None:
    """The cross-file checks leave out only what failed the schema: here the app web."""
    files = dict(MULTI_APP)
    files["environments/_project.yaml"] = files["environments/_project.yaml"].replace(
        "image: {tag: sha-0123abcd}", "image: {tag: sha-0123abcd, tagPath: [web, tag]}"
    )
    files["environments/live.yaml"] += "  worker: {image: {tagPath: x.y}, values: {x: 1}}\n"
    root = build_tree(files)
    assert spec_problems(root) == [
        "environments/_project.yaml:11:32: apps.web.image.tagPath: must be a string, not a list",
        "environments/live.yaml:9:29: apps.worker.image.tagPath: cannot set values.x.y: values.x is not a map (environments/live.yaml:9:47 sets it); point tagPath elsewhere or make that a map",
    ]


def test_a_problem_every_environment_shares_is_said_once(example_repo: Path) -> None:
    """A bad tagPath with the values that block it, both in _project.yaml: one problem, there."""
    edit_spec(example_repo, "_project.yaml", "tagPath: global.imageTag", "tagPath: foo.tag")
    edit_spec(
        example_repo,
        "_project.yaml",
        "    values:\n      image:",
        "    values:\n      foo: 1\n      image:",
    )
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:30:16: apps.serviceradar.image.tagPath: cannot set values.foo.tag: values.foo is not a map (environments/_project.yaml:33:12 sets it); point tagPath elsewhere or make that a map"
    ]


# --- integers that Helm and Argo CD read as float64 -------------------------------------------------


@pytest.mark.parametrize("number", [2**53 - 1, -(2**53 - 1), 0, 1])
def test_integers_within_2_to_the_53_render_as_they_are(example_repo: Path, number: int) -> None:
    edit_spec(
        example_repo,
        "demo.yaml",
        "      namespace: demo\n",
        f"      namespace: demo\n      id: {number}\n",
    )
    assert (
        load_spec(example_repo).environment("demo").apps[0].values["serviceradar"]["id"] == number
    )
    result = CliRunner().invoke(main, ["-C", str(example_repo), "render"])
    assert result.exit_code == 0, result.output
    values = (example_repo / "rendered/environments/demo/serviceradar/values.yaml").read_text()
    assert f"\n  id: {number}\n" in values


def test_a_quoted_big_integer_renders_as_a_string(example_repo: Path) -> None:
    edit_spec(
        example_repo,
        "demo.yaml",
        "      namespace: demo\n",
        '      namespace: demo\n      id: "9007199254740993"\n',
    )
    assert (
        load_spec(example_repo).environment("demo").apps[0].values["serviceradar"]["id"]
        == "9007199254740993"
    )
    result = CliRunner().invoke(main, ["-C", str(example_repo), "render"])
    assert result.exit_code == 0, result.output
    values = (example_repo / "rendered/environments/demo/serviceradar/values.yaml").read_text()
    assert '\n  id: "9007199254740993"\n' in values


@pytest.mark.parametrize(
    ("number", "where"),
    [
        (2**53, "environments/demo.yaml:8:11: apps.serviceradar.values.id"),
        (-(2**53), "environments/demo.yaml:8:11: apps.serviceradar.values.id"),
        (2**64, "environments/demo.yaml:8:11: apps.serviceradar.values.id"),
    ],
)
def test_integers_beyond_2_to_the_53_are_refused(
    example_repo: Path, number: int, where: str
) -> None:
    edit_spec(
        example_repo,
        "demo.yaml",
        "      namespace: demo\n",
        f"      namespace: demo\n      id: {number}\n",
    )
    assert spec_problems(example_repo) == [
        f'{where}: {number} is outside ±(2^53-1): Helm and Argo CD read values as float64 and would change it; quote it to pass it exactly, as a string: "{number}"'
    ]


def test_big_integers_outside_values_are_not_values(example_repo: Path) -> None:
    """Only values reach Helm: an app ID is read by the Promoter, as an int64."""
    edit_spec(example_repo, "_project.yaml", "appID: 2459954", f"appID: {2**53}")
    assert load_spec(example_repo).project.scm.app_id == 2**53


# --- valid specs: the features each setting turns on ---


def test_example_spec_loads_in_promotion_order(example_repo: Path) -> None:
    spec = load_spec(example_repo)
    assert [env.name for env in spec.environments] == ["staging", "demo", "prod"]
    staging, demo, prod = spec.environments
    assert staging.branch == "environment/staging"
    assert staging.next_branch == "environment/staging-next"
    assert staging.active_gates == ("e2e",)
    assert spec.project.active_gates == ("argocd-health",)
    assert prod.auto_merge is False and demo.auto_merge is True
    assert staging.apps[0].image_tag == "latest" and staging.apps[0].pull_policy == "Always"
    assert demo.apps[0].image_tag == "v1.0.75" and demo.apps[0].pull_policy == "IfNotPresent"
    values = demo.apps[0].values
    assert values["global"] == {"imageTag": "v1.0.75", "imagePullPolicy": "IfNotPresent"}
    assert values["serviceradar"]["ingress"]["host"] == "demo.serviceradar.cloud"
    # deep merge: staging overrides one leaf and keeps its siblings from the base values
    faker = staging.apps[0].values["serviceradar"]["faker"]["simulation"]
    assert faker["totalDevices"] == 1000 and faker["ipShuffle"]["interval"] == "10m"


MULTI_APP = {
    "environments/_project.yaml": """\
project:
  name: shop
  repoURL: https://gitlab.example.com/platform/team/shop-gitops.git
  scm: {provider: gitlab, secretRef: gitlab-token, projectId: 42}
apps:
  web:
    chart:
      repository: https://charts.example.com
      name: web
      version: 2.1.0
    image: {tag: sha-0123abcd}
    values: {replicas: 2, debug: true, image: {repository: registry.example.com/web}}
  worker:
    chart:
      repository: oci://registry.example.com/charts
      name: worker
      version: 0.3.0-rc.1
    image: {tag: main, pullPolicy: IfNotPresent, tagPath: worker.tag}
defaults:
  apps:
    web:
      values: {replicas: 3}
promotion:
  order: [dev, live]
  gates: {active: [], proposed: [lint]}
""",
    "environments/dev.yaml": """\
namespace: shop-dev
destination: {name: dev-cluster}
apps:
  worker: {enabled: false}
  web:
    values: {debug: null}
""",
    "environments/live.yaml": """\
namespace: shop
sync: {automated: false}
gates: {proposed: [security-review]}
apps:
  web:
    chart: {version: 2.0.9}
    image: {tag: v2.0.9}
    values: {replicas: 5, image: {repository: null}}
""",
}


def test_several_apps_disabled_app_and_layered_values(build_tree: Callable[..., Path]) -> None:
    root = build_tree(MULTI_APP)
    spec = load_spec(root)
    dev, live = spec.environments
    assert [a.name for a in dev.apps] == ["web"] and dev.disabled_apps == ("worker",)
    assert dev.cluster_name == "dev-cluster" and dev.server is None
    web = dev.apps[0]
    # base replicas 2 < defaults 3; env null removes debug from the base values
    assert web.values == {
        "web": {
            "replicas": 3,
            "image": {
                "repository": "registry.example.com/web",
                "tag": "sha-0123abcd",
                "pullPolicy": "IfNotPresent",
            },
        }
    }
    live_web, live_worker = live.apps
    assert live_web.chart.version == "2.0.9" and live_web.values["web"]["replicas"] == 5
    assert live_web.values["web"]["image"] == {"tag": "v2.0.9", "pullPolicy": "IfNotPresent"}
    assert live_worker.values == {
        "worker": {"worker": {"tag": "main"}, "image": {"pullPolicy": "IfNotPresent"}}
    }
    assert live.sync.automated is False
    assert (
        spec.project.scm.owner == "platform/team"
        and spec.project.scm.domain == "gitlab.example.com"
    )
    assert spec.project.active_gates == () and spec.project.proposed_gates == ("lint",)
    assert live.proposed_gates == ("security-review",)


def test_multi_app_spec_renders_valid_output(build_tree: Callable[..., Path]) -> None:
    root = build_tree(MULTI_APP)
    result = CliRunner().invoke(main, ["-C", str(root), "render"])
    assert result.exit_code == 0, result.output
    rendered = root / "rendered"
    assert not (rendered / "environments/dev/worker").exists()
    assert (rendered / "environments/live/worker/Chart.yaml").exists()
    app = (rendered / "bootstrap/applications/dev/web.yaml").read_text()
    assert "    name: dev-cluster\n" in app and "server:" not in app
    live_app = (rendered / "bootstrap/applications/live/web.yaml").read_text()
    assert "automated:" not in live_app
    git_repo = (rendered / "bootstrap/git-repository.yaml").read_text()
    assert (
        "gitlab:\n    namespace: platform/team\n    name: shop-gitops\n    projectId: 42\n"
        in git_repo
    )
    scm = (rendered / "bootstrap/scm-provider.yaml").read_text()
    assert "gitlab:\n    domain: gitlab.example.com\n" in scm


@pytest.mark.parametrize(
    ("provider", "extra", "expected"),
    [
        ("forgejo", "", "forgejo:\n    domain: git.carverauto.dev\n"),
        ("gitea", "", "gitea:\n    domain: git.carverauto.dev\n"),
        (
            "github",
            ", appID: 7, domain: github.example.com",
            "github:\n    appID: 7\n    domain: github.example.com\n",
        ),
    ],
)
def test_scm_providers(
    build_tree: Callable[..., Path], provider: str, extra: str, expected: str
) -> None:
    files = dict(MULTI_APP)
    files["environments/_project.yaml"] = (
        files["environments/_project.yaml"]
        .replace(
            "https://gitlab.example.com/platform/team/shop-gitops.git",
            "https://git.carverauto.dev/carverauto/shop.git",
        )
        .replace(
            "{provider: gitlab, secretRef: gitlab-token, projectId: 42}",
            f"{{provider: {provider}, secretRef: token{extra}}}",
        )
    )
    root = build_tree(files)
    result = CliRunner().invoke(main, ["-C", str(root), "render"])
    assert result.exit_code == 0, result.output
    assert expected in (root / "rendered/bootstrap/scm-provider.yaml").read_text()
    assert (
        f"{provider}:\n    owner: carverauto\n    name: shop\n"
        in (root / "rendered/bootstrap/git-repository.yaml").read_text()
    )


# --- names that collide, and settings the Promoter or Helm would refuse -------------------------


def test_the_same_namespace_on_another_cluster_is_fine(example_repo: Path) -> None:
    prod = example_repo / "environments/prod.yaml"
    prod.write_text(
        prod.read_text().replace("namespace: serviceradar\n", "namespace: demo\n")
        + "destination:\n  server: https://prod.example.com:6443\n"
    )
    assert CliRunner().invoke(main, ["-C", str(example_repo), "check"]).exit_code == 1


def test_null_settings_remove_what_defaults_set(example_repo: Path) -> None:
    prod = example_repo / "environments/prod.yaml"
    prod.write_text(
        prod.read_text() + "sync:\n  retry: null\n  options: null\nignoreDifferences: null\n"
    )
    spec = load_spec(example_repo)
    env = spec.environment("prod")
    assert env.sync.retry is None and env.sync.options == () and env.ignore_differences == ()
    assert spec.environment("demo").sync.retry is not None


def test_null_in_base_values_reaches_helm(example_repo: Path) -> None:
    project = example_repo / "environments/_project.yaml"
    project.write_text(
        project.read_text().replace(
            "      kv:\n        enabled: true\n", "      kv:\n        enabled: null\n"
        )
    )
    values = load_spec(example_repo).environment("demo").apps[0].values
    assert values["serviceradar"]["kv"]["enabled"] is None


def test_dates_stay_strings(example_repo: Path) -> None:
    demo = example_repo / "environments/demo.yaml"
    demo.write_text(
        demo.read_text().replace(
            "      namespace: demo\n", "      namespace: demo\n      since: 2001-12-14\n"
        )
    )
    values = load_spec(example_repo).environment("demo").apps[0].values
    assert values["serviceradar"]["since"] == "2001-12-14"


def test_the_readme_spec_snippets_in_flow_style_load(example_repo: Path) -> None:
    project = example_repo / "environments/_project.yaml"
    text = project.read_text()
    text = text.replace(
        "    chart:\n      repository: oci://ghcr.io/carverauto/charts\n"
        "      name: serviceradar\n      version: 1.0.75\n",
        "    chart: {repository: oci://ghcr.io/carverauto/charts, name: serviceradar, version: 1.0.75}\n",
    ).replace(
        "  destination:\n    server: https://kubernetes.default.svc\n",
        "  destination: {server: https://kubernetes.default.svc}\n",
    )
    assert "chart: {repository" in text and "destination: {server" in text
    project.write_text(text)
    result = CliRunner().invoke(main, ["-C", str(example_repo), "check"])
    assert result.exit_code == 0, result.output
