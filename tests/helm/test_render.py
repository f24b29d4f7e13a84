"""The release settings read from a rendered Argo CD Application (verify and diff --manifests)."""

from __future__ import annotations

from generator import yamlio
from generator.helm.render import Release
from tests.conftest import REPO


def test_an_application_names_its_release_namespace_value_files_and_crds() -> None:
    application = {
        "metadata": {"name": "web-prod"},
        "spec": {
            "source": {
                "path": "web",
                "helm": {"releaseName": "web", "valueFiles": ["a.yaml", 2], "skipCrds": True},
            },
            "destination": {"namespace": "prod"},
        },
    }
    assert Release.from_application(application) == Release("web", "prod", ("a.yaml", "2"), True)


def test_what_an_application_leaves_out_is_argo_cds_default() -> None:
    """No releaseName: the Application's name; no namespace: ``default``; CRDs included."""
    bare = {"metadata": {"name": "web-prod"}, "spec": {"source": {"path": "web"}}}
    assert Release.from_application(bare) == Release("web-prod", "default", (), False)
    empty = {
        "metadata": {"name": "web-prod"},
        "spec": {"source": {"helm": None}, "destination": {"namespace": None}},
    }
    assert Release.from_application(empty) == Release("web-prod", "default", (), False)


def test_the_examples_rendered_application() -> None:
    path = REPO / "rendered/bootstrap/applications/demo/serviceradar.yaml"
    application = yamlio.load(path.read_text("utf-8"))
    assert Release.from_application(application) == Release("serviceradar", "demo")
