"""The example's wrapper charts through the real clients: Helm 3 and Helm 4 against a loopback OCI
registry and a classic HTTP chart repository holding the real ServiceRadar charts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import realclients
from tests.realclients import (
    ChartRepository,
    Helm,
    OciRegistry,
    make_helm,
    point_at,
    require_client,
    sha256,
)

pytestmark = pytest.mark.clients

WrapperChart = Callable[..., Path]


def render(helm: Helm, chart: Path, namespace: str) -> list[dict[str, Any]]:
    """``helm dependency build`` then ``helm template``, as Argo CD does for a chart in git."""
    helm.run("dependency", "build", "--plain-http", cwd=chart)
    out = helm.run("template", "serviceradar", ".", "--namespace", namespace, cwd=chart).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc is not None]


def named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def image(deployment: dict[str, Any]) -> str:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return str(containers[0]["image"])


# env: (namespace, image tag, pull policy), as environments/*.yaml set them.
ENVIRONMENTS = {
    "staging": ("demo-staging", "latest", "Always"),
    "demo": ("demo", "v1.0.75", "IfNotPresent"),
    "prod": ("serviceradar", "v1.0.75", "IfNotPresent"),
}


def assert_renders_1_0_75(objects: list[dict[str, Any]], env: str) -> None:
    """What an environment with chart 1.0.75 renders (measured with Helm 3.17.3 and 4.1.4)."""
    namespace, tag, pull_policy = ENVIRONMENTS[env]
    assert len(objects) == 117
    kinds = Counter(o["kind"] for o in objects)
    assert (kinds["Deployment"], kinds["StatefulSet"]) == (19, 1)
    core = named(objects, "Deployment", "serviceradar-core")
    assert image(core) == f"ghcr.io/carverauto/serviceradar-core:{tag}"
    assert core["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == pull_policy
    namespaced = [o for o in objects if "namespace" in o["metadata"]]
    assert namespaced
    assert {o["metadata"]["namespace"] for o in namespaced} == {namespace}


@pytest.mark.parametrize("env", list(ENVIRONMENTS))
def test_each_environment_renders_from_the_loopback_oci_registry(
    helm: Helm, oci_charts: str, example_wrapper_chart: WrapperChart, env: str
) -> None:
    chart = example_wrapper_chart(oci_charts, env)
    objects = render(helm, chart, ENVIRONMENTS[env][0])
    assert (chart / "charts" / "serviceradar-1.0.75.tgz").is_file()
    assert f"repository: {oci_charts}" in (chart / "Chart.lock").read_text()
    assert_renders_1_0_75(objects, env)


def test_demo_renders_from_the_http_chart_repository(
    helm: Helm, http_chart_repo: ChartRepository, example_wrapper_chart: WrapperChart
) -> None:
    chart = example_wrapper_chart(http_chart_repo.url)
    objects = render(helm, chart, "demo")
    assert f"repository: {http_chart_repo.url}" in (chart / "Chart.lock").read_text()
    assert_renders_1_0_75(objects, "demo")


def test_a_chart_bump_renders_the_new_chart(
    helm: Helm, oci_charts: str, example_wrapper_chart: WrapperChart
) -> None:
    """Demo, same values, chart 1.0.75 -> 1.2.27. Counted by (kind, name): 45 removed (7 of them
    PersistentVolumeClaims), 39 added; FACTS.md's "chart bump facts" say 46 and 8."""
    before = render(helm, example_wrapper_chart(oci_charts), "demo")
    after = render(helm, example_wrapper_chart(oci_charts, version="1.2.27"), "demo")
    assert (len(before), len(after)) == (117, 111)
    old = {(o["kind"], o["metadata"]["name"]) for o in before}
    new = {(o["kind"], o["metadata"]["name"]) for o in after}
    removed, added = old - new, new - old
    assert (len(removed), len(added)) == (45, 39)
    assert sum(kind == "PersistentVolumeClaim" for kind, _ in removed) == 7
    assert ("Deployment", "serviceradar-nats") in removed
    assert ("StatefulSet", "serviceradar-nats") in added
    # 1.2.27 moved the core image; the demo values still pin the old tag on it.
    core = named(after, "Deployment", "serviceradar-core")
    assert image(core) == "registry.carverauto.dev/serviceradar/serviceradar-core-elx:v1.0.75"


@pytest.mark.parametrize("source", ["oci", "http"])
def test_pull_returns_the_packaged_archive(
    helm: Helm,
    source: str,
    oci_charts: str,
    http_chart_repo: ChartRepository,
    serviceradar_archives: dict[str, Path],
    tmp_path: Path,
) -> None:
    if source == "oci":
        helm.run(
            "pull",
            f"{oci_charts}/serviceradar",
            "--version",
            "1.0.75",
            "--plain-http",
            "--destination",
            tmp_path,
        )
    else:
        helm.run(
            "pull",
            "serviceradar",
            "--repo",
            http_chart_repo.url,
            "--version",
            "1.0.75",
            "--destination",
            tmp_path,
        )
    pulled = tmp_path / "serviceradar-1.0.75.tgz"
    assert sha256(pulled) == sha256(serviceradar_archives["1.0.75"])


