"""diff --manifests with the real Helm: the objects Argo CD will apply, compared object by object,
hazards first, Secret values and generated fields never shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from generator.cli import main
from tests.conftest import git, snapshot_tree
from tests.realclients import Helm
from tests.verify.test_verify import example_at, hello_project, render

pytestmark = pytest.mark.clients


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITOPS_GEN_CACHE", str(tmp_path_factory.getbasetemp() / "diff-cache"))


def commit(root: Path, message: str) -> None:
    if not (root / ".git").exists():
        git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def diff(root: Path, helm: Helm, *args: str) -> Result:
    result = CliRunner().invoke(
        main,
        ["-C", str(root), "diff", *args, "--manifests", "--helm", str(helm.path), "--plain-http"],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def diff_json(root: Path, helm: Helm, *args: str) -> tuple[int, dict[str, Any]]:
    result = diff(root, helm, *args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


# --- the example: chart 1.0.75 → 1.2.27 --------------------------------------------------------


@pytest.fixture(scope="module")
def bumped(oci_charts: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example at 1.0.75, then a commit that bumps it to 1.2.27 as a release does."""
    root = example_at(tmp_path_factory.mktemp("bump"), oci_charts)
    commit(root, "1.0.75")
    result = CliRunner().invoke(main, ["-C", str(root), "bump", "1.2.27"])
    assert result.exit_code == 0, result.output
    commit(root, "1.2.27")
    return root


def test_a_chart_bump_shows_images_and_puts_removed_volumes_first(bumped: Path, helm: Helm) -> None:
    result = diff(bumped, helm, "HEAD~1", "HEAD", "--format", "markdown")
    assert result.exit_code == 1, result.output
    report = result.stdout
    assert report.startswith("### ⚠️ Needs attention")
    hazards, _, rest = report.partition("<!-- gitops-gen diff -->")
    for env in ("demo", "prod"):
        assert (
            f"- `{env}/serviceradar` `PersistentVolumeClaim/serviceradar-core-data`: removed: the "
            "volume behind the claim, and its data, may go with it (the Application prunes: Argo "
            "CD deletes what is gone)"
        ) in hazards
        assert (
            f"- `{env}/serviceradar` `Deployment/serviceradar-nats`: becomes a StatefulSet under "
            "the same name" in hazards
        )
        assert (
            f"| `{env}/serviceradar` | `Deployment/serviceradar-core "
            "spec.template.spec.containers[name=core].image` | "
            "`ghcr.io/carverauto/serviceradar-core:v1.0.75` | `(none)` |"
        ) in rest
        assert (
            f"| `{env}/serviceradar` | `Deployment/serviceradar-core "
            "spec.template.spec.containers[name=core-elx].image` | `(none)` | "
            "`registry.carverauto.dev/serviceradar/serviceradar-core-elx:v1.2.27` |"
        ) in rest
    assert len(report) <= 65_000


def test_the_bump_in_json_counts_and_never_shows_a_generated_or_secret_value(
    bumped: Path, helm3: Helm
) -> None:
    code, data = diff_json(bumped, helm3, "HEAD~1", "HEAD")
    assert code == 1
    manifests = data["manifests"]
    [demo] = [app for app in manifests["apps"] if app["environment"] == "demo"]
    assert demo["objects"] == {"before": 120, "after": 114}
    statuses = [c["status"] for c in demo["changes"]]
    removed_pvcs = [
        c["object"]["name"]
        for c in demo["changes"]
        if c["status"] == "removed" and c["object"]["kind"] == "PersistentVolumeClaim"
    ]
    assert "serviceradar-core-data" in removed_pvcs and len(removed_pvcs) == 7
    assert statuses.count("removed") == 45 and statuses.count("added") == 39
    assert "Secret/demo/serviceradar-db-credentials: stringData.password" in demo["varies"]
    hidden = masked = 0
    for app in manifests["apps"]:
        for change in app["changes"]:
            for leaf in change["changes"]:
                if leaf["path"].endswith("postInitApplicationSQL"):
                    # 1.2.27 rewrites the list; the item 1.0.75 generated is masked, not shown.
                    assert leaf["before"][2] == "(varies on every render)"
                    masked += 1
                if change["object"]["kind"] == "Secret":
                    assert not leaf["path"].startswith("stringData")  # merged into data
                    if leaf["path"].startswith("data"):
                        values = {leaf.get("before"), leaf.get("after")}
                        assert values <= {None, "(secret value hidden)"}, leaf
                        hidden += 1
    assert hidden  # the bump does change Secret keys: they are shown, their values are not
    assert masked == 3  # one CNPG Cluster per environment


