"""verify with the real Helm 3 and 4, the real ServiceRadar chart in a loopback OCI registry and
a classic HTTP repository, and a second, small chart of our own."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from generator.cli import main
from tests.conftest import EXAMPLE_SPEC, REPO, snapshot_tree
from tests.realclients import Helm, OciRegistry, start_registry

pytestmark = pytest.mark.clients

GHCR = "oci://ghcr.io/carverauto/charts"
HELLO_CHART = REPO / "tests/testdata/charts/hello"

# The containers of the real chart 1.0.75 whose templates ignore global.imageTag: they run a
# mutable tag (latest, or none) whatever the environment pins.
MUTABLE_IN_DEMO = {
    ("DaemonSet/demo/spire-agent", "wait-for-server", "cgr.dev/chainguard/wait-for-it"),
    (
        "Deployment/serviceradar-core",
        "init-core-jwks",
        "ghcr.io/carverauto/serviceradar-kong-config:latest",
    ),
    (
        "Deployment/serviceradar-db-event-writer",
        "db-event-writer",
        "ghcr.io/carverauto/serviceradar-db-event-writer:latest",
    ),
    (
        "Deployment/serviceradar-kong",
        "kong-config-watcher",
        "ghcr.io/carverauto/serviceradar-kong-config:latest",
    ),
    (
        "Deployment/serviceradar-kong",
        "render-kong-config",
        "ghcr.io/carverauto/serviceradar-kong-config:latest",
    ),
    (
        "Deployment/serviceradar-tools",
        "init-debug-tools",
        "ghcr.io/carverauto/serviceradar-tools:latest",
    ),
    ("Deployment/serviceradar-tools", "tools", "ghcr.io/carverauto/serviceradar-tools:latest"),
    (
        "Job/demo/serviceradar-secret-generator",
        "secret-generator",
        "ghcr.io/carverauto/serviceradar-tools:latest",
    ),
    ("Job/serviceradar-cert-generator", "cert-generator", "alpine/openssl:latest"),
    ("Job/serviceradar-cert-regenerator", "cert-regenerator", "alpine/openssl:latest"),
    (
        "Job/serviceradar-checker-templates-kv-bootstrap-serviceradar",
        "kv-bootstrap",
        "ghcr.io/carverauto/serviceradar-tools:latest",
    ),
    (
        "Job/serviceradar-db-event-writer-kv-bootstrap-serviceradar",
        "kv-bootstrap",
        "ghcr.io/carverauto/serviceradar-tools:latest",
    ),
    ("StatefulSet/demo/spire-server", "init-config", "busybox"),
}
# Of those, the ones whose effective pull policy is not Always: a node keeps its first pull.
NOT_ALWAYS_PULLED = {
    ("Deployment/serviceradar-kong", "kong-config-watcher"),
    ("Deployment/serviceradar-kong", "render-kong-config"),
    ("Job/demo/serviceradar-secret-generator", "secret-generator"),
    ("Job/serviceradar-checker-templates-kv-bootstrap-serviceradar", "kv-bootstrap"),
    ("Job/serviceradar-db-event-writer-kv-bootstrap-serviceradar", "kv-bootstrap"),
}


def render(root: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(root), "render"])
    assert result.exit_code == 0, result.output


def example_at(root: Path, repository: str) -> Path:
    """The bundled example, its chart pulled from ``repository`` instead of ghcr.io, rendered."""
    shutil.copytree(EXAMPLE_SPEC, root / "environments")
    project = root / "environments/_project.yaml"
    text = project.read_text()
    assert GHCR in text
    project.write_text(text.replace(GHCR, repository))
    render(root)
    return root


@pytest.fixture(scope="session")
def chart_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One chart cache for the tests that don't look at fetching: each chart is fetched once."""
    return tmp_path_factory.mktemp("chart-cache")


