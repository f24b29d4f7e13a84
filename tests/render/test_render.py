"""The rendered example: snapshot, determinism, and validity against the upstream CRDs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml as pyyaml
from jsonschema import Draft202012Validator

from generator.render.output import read_tree
from generator.render.repository import plan_repository, render_repository
from tests.conftest import CRDS, EXAMPLE_SPEC, REPO


def test_rendered_example_snapshot(example_repo: Path, snapshot: Any) -> None:
    assert plan_repository(example_repo).files == snapshot


def test_committed_rendered_tree_is_up_to_date() -> None:
    plan = plan_repository(REPO)
    on_disk = {path: data.decode() for path, data in read_tree(REPO / "rendered").items()}
    assert on_disk == plan.files


def test_render_is_deterministic_across_runs_and_directories(tmp_path: Path) -> None:
    trees = []
    for name in ("one", "two/nested/deeper"):
        root = tmp_path / name
        root.mkdir(parents=True)
        shutil.copytree(EXAMPLE_SPEC, root / "environments")
        render_repository(root)
        first = read_tree(root / "rendered")
        render_repository(root)  # a second run changes nothing
        assert read_tree(root / "rendered") == first
        trees.append(first)
    assert trees[0] == trees[1]
    for path, data in trees[0].items():
        assert b"\r" not in data, path
        assert str(tmp_path).encode() not in data, path
        data.decode("utf-8")


def test_render_removes_stale_files_only_inside_rendered(example_repo: Path) -> None:
    stale = example_repo / "rendered/environments/old-env/app/values.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("x: 1\n")
    outside = example_repo / "notes.txt"
    outside.write_text("keep me\n")
    _, changes = render_repository(example_repo)
    assert changes.removed == ["environments/old-env/app/values.yaml"]
    assert not stale.exists() and not stale.parent.parent.exists()
    assert outside.read_text() == "keep me\n"
    assert not list(example_repo.glob(".gitops-gen-tmp-*"))


def test_unchanged_render_writes_nothing(example_repo: Path) -> None:
    values = example_repo / "rendered/environments/demo/serviceradar/values.yaml"
    inode = values.stat().st_ino
    _, changes = render_repository(example_repo)
    assert not changes
    assert values.stat().st_ino == inode


def test_unchanged_files_survive_a_partial_change_as_the_same_bytes(example_repo: Path) -> None:
    demo = example_repo / "environments/demo.yaml"
    demo.write_text(demo.read_text().replace("demo.serviceradar.cloud", "demo.example.org"))
    before = read_tree(example_repo / "rendered")
    _, changes = render_repository(example_repo)
    assert changes.updated == ["environments/demo/serviceradar/values.yaml"]
    after = read_tree(example_repo / "rendered")
    assert {p for p in after if after[p] != before.get(p)} == set(changes.updated)


# --- the upstream CRDs -------------------------------------------------------------------------

CRD_FILES = {
    "Application": "argo-cd/application-crd.yaml",
    "PromotionStrategy": "gitops-promoter/promoter.argoproj.io_promotionstrategies.yaml",
    "GitRepository": "gitops-promoter/promoter.argoproj.io_gitrepositories.yaml",
    "ScmProvider": "gitops-promoter/promoter.argoproj.io_scmproviders.yaml",
    "ArgoCDCommitStatus": "gitops-promoter/promoter.argoproj.io_argocdcommitstatuses.yaml",
}


def crd_schema(kind: str) -> dict[str, Any]:
    crd = pyyaml.safe_load((CRDS / CRD_FILES[kind]).read_text())
    assert crd["spec"]["names"]["kind"] == kind
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")
    return version["schema"]["openAPIV3Schema"]  # type: ignore[no-any-return]


def unknown_fields(obj: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Fields the CRD's structural schema does not declare (the API server would prune them)."""
    found: list[str] = []
    if isinstance(obj, dict):
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return found
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, value in obj.items():
            if props is not None and key in props:
                found += unknown_fields(value, props[key], f"{path}.{key}")
            elif isinstance(extra, dict):
                found += unknown_fields(value, extra, f"{path}.{key}")
            elif (path == "" and key in ("apiVersion", "kind", "metadata")) or path == ".metadata":
                continue
            else:
                found.append(f"{path}.{key}")
    elif isinstance(obj, list) and "items" in schema:
        for index, item in enumerate(obj):
            found += unknown_fields(item, schema["items"], f"{path}[{index}]")
    return found