def test_no_change_exits_0_and_renders_nothing(bumped: Path, helm3: Helm) -> None:
    result = diff(bumped, helm3, "HEAD", "HEAD")
    assert result.exit_code == 0, result.output
    code, data = diff_json(bumped, helm3, "HEAD", "HEAD")
    assert code == 0 and data["manifests"]["rendered"] == [] and not data["changed"]


def test_a_change_to_one_environment_renders_only_that_environment(
    oci_charts: str, helm3: Helm, tmp_path: Path
) -> None:
    root = example_at(tmp_path / "repo", oci_charts)
    commit(root, "start")
    demo = root / "environments/demo.yaml"
    demo.write_text(
        demo.read_text().replace("host: demo.serviceradar.cloud", "host: demo2.serviceradar.cloud")
    )
    render(root)
    code, data = diff_json(root, helm3, "HEAD")  # HEAD → the working tree
    assert code == 1
    assert data["manifests"]["rendered"] == ["base:demo/serviceradar", "head:demo/serviceradar"]
    [app] = data["manifests"]["apps"]
    assert app["environment"] == "demo"
    hosts = [
        leaf
        for change in app["changes"]
        if change["object"]["kind"] == "Ingress"
        for leaf in change["changes"]
        if leaf["after"] == "demo2.serviceradar.cloud"
    ]
    assert hosts and all(leaf["before"] == "demo.serviceradar.cloud" for leaf in hosts)
    assert all(c["status"] == "changed" for c in app["changes"])


# --- Secrets and generated fields, on a chart whose values we know ----------------------------------


def test_secret_values_are_never_printed_and_generated_fields_are_masked(
    hello_chart: str, helm: Helm, tmp_path: Path
) -> None:
    values = "      secret: {enabled: true, token: s3cr3t-before}\n      nonce: {enabled: true}\n"
    root = hello_project(tmp_path / "hello", hello_chart, values)
    commit(root, "before")
    spec = root / "environments/_project.yaml"
    spec.write_text(spec.read_text().replace("s3cr3t-before", "s3cr3t-after"))
    render(root)
    commit(root, "after")
    for fmt in ("text", "markdown", "json"):
        result = diff(root, helm, "HEAD~1", "HEAD", "--format", fmt)
        assert result.exit_code == 1, result.output
        out = result.stdout
        # The values diff shows the spec as committed (secret.token is a value there); the
        # objects never show what the Secret holds, encoded or not.
        objects = (
            json.dumps(json.loads(out)["manifests"])
            if fmt == "json"
            else out.split("Objects Argo CD will apply")[1]
        )
        for secret in ("s3cr3t-before", "s3cr3t-after"):
            assert secret not in objects, (fmt, secret)
        for encoded in ("czNjcjN0LWJlZm9yZQ==", "czNjcjN0LWFmdGVy"):
            assert encoded not in out, (fmt, encoded)
        assert "GEN-" not in out, fmt  # the chart's randAlphaNum, on either side
    _, data = diff_json(root, helm, "HEAD~1", "HEAD")
    [dev, prod] = data["manifests"]["apps"]
    [secret] = dev["changes"]  # the nonce ConfigMap varies on every render: no change
    assert secret["object"]["kind"] == "Secret" and secret["status"] == "changed"
    assert secret["changes"] == [
        {
            "path": "data.token",
            "op": "changed",
            "before": "(secret value hidden)",
            "after": "(secret value hidden)",
        }
    ]
    assert dev["varies"] == [
        "ConfigMap/hello-nonce: data.nonce",
        "Secret/hello-token: stringData.generated",
    ]
    assert prod["changes"] == dev["changes"]  # the same token in both environments


def test_json_shape(hello_chart: str, helm3: Helm, tmp_path: Path, snapshot: Any) -> None:
    root = hello_project(tmp_path / "hello", hello_chart, "      persistence: {enabled: true}\n")
    commit(root, "before")
    spec = root / "environments/_project.yaml"
    spec.write_text(
        spec.read_text()
        .replace("      persistence: {enabled: true}\n", "      replicas: 3\n")
        .replace("tag: v0.3.0", "tag: v0.3.1")
    )
    render(root)
    commit(root, "after")
    code, data = diff_json(root, helm3, "HEAD~1", "HEAD")
    assert code == 1
    manifests = data["manifests"]
    manifests["helm"] = "<helm version>"
    assert manifests == snapshot
    [hazard, _] = manifests["hazards"]
    assert hazard["object"]["kind"] == "PersistentVolumeClaim" and hazard["prune"] is True


