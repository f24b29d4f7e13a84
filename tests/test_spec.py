"""Every class of bad spec input: a located message, exit 2, no traceback, rendered/ untouched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.spec.model import load_spec
from tests.conftest import snapshot_tree

Mutate = Callable[[Path], None]


def _edit(name: str, old: str, new: str) -> Mutate:
    def mutate(root: Path) -> None:
        path = root / "environments" / name
        text = path.read_text()
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1))

    return mutate


def _append(name: str, text: str) -> Mutate:
    def mutate(root: Path) -> None:
        path = root / "environments" / name
        path.write_text(path.read_text() + text)

    return mutate


def _write(name: str, text: str) -> Mutate:
    def mutate(root: Path) -> None:
        (root / "environments" / name).write_text(text)

    return mutate


def _run_bad(root: Path, mutate: Mutate, command: str = "render") -> str:
    mutate(root)
    before = snapshot_tree(root)
    result = CliRunner().invoke(main, ["-C", str(root), command])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert snapshot_tree(root) == before, "nothing may be written on bad input"
    return result.stderr


CASES = {
    "malformed-yaml": (
        _append("staging.yaml", "broken: [unclosed\n"),
        "environments/staging.yaml:25:1: invalid YAML",
    ),
    "duplicate-key": (
        _append("demo.yaml", "namespace: other\n"),
        'environments/demo.yaml:18:1: invalid YAML: duplicate key "namespace"',
    ),
    "unknown-key-typo": (
        _edit("prod.yaml", "autoMerge: false", "autoMerg: false"),
        "environments/prod.yaml:4:1: autoMerg: unknown key; did you mean 'autoMerge'?",
    ),
    "unknown-key-in-project": (
        _edit("_project.yaml", "  branchPrefix:", "  branchPrefx:"),
        "environments/_project.yaml:9:3: project.branchPrefx: unknown key; did you mean 'branchPrefix'?",
    ),
    "wrong-type-bool": (
        _edit("prod.yaml", "autoMerge: false", "autoMerge: nope"),
        "environments/prod.yaml:4:12: autoMerge: must be a boolean, not a string; write true or false",
    ),
    "wrong-type-number-for-string": (
        _edit("_project.yaml", "version: 1.0.75", "version: 1.0"),
        "environments/_project.yaml:26:16: apps.serviceradar.chart.version: must be a string, not a number",
    ),
    "wrong-type-values": (
        _edit("demo.yaml", "    values:\n", "    values: [1]\n    valuesx:\n"),
        "apps.serviceradar.values: must be an object, not a list",
    ),
    "env-name-not-dns-label": (
        _write("Demo_2.yaml", "namespace: demo2\n"),
        "environments/Demo_2.yaml:1:1: environment name (the file name) 'Demo_2' is not a DNS-1123 label",
    ),
    "app-name-not-dns-label": (
        _edit("_project.yaml", "apps:\n  serviceradar:", "apps:\n  Service_Radar:"),
        "environments/_project.yaml:22:3: apps.Service_Radar: app name 'Service_Radar' is not a DNS-1123 label",
    ),
    "namespace-not-dns-label": (
        _edit("demo.yaml", "namespace: demo\n", "namespace: Demo\n"),
        "environments/demo.yaml:3:12: namespace: namespace 'Demo' is not a DNS-1123 label",
    ),
    "branch-leading-dash": (
        _edit("_project.yaml", "branchPrefix: environment/", "branchPrefix: -env/"),
        "environments/_project.yaml:9:17: project.branchPrefix: branch '-env/' must not start with '-'",
    ),
    "branch-colon": (
        _edit("_project.yaml", "branchPrefix: environment/", 'branchPrefix: "env:"'),
        "project.branchPrefix: branch 'env:' must not contain ':'",
    ),
    "branch-dot-dot": (
        _edit("_project.yaml", "branchPrefix: environment/", "branchPrefix: env..x/"),
        "project.branchPrefix: branch 'env..x/' must not contain '..'",
    ),
    "branch-too-long": (
        _edit("_project.yaml", "branchPrefix: environment/", "branchPrefix: " + "p" * 90 + "/"),
        "environments/staging.yaml:1:1: branch '"
        + "p" * 90
        + "/staging' is 98 characters; keep it at 95",
    ),
    "order-names-missing-env": (
        _edit("_project.yaml", "order: [staging, demo, prod]", "order: [staging, demo, qa, prod]"),
        "environments/_project.yaml:114:26: promotion.order[2]: environment 'qa' has no file environments/qa.yaml",
    ),
    "order-names-env-twice": (
        _edit(
            "_project.yaml", "order: [staging, demo, prod]", "order: [staging, demo, staging, prod]"
        ),
        "promotion.order[2]: environment 'staging' is listed twice",
    ),
    "order-leaves-env-out": (
        _edit("_project.yaml", "order: [staging, demo, prod]", "order: [staging, demo]"),
        "environments/prod.yaml:1:1: environment 'prod' is not in promotion.order",
    ),
    "gate-key-invalid": (
        _edit("staging.yaml", "active: [e2e]", "active: [E2E_tests]"),
        "environments/staging.yaml:6:12: gates.active[0]: 'E2E_tests' gate keys are 1 to 63 characters",
    ),
    "gate-key-too-long": (
        _edit("staging.yaml", "active: [e2e]", "active: [" + "e" * 64 + "]"),
        "gates.active[0]",
    ),
    "chart-version-not-semver": (
        _edit("_project.yaml", "version: 1.0.75", 'version: "^1.0"'),
        "apps.serviceradar.chart.version: '^1.0' must be an exact semver version",
    ),
    "image-tag-invalid": (
        _edit("staging.yaml", "tag: latest", 'tag: "latest build"'),
        "environments/staging.yaml:10:12: apps.serviceradar.image.tag: 'latest build' must be an OCI tag",
    ),
    "empty-project-file": (
        _write("_project.yaml", "# nothing here\n"),
        "environments/_project.yaml:1:1: the spec is empty",
    ),
    "empty-environment-file": (
        _write("demo.yaml", ""),
        "environments/demo.yaml:1:1: the environment is empty",
    ),
    "missing-project-file": (
        lambda root: (root / "environments" / "_project.yaml").unlink(),
        "environments/_project.yaml: missing",
    ),
    "no-spec-files": (
        lambda root: [p.unlink() for p in (root / "environments").glob("*.yaml")],
        "environments: the spec is empty",
    ),
    "app-override-for-undefined-app": (
        _append("prod.yaml", "  grafana:\n    enabled: false\n"),
        "environments/prod.yaml:16:3: apps.grafana: app 'grafana' is not defined",
    ),
    "namespace-missing": (
        _edit("demo.yaml", "namespace: demo\n", ""),
        "environments/demo.yaml:1:1: namespace is required",
    ),
    "non-string-key-in-values": (
        _edit("demo.yaml", "      namespace: demo\n", "      namespace: demo\n      1: one\n"),
        "environments/demo.yaml:8:7: apps.serviceradar.values[1]: keys must be strings",
    ),
    "tag-path-through-scalar": (
        _edit("_project.yaml", "tagPath: global.imageTag", "tagPath: kv.enabled.tag"),
        "cannot set kv.enabled.tag: values.enabled is not a map",
    ),
    "yml-extension": (
        _write("qa.yml", "namespace: qa\n"),
        "environments/qa.yml: spec files end in .yaml; rename it",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(example_repo: Path, case: str) -> None:
    mutate, expected = CASES[case]
    stderr = _run_bad(example_repo, mutate)
    assert expected in stderr, stderr
    assert stderr.startswith("error: ")


@pytest.mark.parametrize("case", ["unknown-key-typo", "order-leaves-env-out"])
def test_check_reports_bad_input_the_same_way(example_repo: Path, case: str) -> None:
    mutate, expected = CASES[case]
    assert expected in _run_bad(example_repo, mutate, "check")


def test_every_problem_is_reported_at_once(example_repo: Path) -> None:
    def several(root: Path) -> None:
        _edit("prod.yaml", "autoMerge: false", "autoMerg: false")(root)
        _edit("staging.yaml", "active: [e2e]", "active: [E2E]")(root)
        _edit("_project.yaml", "version: 1.0.75", 'version: "1.x"')(root)

    stderr = _run_bad(example_repo, several)
    assert "3 problems in environments/:" in stderr
    lines = [line.strip() for line in stderr.splitlines()[1:]]
    assert [line.split(":")[0] for line in lines] == [
        "environments/_project.yaml",
        "environments/prod.yaml",
        "environments/staging.yaml",
    ]


def test_missing_environments_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(tmp_path), "render"])
    assert result.exit_code == 2
    assert "environments: not found" in result.stderr
    assert not (tmp_path / "rendered").exists()


def test_undefined_template_variable_names_template_and_line(example_repo: Path) -> None:
    templates = example_repo / "templates" / "environment"
    templates.mkdir(parents=True)
    (templates / "README.md.j2").write_text("# {{ env.name }}\n\nOwner: {{ env.owner }}\n")
    before = snapshot_tree(example_repo)
    result = CliRunner().invoke(main, ["-C", str(example_repo), "render"])
    assert result.exit_code == 2, result.output
    assert "templates/environment/README.md.j2:3:1: undefined variable" in result.stderr
    assert "owner" in result.stderr
    assert snapshot_tree(example_repo) == before


def test_template_syntax_error_is_located(example_repo: Path) -> None:
    templates = example_repo / "templates" / "environment"
    templates.mkdir(parents=True)
    (templates / "README.md.j2").write_text("# {{ env.name }}\n{% if %}\n")
    result = CliRunner().invoke(main, ["-C", str(example_repo), "render"])
    assert result.exit_code == 2
    assert "templates/environment/README.md.j2:2:1: template syntax" in result.stderr


def test_template_producing_invalid_object_fails_with_reason(example_repo: Path) -> None:
    templates = example_repo / "templates" / "bootstrap"
    templates.mkdir(parents=True)
    (templates / "git-repository.yaml.j2").write_text(
        "apiVersion: promoter.argoproj.io/v1alpha1\nkind: GitRepository\n"
        "metadata:\n  name: {{ project.name }}\n  namespace: x\nspec:\n  github: {owner: a, name: b}\n"
    )
    before = snapshot_tree(example_repo)
    result = CliRunner().invoke(main, ["-C", str(example_repo), "render"])
    assert result.exit_code == 2
    assert "templates/bootstrap/git-repository.yaml.j2" in result.stderr
    assert "invalid GitRepository" in result.stderr
    assert "'scmProviderRef' is a required property" in result.stderr
    assert snapshot_tree(example_repo) == before


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


def test_scm_settings_for_the_wrong_provider_are_refused(build_tree: Callable[..., Path]) -> None:
    files = dict(MULTI_APP)
    files["environments/_project.yaml"] = files["environments/_project.yaml"].replace(
        "projectId: 42}", "projectId: 42, appID: 5}"
    )
    root = build_tree(files)
    result = CliRunner().invoke(main, ["-C", str(root), "render"])
    assert result.exit_code == 2
    assert "project.scm.appID: only applies to github, not gitlab" in result.stderr


# --- names that collide, and settings the Promoter or Helm would refuse -------------------------


def test_two_applications_with_one_name_are_refused(build_tree: Callable[..., Path]) -> None:
    files = {
        "environments/_project.yaml": MULTI_APP["environments/_project.yaml"]
        .replace("  worker:\n", "  web-stage:\n")
        .replace("order: [dev, live]", "order: [dev, live, prod, stage-prod]"),
        "environments/dev.yaml": "namespace: shop-dev\napps:\n  web-stage: {enabled: false}\n",
        "environments/live.yaml": "namespace: shop\napps:\n  web-stage: {enabled: false}\n",
        "environments/prod.yaml": "namespace: shop-prod\napps:\n  web: {enabled: false}\n",
        "environments/stage-prod.yaml": "namespace: shop-stage-prod\napps:\n  web-stage: {enabled: false}\n",
    }
    root = build_tree(files)
    result = CliRunner().invoke(main, ["-C", str(root), "render"])
    assert result.exit_code == 2, result.output
    assert (
        "makes the Application 'web-stage-prod', as app 'web-stage' in environment 'prod' does"
        in result.stderr
    )


def test_one_release_twice_in_one_namespace_is_refused(example_repo: Path) -> None:
    stderr = _run_bad(
        example_repo, _edit("prod.yaml", "namespace: serviceradar\n", "namespace: demo\n")
    )
    assert (
        "environments/prod.yaml:3:12: namespace: app 'serviceradar' in environment 'prod' installs release"
        in stderr
    )
    assert (
        "into namespace 'demo' of the same cluster as app 'serviceradar' in environment 'demo'"
        in stderr
    )


def test_the_same_namespace_on_another_cluster_is_fine(example_repo: Path) -> None:
    prod = example_repo / "environments/prod.yaml"
    prod.write_text(
        prod.read_text().replace("namespace: serviceradar\n", "namespace: demo\n")
        + "destination:\n  server: https://prod.example.com:6443\n"
    )
    assert CliRunner().invoke(main, ["-C", str(example_repo), "check"]).exit_code == 1


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            _edit("_project.yaml", "secretRef: github-app-promoter", 'secretRef: "GH Secret"'),
            "environments/_project.yaml:12:16: project.scm.secretRef: 'GH Secret' is not a DNS-1123 subdomain",
        ),
        (
            _edit("_project.yaml", "namespace: argocd", 'namespace: "Argo CD"'),
            "project.argocd.namespace: 'Argo CD' is not a DNS-1123 label",
        ),
        (
            _edit("_project.yaml", "project: default", 'project: "x y"'),
            "project.argocd.project: 'x y' is not a DNS-1123 subdomain",
        ),
        (
            _edit("_project.yaml", "carverauto/serviceradar-gitops.git", "my_org/repo.git"),
            "project.repoURL: my_org/repo is not a valid github repository path",
        ),
        (
            _edit(
                "_project.yaml",
                "  serviceradar:\n    chart:",
                "  serviceradar:\n    releaseName: Not-Valid\n    chart:",
            ),
            "apps.serviceradar.releaseName: 'Not-Valid' is not a Helm release name",
        ),
        (
            _edit("_project.yaml", "apps:\n  serviceradar:", "apps:\n  " + "s" * 54 + ":"),
            "the release name '" + "s" * 54 + "' is longer than Helm's 53 characters",
        ),
        (
            _append("demo.yaml", "destination: {server: not a url}\n"),
            "destination.server: 'not a url' must be the cluster's API server URL",
        ),
        (
            _edit(
                "_project.yaml",
                "        - /status",
                "        - /status\n      jsonPointer: [/spec]",
            ),
            "defaults.ignoreDifferences[0].jsonPointer: unknown key; did you mean 'jsonPointers'?",
        ),
        (
            _append("demo.yaml", "extra: !!binary aGVsbG8=\n"),
            "environments/demo.yaml:18:8: extra: unsupported YAML type (bytes)",
        ),
        (
            _edit(
                "demo.yaml",
                "      namespace: demo\n",
                "      namespace: demo\n      tags: !!set {a, b}\n",
            ),
            "apps.serviceradar.values.tags: unsupported YAML type (set)",
        ),
    ],
    ids=[
        "secret-ref",
        "argocd-namespace",
        "argocd-project",
        "github-owner",
        "release-name",
        "release-name-from-long-app-name",
        "destination-server",
        "ignore-differences-typo",
        "binary",
        "set",
    ],
)
def test_settings_checked_in_the_spec_not_in_the_output(
    example_repo: Path, mutate: Mutate, expected: str
) -> None:
    stderr = _run_bad(example_repo, mutate)
    assert expected in stderr, stderr
    assert "templates/" not in stderr


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