def _bootstrap_objects() -> list[tuple[str, dict[str, Any]]]:
    objects = []
    for path in sorted((REPO / "rendered/bootstrap").rglob("*.yaml")):
        data = pyyaml.safe_load(path.read_text())
        if data["kind"] != "Kustomization":
            objects.append((path.relative_to(REPO).as_posix(), data))
    return objects


@pytest.mark.skipif(not CRDS.is_dir(), reason="the upstream CRDs are not beside this checkout")
@pytest.mark.parametrize(
    ("name", "obj"), _bootstrap_objects(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_bootstrap_objects_validate_against_upstream_crds(name: str, obj: dict[str, Any]) -> None:
    schema = crd_schema(obj["kind"])
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(obj)]
    assert errors == []
    assert unknown_fields(obj, schema) == []
    assert obj["apiVersion"] in {"argoproj.io/v1alpha1", "promoter.argoproj.io/v1alpha1"}


@pytest.mark.skipif(not CRDS.is_dir(), reason="the upstream CRDs are not beside this checkout")
def test_crd_check_catches_unknown_fields() -> None:
    """The unknown-field walk is real: a typo in an Application is found."""
    schema = crd_schema("Application")
    app = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "x"},
        "spec": {
            "project": "default",
            "destination": {"server": "s", "namespace": "n"},
            "source": {"repoURL": "u", "targetRevison": "main"},
        },
    }
    assert unknown_fields(app, schema) == [".spec.source.targetRevison"]


def test_application_contract() -> None:
    """Single source on the active branch, finalizer, automated sync, CreateNamespace, selector label."""
    app = pyyaml.safe_load(
        (REPO / "rendered/bootstrap/applications/staging/serviceradar.yaml").read_text()
    )
    assert "sources" not in app["spec"]
    source = app["spec"]["source"]
    assert source["targetRevision"] == "environment/staging"
    assert source["path"] == "serviceradar"
    assert source["helm"]["releaseName"] == "serviceradar"
    assert app["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    assert app["spec"]["syncPolicy"]["automated"] == {
        "prune": True,
        "selfHeal": True,
        "allowEmpty": False,
    }
    assert "CreateNamespace=true" in app["spec"]["syncPolicy"]["syncOptions"]
    selector = pyyaml.safe_load((REPO / "rendered/bootstrap/argocd-commit-status.yaml").read_text())
    labels = selector["spec"]["applicationSelector"]["matchLabels"]
    assert labels.items() <= app["metadata"]["labels"].items()
    assert selector["spec"]["key"] == "argocd-health"


def test_promotion_strategy_contract() -> None:
    ps = pyyaml.safe_load((REPO / "rendered/bootstrap/promotion-strategy.yaml").read_text())
    envs = ps["spec"]["environments"]
    assert [e["branch"] for e in envs] == [
        "environment/staging",
        "environment/demo",
        "environment/prod",
    ]
    assert [e["autoMerge"] for e in envs] == [True, True, False]
    assert envs[0]["activeCommitStatuses"] == [{"key": "e2e"}]
    assert ps["spec"]["activeCommitStatuses"] == [{"key": "argocd-health"}]