# --- every form of diff ---------------------------------------------------------------------------


def test_between_two_environments(hello_chart: str, helm3: Helm, tmp_path: Path) -> None:
    root = hello_project(tmp_path / "hello", hello_chart)
    prod = root / "environments/prod.yaml"
    prod.write_text(prod.read_text() + "apps:\n  hello:\n    values: {replicas: 4}\n")
    render(root)
    commit(root, "start")
    code, data = diff_json(root, helm3, "--between", "dev", "prod")
    assert code == 1
    [app] = data["manifests"]["apps"]
    assert app["environment"] == "dev → prod"
    [deployment] = app["changes"]
    assert deployment["changes"] == [
        {"path": "spec.replicas", "op": "changed", "before": 2, "after": 4}
    ]


def test_a_promotion(hello_chart: str, helm3: Helm, tmp_path: Path) -> None:
    root = hello_project(tmp_path / "hello", hello_chart)
    commit(root, "start")
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    git(root, "push", "-q", "origin", "HEAD:main")
    runner = CliRunner()
    assert runner.invoke(main, ["-C", str(root), "publish", "--push"]).exit_code == 0
    # Promote dev's first state by hand, as the Promoter's merge would.
    git(root, "push", "-q", "origin", "origin/environment/dev-next:refs/heads/environment/dev")
    spec = root / "environments/_project.yaml"
    spec.write_text(spec.read_text().replace("tag: v0.3.0", "tag: v0.3.1"))
    render(root)
    commit(root, "v0.3.1")
    git(root, "push", "-q", "origin", "HEAD:main")
    assert runner.invoke(main, ["-C", str(root), "publish", "--push"]).exit_code == 0
    git(root, "fetch", "-q", "origin")
    code, data = diff_json(root, helm3, "--promotion", "dev", "--remote", "origin")
    assert code == 1
    [app] = data["manifests"]["apps"]
    [deployment] = app["changes"]
    assert deployment["changes"] == [
        {
            "path": "spec.template.spec.containers[name=hello].image",
            "op": "changed",
            "before": "ghcr.io/example/hello:v0.3.0",
            "after": "ghcr.io/example/hello:v0.3.1",
        }
    ]


# --- bad input --------------------------------------------------------------------------------------


def test_a_revision_that_does_not_exist(hello_chart: str, helm3: Helm, tmp_path: Path) -> None:
    root = hello_project(tmp_path / "hello", hello_chart)
    commit(root, "start")
    before = snapshot_tree(root)
    result = diff(root, helm3, "no-such-rev", "HEAD")
    assert result.exit_code == 2
    assert "no-such-rev" in result.stderr and result.stderr.startswith("error: ")
    assert snapshot_tree(root) == before


def test_an_environment_one_side_lacks_is_added_whole(
    hello_chart: str, helm3: Helm, tmp_path: Path
) -> None:
    root = hello_project(tmp_path / "hello", hello_chart)
    commit(root, "start")
    (root / "environments/qa.yaml").write_text("namespace: hello-qa\n")
    spec = root / "environments/_project.yaml"
    spec.write_text(spec.read_text().replace("order: [dev, prod]", "order: [dev, qa, prod]"))
    render(root)
    code, data = diff_json(root, helm3, "HEAD")
    assert code == 1
    [app] = data["manifests"]["apps"]
    assert (app["environment"], app["status"]) == ("qa", "added")
    assert {c["status"] for c in app["changes"]} == {"added"} and len(app["changes"]) == 2


def test_helm_failing_on_one_side_names_the_side_the_environment_and_the_app(
    hello_chart: str, helm3: Helm, tmp_path: Path
) -> None:
    root = hello_project(tmp_path / "hello", hello_chart)
    commit(root, "start")
    dev = root / "environments/dev.yaml"
    dev.write_text(dev.read_text() + 'apps:\n  hello:\n    values: {service: {port: ""}}\n')
    render(root)
    result = diff(root, helm3, "HEAD")
    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"error: diff --manifests: dev/hello on the head side: helm template failed ({hello_chart}/hello:0.3.0): "
    )
    assert "service.port is required" in line
