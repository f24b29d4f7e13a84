"""What needs attention in an object diff, from Helm-shaped output parsed by the real parser."""

from __future__ import annotations

import textwrap

import pytest

from generator.diff.hazards import find_hazards
from generator.diff.manifests import AppSettings
from generator.diff.objects import compare_app
from generator.helm.manifests import parse
from generator.helm.render import Release

STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: nats}}
spec:
  selector: {{matchLabels: {{app: {selector}}}}}
  serviceName: nats
  template:
    metadata: {{labels: {{app: nats}}}}
    spec: {{containers: [{{name: nats, image: "nats:2.10"}}]}}
  volumeClaimTemplates:
    - metadata: {{name: data}}
      spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: {size}}}}}}}
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {selector}}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: web, image: "web:1"}}]}}
"""


def hazards(before: str, after: str, prune: bool = True) -> list[str]:
    old, new = parse(textwrap.dedent(before)), parse(textwrap.dedent(after))
    result = compare_app("demo", "web", (old, {}), (new, {}))
    settings = AppSettings(Release("web", "demo"), prune)
    return [str(h) for h in find_hazards(result, old, new, settings)]


@pytest.mark.parametrize(
    ("change", "what"),
    [
        ({"size": "2Gi"}, "volumeClaimTemplates"),
        ({"selector": "nats-v2"}, "selector"),
    ],
)
def test_statefulset_fields_it_cannot_change_in_place(change: dict[str, str], what: str) -> None:
    base = {"selector": "nats", "size": "1Gi"}
    found = hazards(STATEFULSET.format(**base), STATEFULSET.format(**{**base, **change}))
    assert found == [
        f"demo/web: StatefulSet/nats: changes {what}, which a StatefulSet cannot change in place: "
        "the sync fails until it is recreated (the Application prunes: Argo CD deletes what is gone)"
    ]


def test_a_deployment_selector_is_immutable_but_replicas_are_not() -> None:
    base = DEPLOYMENT.format(replicas=2, selector="web")
    assert hazards(base, DEPLOYMENT.format(replicas=5, selector="web")) == []
    assert hazards(base, DEPLOYMENT.format(replicas=2, selector="web-v2"), prune=False) == [
        "demo/web: Deployment/web: changes spec.selector, which is immutable: Argo CD cannot "
        "patch it, the sync fails until the object is recreated (the Application does not prune: "
        "what is gone stays, out of sync)"
    ]


def test_removed_claims_crds_and_namespaces_and_a_kind_change() -> None:
    before = """\
    apiVersion: v1
    kind: PersistentVolumeClaim
    metadata: {name: data}
    ---
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata: {name: widgets.example.com}
    ---
    apiVersion: v1
    kind: Namespace
    metadata: {name: extra}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: queue}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: queue}
    """
    after = """\
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: queue}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: queue}
    """
    found = hazards(before, after)
    assert sorted(line.split(": ", 2)[1] for line in found) == [
        "CustomResourceDefinition/widgets.example.com",
        "Deployment/queue",
        "Namespace/extra",
        "PersistentVolumeClaim/data",
    ]
    # The Service kept its kind: only the Deployment becomes a StatefulSet.
    assert any("Deployment/queue: becomes a StatefulSet under the same name" in h for h in found)
    assert not any("becomes a Service" in h for h in found)


def test_an_added_claim_is_no_hazard() -> None:
    after = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\n"
    assert hazards("", after) == []
