"""The project's own checks (generator/spec/builder.py, ``_project`` and ``_scm``): the
repository path each SCM provider takes from repoURL, and the whole message when it has none."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from generator.spec.model import load_spec
from tests.conftest import edit_spec, spec_problems
from tests.spec.test_spec import MULTI_APP

GITLAB_URL = "https://gitlab.example.com/platform/team/shop-gitops.git"


def _gitlab(build_tree: Callable[[Mapping[str, str]], Path], url: str) -> Path:
    files = dict(MULTI_APP)
    files["environments/_project.yaml"] = files["environments/_project.yaml"].replace(
        GITLAB_URL, url
    )
    return build_tree(files)


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/carverauto/serviceradar/gitops.git",  # three parts
        "https://github.com/serviceradar-gitops.git",  # one part
        "https://github.com/carverauto//",  # an empty name
    ],
)
def test_a_github_url_without_owner_and_name_says_the_layout(example_repo: Path, url: str) -> None:
    edit_spec(
        example_repo, "_project.yaml", "https://github.com/carverauto/serviceradar-gitops.git", url
    )
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:8:12: project.repoURL: must be https://host/owner/name[.git] for github"
    ]


@pytest.mark.parametrize("url", ["https://gitlab.example.com/shop-gitops.git"])
def test_a_gitlab_url_without_a_namespace_says_the_layout(
    build_tree: Callable[[Mapping[str, str]], Path], url: str
) -> None:
    root = _gitlab(build_tree, url)
    assert spec_problems(root) == [
        "environments/_project.yaml:3:12: project.repoURL: must be https://host/namespace/name[.git] for gitlab"
    ]


def test_a_gitlab_path_keeps_every_level_of_its_namespace(
    build_tree: Callable[[Mapping[str, str]], Path],
) -> None:
    scm = load_spec(_gitlab(build_tree, GITLAB_URL)).project.scm
    assert (scm.owner, scm.repository, scm.domain) == (
        "platform/team",
        "shop-gitops",
        "gitlab.example.com",
    )


def test_github_needs_its_app_id(example_repo: Path) -> None:
    edit_spec(example_repo, "_project.yaml", "    appID: 2459954\n", "")
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:10:3: project.scm: appID is required for github"
    ]


def test_gitlab_needs_its_project_id_and_takes_no_github_setting(
    build_tree: Callable[[Mapping[str, str]], Path],
) -> None:
    files = dict(MULTI_APP)
    files["environments/_project.yaml"] = files["environments/_project.yaml"].replace(
        "projectId: 42}", "installationID: 7}"
    )
    assert spec_problems(build_tree(files)) == [
        "environments/_project.yaml:4:3: project.scm: projectId is required for gitlab",
        "environments/_project.yaml:4:68: project.scm.installationID: only applies to github, not gitlab",
    ]


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://gitlab.com/platform/shop-gitops.git", None),
        ("https://gitlab.example.com/platform/shop-gitops.git", "gitlab.example.com"),
    ],
)
def test_gitlab_com_is_the_public_host_and_needs_no_domain(
    build_tree: Callable[[Mapping[str, str]], Path], url: str, domain: str | None
) -> None:
    scm = load_spec(_gitlab(build_tree, url)).project.scm
    assert (scm.domain, scm.owner, scm.repository) == (domain, "platform", "shop-gitops")