@pytest.fixture
def cache(chart_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GITOPS_GEN_CACHE", str(chart_cache))
    return chart_cache


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("GITOPS_GEN_CACHE", str(folder))
    return folder


def verify(root: Path, helm: Helm | str, *args: str) -> Result:
    path = helm if isinstance(helm, str) else str(helm.path)
    result = CliRunner().invoke(
        main, ["-C", str(root), "verify", "--helm", path, "--plain-http", *args]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def verify_json(root: Path, helm: Helm | str, *args: str) -> tuple[int, dict[str, Any]]:
    result = verify(root, helm, "--format", "json", *args)
    return result.exit_code, json.loads(result.stdout)


def findings(data: dict[str, Any], env: str, code: str) -> list[dict[str, Any]]:
    [target] = [t for t in data["targets"] if t["environment"] == env]
    return [f for f in target["findings"] if f["code"] == code]


def obj(finding: dict[str, Any]) -> str:
    o = finding["object"]
    return f"{o['kind']}/{o['namespace'] + '/' if o['namespace'] else ''}{o['name']}"


# --- the example, as the issue measured it ---------------------------------------------------------


@pytest.fixture(scope="session")
def _example_json(
    oci_charts: str, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Helm], tuple[int, dict[str, Any]]]:
    """verify's JSON for the example, once per Helm major (the checks below read the same run)."""
    runs: dict[int, tuple[int, dict[str, Any]]] = {}

    def get(helm: Helm) -> tuple[int, dict[str, Any]]:
        if helm.major not in runs:
            root = example_at(tmp_path_factory.mktemp(f"example-helm{helm.major}"), oci_charts)
            runs[helm.major] = verify_json(root, helm)
        return runs[helm.major]

    return get


def test_example_renders_in_every_environment(
    _example_json: Callable[[Helm], tuple[int, dict[str, Any]]], helm: Helm, cache: Path
) -> None:
    code, data = _example_json(helm)
    assert code == 0, data["summary"]  # warnings only
    assert data["helm"].startswith(f"v{helm.major}.")
    assert [t["environment"] for t in data["targets"]] == ["staging", "demo", "prod"]
    for target in data["targets"]:
        # 117 objects, plus the 3 CRDs that --include-crds adds, as Argo CD's repo server does.
        assert target["objects"] == 120
        assert target["charts"] == [f"{data['targets'][0]['charts'][0]}"]
        assert target["customKinds"] == [
            "postgresql.cnpg.io/v1 Cluster",
            "spire.spiffe.io/v1alpha1 ClusterSPIFFEID",
        ]
        assert not [f for f in target["findings"] if f["severity"] == "error"]
    assert data["summary"]["errors"] == 0


def test_mutable_containers_are_listed_in_pinned_environments(
    _example_json: Callable[[Helm], tuple[int, dict[str, Any]]], helm: Helm, cache: Path
) -> None:
    _, data = _example_json(helm)
    demo = {(obj(f), f["container"], f["image"]) for f in findings(data, "demo", "mutable-image")}
    assert demo == MUTABLE_IN_DEMO
    prod = {(obj(f), f["container"], f["image"]) for f in findings(data, "prod", "mutable-image")}
    assert prod == {(o.replace("/demo/", "/serviceradar/"), c, i) for o, c, i in MUTABLE_IN_DEMO}
    for f in findings(data, "demo", "mutable-image"):
        assert "pins v1.0.75" in f["message"]


def test_staging_follows_latest_so_only_pull_policies_are_reported(
    _example_json: Callable[[Helm], tuple[int, dict[str, Any]]], helm: Helm, cache: Path
) -> None:
    _, data = _example_json(helm)
    assert findings(data, "staging", "mutable-image") == []
    for env in ("staging", "demo"):
        policy = findings(data, env, "pull-policy")
        namespace = "demo-staging" if env == "staging" else "demo"
        expected = {(o.replace("/demo/", f"/{namespace}/"), c) for o, c in NOT_ALWAYS_PULLED}
        assert {(obj(f), f["container"]) for f in policy} == expected
        assert all("IfNotPresent" in f["message"] for f in policy)


def test_generated_fields_are_found_and_cluster_scoped_objects_named(
    _example_json: Callable[[Helm], tuple[int, dict[str, Any]]], helm: Helm, cache: Path
) -> None:
    _, data = _example_json(helm)
    [demo] = [t for t in data["targets"] if t["environment"] == "demo"]
    assert demo["varies"] == [
        "Cluster/demo/cnpg: spec.bootstrap.initdb.postInitApplicationSQL[2]",
        "Secret/demo/serviceradar-db-credentials: stringData.password",
    ]
    shared = {obj(f) for f in findings(data, "demo", "cluster-scoped")}
    assert "CustomResourceDefinition/clusterspiffeids.spire.spiffe.io" in shared
    assert "ClusterSPIFFEID/serviceradar-core-demo" in shared  # scope read from the chart's CRD
    assert not any(name.startswith(("Deployment/", "Service/")) for name in shared)


def test_a_value_the_chart_ignores_is_an_error_with_a_suggestion(
    oci_charts: str, helm: Helm, cache: Path, tmp_path: Path
) -> None:
    root = example_at(tmp_path / "repo", oci_charts)
    demo = root / "environments/demo.yaml"
    text = demo.read_text()
    assert "      ingress:\n        host: demo" in text
    demo.write_text(text.replace("      ingress:\n", "      ingress:\n        hots: x\n"))
    render(root)
    line = demo.read_text().splitlines().index("        hots: x") + 1
    result = verify(root, helm, "--env", "demo")
    assert result.exit_code == 1, result.output
    assert (
        f"error: environments/demo.yaml:{line}:9: demo/serviceradar: ingress.hots: has no effect: "
        "serviceradar 1.0.75 has no such value, and removing it leaves every object unchanged; "
        "did you mean ingress.host?"
    ) in result.stdout
    assert "verify: 1 error," in result.stderr
    # A key under a map the chart leaves empty is free-form: annotations are never reported.
    assert "annotations" not in result.stdout


def test_classic_http_repository(
    http_chart_repo: Any, helm3: Helm, cache: Path, tmp_path: Path
) -> None:
    root = example_at(tmp_path / "repo", http_chart_repo.url)
    code, data = verify_json(root, helm3, "--env", "staging")
    assert code == 0, data
    [staging] = data["targets"]
    assert staging["objects"] == 120
    assert staging["charts"] == [f"serviceradar 1.0.75 from {http_chart_repo.url}"]


# --- a second project ---------------------------------------------------------------------------


def hello_project(root: Path, repository: str, values: str = "", tag: str = "v0.3.0") -> Path:
    (root / "environments").mkdir(parents=True)
    (root / "environments/_project.yaml").write_text(
        "project:\n"
        "  name: hello\n"
        "  repoURL: https://github.com/example/hello-gitops.git\n"
        "  scm: {provider: github, secretRef: gh-app, appID: 1}\n"
        "apps:\n"
        "  hello:\n"
        f"    chart: {{repository: '{repository}', name: hello, version: 0.3.0}}\n"
        f"    image: {{tag: {tag}}}\n"
        "    values:\n"
        "      podAnnotations: {team: web}\n" + values + "promotion:\n  order: [dev, prod]\n"
    )
    (root / "environments/dev.yaml").write_text("namespace: hello-dev\n")
    (root / "environments/prod.yaml").write_text("namespace: hello\nautoMerge: false\n")
    render(root)
    return root


def test_a_second_project_verifies(
    hello_chart: str, helm: Helm, cache: Path, tmp_path: Path
) -> None:
    root = hello_project(tmp_path / "hello", hello_chart)
    code, data = verify_json(root, helm)
    assert code == 0, data
    assert [(t["environment"], t["objects"]) for t in data["targets"]] == [("dev", 2), ("prod", 2)]
    [dev, _] = data["targets"]
    # The sidecar runs nginx without a tag while the spec pins v0.3.0, and it is pulled only once.
    assert {(f["code"], f["container"], f["image"]) for f in dev["findings"]} == {
        ("mutable-image", "proxy", "docker.io/library/nginx"),
        ("pull-policy", "proxy", "docker.io/library/nginx"),
    }
    assert dev["customKinds"] == [] and dev["varies"] == []


def test_an_object_invalid_for_kubernetes_is_an_error(
    hello_chart: str, helm3: Helm, cache: Path, tmp_path: Path
) -> None:
    root = hello_project(tmp_path / "hello", hello_chart, values='      replicas: "2"\n')
    code, data = verify_json(root, helm3, "--env", "dev", "--kube-version", "1.33")
    assert code == 1
    assert data["kubeVersion"] == "1.33"
    [finding] = findings(data, "dev", "invalid-object")
    assert obj(finding) == "Deployment/hello-hello" and finding["path"] == "spec.replicas"
    assert "invalid for Kubernetes 1.33: '2' is not of type 'integer'" in finding["message"]
    # --skip-schemas leaves the Kubernetes schemas out: the same objects then pass.
    code, data = verify_json(root, helm3, "--env", "dev", "--skip-schemas")
    assert code == 0 and data["schemasChecked"] is False


def test_strict_turns_warnings_into_exit_1(
    hello_chart: str, helm3: Helm, cache: Path, tmp_path: Path
) -> None:
    root = hello_project(tmp_path / "hello", hello_chart)
    assert verify(root, helm3).exit_code == 0
    assert verify(root, helm3, "--strict").exit_code == 1


def test_each_spec_file_is_parsed_once_however_many_values_have_no_effect(
    hello_chart: str, helm3: Helm, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four findings, each located by looking in up to three files: still one parse per file."""
    from generator import yamlio

    values = "      replicaz: 3\n      servise: {port: 1}\n"
    root = hello_project(tmp_path / "hello", hello_chart, values=values)
    parsed: list[str] = []
    real_load_located = yamlio.load_located

    def counting(text: str) -> Any:
        parsed.append(text)
        return real_load_located(text)

    monkeypatch.setattr(yamlio, "load_located", counting)
    code, data = verify_json(root, helm3, "--skip-schemas")
    assert code == 1, data
    sources = [f["source"] for env in ("dev", "prod") for f in findings(data, env, "no-effect")]
    assert len(sources) == 4, sources
    assert all(s.startswith("environments/_project.yaml:") for s in sources), sources
    spec_dir = root / "environments"
    spec_texts = [
        (spec_dir / name).read_text() for name in ("_project.yaml", "dev.yaml", "prod.yaml")
    ]
    assert sorted(parsed) == sorted(spec_texts)


# --- the chart cache ----------------------------------------------------------------------------


@pytest.fixture
def own_registry(tmp_path: Path) -> Iterator[OciRegistry]:
    """A registry of this test's own, which the test can stop."""
    with start_registry(tmp_path / "registry") as registry:
        yield registry


def test_a_warm_cache_never_touches_the_registry_and_a_corrupt_entry_is_fetched_again(
    own_registry: OciRegistry,
    helm: Helm,
    fresh_cache: Path,
    tmp_path: Path,
) -> None:
    url = own_registry.url
    helm.run("package", str(HELLO_CHART), "--destination", str(tmp_path))
    helm.run("push", str(tmp_path / "hello-0.3.0.tgz"), url, "--plain-http")
    root = hello_project(tmp_path / "hello", url)
    code, cold = verify_json(root, helm)
    assert code == 0 and cold["fetched"] == [f"{url}/hello:0.3.0"]
    [archive] = fresh_cache.glob("charts/*/hello-0.3.0.tgz")
    own_registry.stop()  # from here on, the registry is gone
    code, warm = verify_json(root, helm)
    assert code == 0 and warm["fetched"] == [] and warm["refetched"] == []
    assert warm["targets"] == cold["targets"]
    # A damaged entry is dropped and fetched again: with the registry gone, that fails, naming it.
    archive.write_bytes(archive.read_bytes()[:-100])
    code, broken = verify_json(root, helm)
    assert code == 1 and broken["refetched"] == [f"{url}/hello:0.3.0"]
    [finding] = findings(broken, "dev", "helm-failed")
    assert finding["message"].startswith(f"cannot fetch the chart: {url}/hello:0.3.0: ")


def test_a_corrupt_cache_entry_is_fetched_again_and_the_run_goes_on(
    hello_chart: str, helm3: Helm, fresh_cache: Path, tmp_path: Path
) -> None:
    root = hello_project(tmp_path / "hello", hello_chart)
    code, first = verify_json(root, helm3)
    [archive] = fresh_cache.glob("charts/*/hello-0.3.0.tgz")
    archive.write_bytes(b"not a chart")
    code, again = verify_json(root, helm3)
    assert code == 0
    assert again["refetched"] == again["fetched"] == [f"{hello_chart}/hello:0.3.0"]
    assert again["targets"] == first["targets"]
    assert archive.read_bytes() != b"not a chart"


# --- failures: one line each, no traceback ------------------------------------------------------


def test_unreachable_registry_names_the_chart_and_the_registry(
    helm: Helm, fresh_cache: Path, tmp_path: Path
) -> None:
    from tests.realclients import free_port

    url = f"oci://127.0.0.1:{free_port()}/charts"  # nothing listens there
    root = hello_project(tmp_path / "hello", url)
    result = verify(root, helm)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stdout.splitlines() if "error:" in line]
    assert len(lines) == 2  # dev and prod, one line each
    assert lines[0].startswith(f"  error: dev/hello: cannot fetch the chart: {url}/hello:0.3.0: ")
    assert "connection refused" in lines[0]


def test_missing_chart_version_names_the_chart_and_the_registry(
    hello_chart: str, helm: Helm, fresh_cache: Path, tmp_path: Path
) -> None:
    root = hello_project(tmp_path / "hello", hello_chart)
    for name in ("_project.yaml",):
        path = root / "environments" / name
        path.write_text(path.read_text().replace("version: 0.3.0", "version: 9.9.9"))
    render(root)
    code, data = verify_json(root, helm, "--env", "dev")
    assert code == 1
    [finding] = findings(data, "dev", "helm-failed")
    assert finding["message"].startswith(f"cannot fetch the chart: {hello_chart}/hello:9.9.9: ")


@pytest.mark.parametrize("kind", ["missing", "not-executable", "not-helm"])
def test_a_helm_that_does_not_run_is_a_usage_error(kind: str, tmp_path: Path) -> None:
    root = hello_project(tmp_path / "hello", "oci://127.0.0.1:1/charts")
    fake = tmp_path / "helm"
    if kind == "not-executable":
        fake.write_text("#!/bin/sh\necho v3.17.3\n")
        fake.chmod(0o644)
    elif kind == "not-helm":
        fake.write_text("#!/bin/sh\necho hello\n")
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    before = snapshot_tree(root)
    result = verify(root, str(fake))
    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ") and str(fake) in line, line
    assert snapshot_tree(root) == before


def test_unknown_environment_is_a_usage_error(tmp_path: Path, helm3: Helm) -> None:
    root = hello_project(tmp_path / "hello", "oci://127.0.0.1:1/charts")
    result = verify(root, helm3, "--env", "stage")
    assert result.exit_code == 2
    assert result.stderr == "error: no environment named 'stage'; known: dev, prod\n"


def test_verify_never_writes_inside_rendered(
    hello_chart: str, helm3: Helm, cache: Path, tmp_path: Path
) -> None:
    root = hello_project(tmp_path / "hello", hello_chart)
    before = snapshot_tree(root)
    assert verify(root, helm3).exit_code == 0
    assert snapshot_tree(root) == before


def test_helm_on_path_is_the_default(
    hello_chart: str, helm3: Helm, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = hello_project(tmp_path / "hello", hello_chart)
    monkeypatch.setenv("PATH", f"{helm3.path.parent}{os.pathsep}{os.environ['PATH']}")
    result = CliRunner().invoke(main, ["-C", str(root), "verify", "--plain-http"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Helm v3.17.3")