def test_wrapper_chart_contract() -> None:
    base = REPO / "rendered/environments/demo/serviceradar"
    chart = pyyaml.safe_load((base / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert chart["dependencies"] == [
        {
            "name": "serviceradar",
            "version": "1.0.75",
            "repository": "oci://ghcr.io/carverauto/charts",
        }
    ]
    values = pyyaml.safe_load((base / "values.yaml").read_text())
    assert set(values) == {"global", "serviceradar"}
    assert values["global"] == {"imageTag": "v1.0.75", "imagePullPolicy": "IfNotPresent"}


def test_kustomization_lists_every_bootstrap_file() -> None:
    bootstrap = REPO / "rendered/bootstrap"
    kustomization = pyyaml.safe_load((bootstrap / "kustomization.yaml").read_text())
    files = sorted(p.relative_to(bootstrap).as_posix() for p in bootstrap.rglob("*.yaml"))
    assert sorted(kustomization["resources"]) == [f for f in files if f != "kustomization.yaml"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_kustomize_builds_the_bootstrap() -> None:
    out = subprocess.run(
        ["kubectl", "kustomize", str(REPO / "rendered/bootstrap")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    kinds = sorted(doc["kind"] for doc in pyyaml.safe_load_all(out))
    assert kinds == [
        "Application",
        "Application",
        "Application",
        "ArgoCDCommitStatus",
        "GitRepository",
        "PromotionStrategy",
        "ScmProvider",
    ]


def test_sync_options_are_one_per_name_and_the_spec_wins(example_repo: Path) -> None:
    prod = example_repo / "environments/prod.yaml"
    prod.write_text(
        prod.read_text()
        + "sync:\n  options: [CreateNamespace=false, ServerSideApply=true, ServerSideApply=true]\n"
    )
    plan = plan_repository(example_repo).files
    app = pyyaml.safe_load(plan["bootstrap/applications/prod/serviceradar.yaml"])
    assert app["spec"]["syncPolicy"]["syncOptions"] == [
        "CreateNamespace=false",
        "ServerSideApply=true",
    ]


def test_check_diff_marks_a_missing_newline_inside_a_hunk(example_repo: Path) -> None:
    from generator.render.repository import check_repository

    kustomization = example_repo / "rendered/bootstrap/kustomization.yaml"
    kustomization.write_text(kustomization.read_text().rstrip("\n"))
    _, diff = check_repository(example_repo)
    assert "-  - scm-provider.yaml\n\\ No newline at end of file\n+  - scm-provider.yaml\n" in diff


def test_a_template_that_raises_is_a_located_input_error(example_repo: Path) -> None:
    from click.testing import CliRunner

    from generator.cli import main

    templates = example_repo / "templates/environment"
    templates.mkdir(parents=True)
    (templates / "README.md.j2").write_text("# {{ env.name }}\n{{ 1 // 0 }}\n")
    result = CliRunner().invoke(main, ["-C", str(example_repo), "render"])
    assert result.exit_code == 2, result.output
    assert "templates/environment/README.md.j2:2:1: ZeroDivisionError" in result.stderr


def test_concurrent_renders_never_leave_a_partial_tree(example_repo: Path) -> None:
    """Writers are serialised, so each render sees the tree the previous one left."""
    import concurrent.futures
    import subprocess
    import sys

    demo = example_repo / "environments/demo.yaml"
    hosts = [f"demo{i}.example.org" for i in range(6)]
    expected_files = set(read_tree(example_repo / "rendered"))

    def run(host: str) -> int:
        return subprocess.run(
            [sys.executable, "-m", "generator", "-C", str(example_repo), "render"],
            capture_output=True,
            check=False,
        ).returncode

    text = demo.read_text()
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futures = []
        for host in hosts:
            demo.write_text(text.replace("demo.serviceradar.cloud", host))
            futures.append(pool.submit(run, host))
        assert [f.result() for f in futures] == [0] * len(hosts)
    assert set(read_tree(example_repo / "rendered")) == expected_files
    assert not list(example_repo.glob(".gitops-gen-tmp-*"))
    # and the last render's content is consistent with what is on disk now
    render_repository(example_repo)
    from generator.render.repository import check_repository

    assert not check_repository(example_repo)[0]
