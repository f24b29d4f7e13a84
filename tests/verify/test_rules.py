"""verify's rules that need no Helm: image tags, pull policies, Kubernetes versions, targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import UsageError
from generator.helm.manifests import parse
from generator.verify.images import containers, image_tag
from generator.verify.kubeschema import bundled_versions, resolve_version
from generator.verify.run import find_targets, read_api_versions


@pytest.mark.parametrize(
    ("image", "tag"),
    [
        ("busybox", None),
        ("busybox:1.36", "1.36"),
        ("registry:5000/team/app", None),
        ("registry:5000/team/app:v2", "v2"),
        ("app@sha256:" + "a" * 64, None),
        ("app:latest@sha256:" + "a" * 64, "latest"),
    ],
)
def test_image_tag(image: str, tag: str | None) -> None:
    assert image_tag(image) == tag


POD = """\
apiVersion: batch/v1
kind: CronJob
metadata: {{name: job}}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          initContainers: [{{name: init, image: "{init}"}}]
          containers: [{{name: main, image: "{main}"{policy}}}]
"""


@pytest.mark.parametrize(
    ("main", "policy", "mutable", "effective"),
    [
        ("app", "", True, "Always"),
        ("app:latest", "", True, "Always"),
        ("app:latest", ", imagePullPolicy: IfNotPresent", True, "IfNotPresent"),
        ("app:v1", "", False, "IfNotPresent"),
        ("app@sha256:" + "b" * 64, "", False, "IfNotPresent"),
        ("app:v1", ", imagePullPolicy: Always", False, "Always"),
    ],
)
def test_containers_are_found_in_every_pod_template_with_their_effective_policy(
    main: str, policy: str, mutable: bool, effective: str
) -> None:
    [manifest] = parse(POD.format(init="init:v1", main=main, policy=policy))
    found = {c.name: c for c in containers(manifest)}
    assert sorted(found) == ["init", "main"]
    assert (found["main"].mutable, found["main"].effective_pull_policy) == (mutable, effective)
    assert not found["init"].mutable


def test_kube_versions() -> None:
    versions = bundled_versions()
    assert "1.33" in versions and versions == tuple(
        sorted(versions, key=lambda v: tuple(map(int, v.split("."))))
    )
    assert resolve_version(None) == versions[-1]
    assert resolve_version("v1.33.4") == "1.33"
    with pytest.raises(UsageError, match=r"not a Kubernetes version such as 1\.33"):
        resolve_version("latest")
    with pytest.raises(UsageError, match=r"no schemas bundled for 1\.2; choose one of"):
        resolve_version("1.2")


def test_api_versions_come_from_the_file_then_the_options(tmp_path: Path) -> None:
    assert read_api_versions(tmp_path, ["a/v1"]) == ("a/v1",)
    (tmp_path / "api-versions.txt").write_text(
        "# what the cluster serves\nmonitoring.coreos.com/v1\n\ncert-manager.io/v1  # issuers\na/v1\n"
    )
    assert read_api_versions(tmp_path, ["a/v1", "b/v1"]) == (
        "monitoring.coreos.com/v1",
        "cert-manager.io/v1",
        "a/v1",
        "b/v1",
    )


def test_targets_need_a_rendered_tree_and_known_names(example_repo: Path) -> None:
    targets = find_targets(example_repo)
    assert [(t.env, t.app, t.release.name, t.release.namespace) for t in targets] == [
        ("staging", "serviceradar", "serviceradar", "demo-staging"),
        ("demo", "serviceradar", "serviceradar", "demo"),
        ("prod", "serviceradar", "serviceradar", "serviceradar"),
    ]
    assert [t.pinned for t in targets] == [False, True, True]
    with pytest.raises(UsageError, match="no app named 'web'; known: serviceradar"):
        find_targets(example_repo, apps=["web"])
    (example_repo / "rendered/bootstrap/applications/demo/serviceradar.yaml").unlink()
    with pytest.raises(
        UsageError, match=r"serviceradar\.yaml is missing; run `gitops-gen render` first"
    ):
        find_targets(example_repo, envs=["demo"])