def test_only_helm4_needs_plain_http_for_the_loopback_registry(
    helm: Helm, oci_charts: str, example_wrapper_chart: WrapperChart
) -> None:
    """Helm 3.17 falls back to plain HTTP for a loopback registry; Helm 4 insists on TLS unless
    told ``--plain-http``. Tests pass the flag to both."""
    chart = example_wrapper_chart(oci_charts)
    result = helm.run("dependency", "build", cwd=chart, check=False)
    if helm.major == 3:
        assert result.returncode == 0, result.stderr
        assert (chart / "charts" / "serviceradar-1.0.75.tgz").is_file()
    else:
        assert result.returncode != 0
        assert "server gave HTTP response to HTTPS client" in result.stderr
        assert not (chart / "charts" / "serviceradar-1.0.75.tgz").exists()


def test_the_registry_stores_what_was_pushed(
    oci_registry: OciRegistry, oci_charts: str, helm: Helm
) -> None:
    assert oci_charts == oci_registry.url == f"oci://{oci_registry.host}/charts"
    repositories = oci_registry.root / "docker/registry/v2/repositories/charts/serviceradar"
    assert sorted(p.name for p in (repositories / "_manifests/tags").iterdir()) == [
        "1.0.75",
        "1.2.27",
    ]
    shown = helm.run(
        "show", "chart", f"{oci_charts}/serviceradar", "--version", "1.2.27", "--plain-http"
    )
    assert yaml.safe_load(shown.stdout)["version"] == "1.2.27"


def test_the_http_repository_index_names_its_own_url(http_chart_repo: ChartRepository) -> None:
    index = yaml.safe_load((http_chart_repo.directory / "index.yaml").read_text())
    entries = index["entries"]["serviceradar"]
    assert sorted(e["version"] for e in entries) == ["1.0.75", "1.2.27"]
    assert {url for e in entries for url in e["urls"]} == {
        f"{http_chart_repo.url}/serviceradar-1.0.75.tgz",
        f"{http_chart_repo.url}/serviceradar-1.2.27.tgz",
    }


def test_helm_runs_in_its_own_homes(helm: Helm, tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.getbasetemp()
    for name in (
        "HELM_CACHE_HOME",
        "HELM_CONFIG_HOME",
        "HELM_DATA_HOME",
        "HELM_REGISTRY_CONFIG",
        "HELM_REPOSITORY_CONFIG",
        "HELM_REPOSITORY_CACHE",
    ):
        assert Path(helm.env[name]).is_relative_to(base), name
    reported = dict(
        line.split("=", 1) for line in helm.run("env").stdout.splitlines() if "=" in line
    )
    assert reported["HELM_CACHE_HOME"].strip('"') == helm.env["HELM_CACHE_HOME"]
    assert reported["HELM_REPOSITORY_CONFIG"].strip('"') == helm.env["HELM_REPOSITORY_CONFIG"]
    assert helm.run("version", "--short").stdout.startswith(f"v{helm.major}.")


# --- the helpers themselves ---


def test_require_client_skips_locally_and_fails_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "helm"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"Helm 3 is missing .*install-clients\.sh"):
        require_client("Helm 3", missing)
    monkeypatch.setenv("CI", "")  # empty counts as unset
    with pytest.raises(pytest.skip.Exception):
        require_client("Helm 3", None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"Helm 3 is missing .*install-clients\.sh"):
        require_client("Helm 3", missing)
    missing.write_text("#!/bin/sh\n")  # present but not executable is still missing
    with pytest.raises(pytest.fail.Exception):
        require_client("Helm 3", missing)
    missing.chmod(0o755)
    assert require_client("Helm 3", missing) == missing


def test_make_helm_refuses_the_wrong_major(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    helm4 = require_client("Helm 4", realclients.CLIENTS["helm4"])
    monkeypatch.setitem(realclients.CLIENTS, "helm3", helm4)
    with pytest.raises(pytest.fail.Exception, match="is Helm 4, expected Helm 3"):
        make_helm("helm3", tmp_path)


RENDERED_CHART = """\
# Rendered by gitops-gen from environments/. Do not edit; run gitops-gen render.
apiVersion: v2
name: serviceradar
version: "1.0.75"
dependencies:
  - name: serviceradar
    version: "1.0.75"
    repository: oci://ghcr.io/carverauto/charts
"""


def test_point_at_moves_only_the_dependency() -> None:
    moved = point_at(RENDERED_CHART, "oci://127.0.0.1:5000/charts")
    assert moved == RENDERED_CHART.replace(
        "repository: oci://ghcr.io/carverauto/charts", 'repository: "oci://127.0.0.1:5000/charts"'
    )
    bumped = yaml.safe_load(point_at(RENDERED_CHART, "http://127.0.0.1:1", version="1.2.27"))
    assert bumped["version"] == "1.0.75"  # the wrapper chart's own version is left alone
    assert bumped["dependencies"] == [
        {"name": "serviceradar", "version": "1.2.27", "repository": "http://127.0.0.1:1"}
    ]
    with pytest.raises(ValueError, match="no dependencies"):
        point_at("apiVersion: v2\nname: x\n", "oci://x")


def test_point_at_handles_flush_lists_and_later_keys() -> None:
    text = (
        "apiVersion: v2\nname: w\ndependencies:\n- name: a\n  repository: oci://a\n"
        "- name: b\n  version: 1.0.0\n  repository: https://b\nversion: 0.1.0\n"
    )
    chart = yaml.safe_load(point_at(text, "oci://here", version="2.0.0"))
    assert chart["version"] == "0.1.0"
    assert [d["repository"] for d in chart["dependencies"]] == ["oci://here", "oci://here"]
    assert chart["dependencies"][1]["version"] == "2.0.0"
