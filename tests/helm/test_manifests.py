"""Helm's output read as objects: identity, sources, what varies between two renders, masking."""

from __future__ import annotations

import pytest

from generator.errors import HelmError
from generator.helm.manifests import MASK, masked, parse, unstable_paths

OUTPUT = """\
---
# Source: web/templates/secret.yaml
apiVersion: v1
kind: Secret
metadata:
  name: web
  namespace: demo
stringData:
  password: {password}
  user: web
---
# Source: web/templates/job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  template:
    spec:
      containers:
        - name: migrate
          args: ["--token", "{password}"]
---
"""


def test_objects_keep_identity_order_and_source() -> None:
    first = parse(OUTPUT.format(password="aaa"))
    assert [str(m.identity) for m in first] == ["Secret/demo/web", "Job/migrate"]
    assert [m.identity.group for m in first] == ["", "batch"]
    assert [m.source for m in first] == ["web/templates/secret.yaml", "web/templates/job.yaml"]


def test_what_varies_between_two_renders_is_found_and_masked() -> None:
    first, second = parse(OUTPUT.format(password="aaa")), parse(OUTPUT.format(password="bbb"))
    varying = unstable_paths(first, second)
    assert {str(k): v for k, v in varying.items()} == {
        "Secret/demo/web": {("stringData", "password")},
        "Job/migrate": {("spec", "template", "spec", "containers", 0, "args", 1)},
    }
    secret = masked(first[0], varying[first[0].identity])
    assert secret["stringData"] == {"password": MASK, "user": "web"}
    job = masked(first[1], varying[first[1].identity])
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["--token", MASK]
    assert first[1].data["spec"]["template"]["spec"]["containers"][0]["args"][1] == "aaa"  # a copy
    # A path that is not there (the other render had it) leaves the object as it is.
    assert masked(first[0], {("data", "gone"), ("stringData", "user", "x")}) == first[0].data


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [1, 2\n", "helm printed invalid YAML at line"),
        ("- just\n- a list\n", "helm printed a document that is not a Kubernetes object (#1)"),
        ("apiVersion: v1\nkind: ConfigMap\n---\nkind: Secret\n", "not a Kubernetes object (#2)"),
    ],
)
def test_output_that_is_not_objects_is_a_helm_error(text: str, message: str) -> None:
    with pytest.raises(HelmError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(text)
