"""The project's own checks (generator/spec/builder.py, ``_project``, ``_scm`` and ``build``): the
repository path each SCM provider takes from repoURL, and the whole message when it has none."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from generator.errors import Problem, SpecError
from generator.spec.model import load_spec, parse_spec
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


# --- what a schema problem in the project file leaves to the cross-file checks (``build``) ------


def test_a_badly_named_environment_file_does_not_hide_one_left_out_of_the_order(
    example_repo: Path,
) -> None:
    (example_repo / "environments" / "Demo_2.yaml").write_text("namespace: demo2\n")
    edit_spec(
        example_repo, "_project.yaml", "order: [staging, demo, prod]", "order: [staging, demo]"
    )
    assert spec_problems(example_repo) == [
        "environments/Demo_2.yaml:1:1: environment name (the file name) 'Demo_2' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
        "environments/prod.yaml:1:1: environment 'prod' is not in promotion.order of environments/_project.yaml; add it there or remove this file",
    ]


def test_promotion_gates_that_are_not_a_map_stop_the_project_there(example_repo: Path) -> None:
    edit_spec(example_repo, "_project.yaml", "  gates:\n", "  gates: [argocd-health]\n  x-gates:\n")
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:115:3: promotion.gates: must be a map, not a list",
        "environments/_project.yaml:116:3: promotion.x-gates: unknown key; did you mean 'gates'? (allowed here: gates, order)",
    ]


def test_a_broken_setting_deep_in_defaults_stops_the_environments(example_repo: Path) -> None:
    """Every environment merges defaults: built from a broken one, they would fail (here on
    options that are not a list) or repeat its problem."""
    edit_spec(
        example_repo,
        "_project.yaml",
        "    options:\n      - SkipDryRunOnMissingResource=true\n      - RespectIgnoreDifferences=true\n",
        "    options: 5\n",
    )
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:97:14: defaults.sync.options: must be a list, not a number"
    ]


def test_a_broken_app_in_defaults_leaves_the_environments_checked(example_repo: Path) -> None:
    """Only that app is left out: a missing namespace is still reported in the same run."""
    edit_spec(
        example_repo,
        "_project.yaml",
        "defaults:\n",
        "defaults:\n  apps:\n    serviceradar:\n      chart: {version: 1}\n",
    )
    edit_spec(example_repo, "demo.yaml", "namespace: demo\n", "")
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:92:24: defaults.apps.serviceradar.chart.version: must be a string, not a number; quote it to make it a string",
        "environments/demo.yaml:1:1: namespace is required; set it here or in defaults",
    ]


def test_an_app_in_defaults_that_is_not_a_map_leaves_the_environments_checked(
    example_repo: Path,
) -> None:
    edit_spec(
        example_repo, "_project.yaml", "defaults:\n", "defaults:\n  apps:\n    serviceradar: 5\n"
    )
    edit_spec(example_repo, "demo.yaml", "namespace: demo\n", "")
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:91:19: defaults.apps.serviceradar: must be a map or null, not a number",
        "environments/demo.yaml:1:1: namespace is required; set it here or in defaults",
    ]


def test_a_broken_app_in_defaults_is_not_merged(example_repo: Path) -> None:
    """Merged, its tag (a number) would fail the pull-policy rule with a traceback."""
    edit_spec(
        example_repo,
        "_project.yaml",
        "defaults:\n",
        "defaults:\n  apps:\n    serviceradar:\n      image: {tag: 5}\n",
    )
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:92:20: defaults.apps.serviceradar.image.tag: must be a string, not a number; quote it to make it a string"
    ]


def test_an_environment_broken_outside_its_apps_is_not_built(example_repo: Path) -> None:
    """Built, its options (a number) would fail with a traceback."""
    edit_spec(
        example_repo, "prod.yaml", "autoMerge: false\n", "autoMerge: false\nsync: {options: 5}\n"
    )
    assert spec_problems(example_repo) == [
        "environments/prod.yaml:5:17: sync.options: must be a list, not a number"
    ]


def test_the_spec_lists_its_files_for_templates(example_repo: Path) -> None:
    """Templates see the Spec (``spec.files`` included)."""
    assert load_spec(example_repo).files == (
        "environments/_project.yaml",
        "environments/demo.yaml",
        "environments/prod.yaml",
        "environments/staging.yaml",
    )


def test_a_project_name_that_is_not_a_dns_label_is_reported_at_the_name(
    example_repo: Path,
) -> None:
    edit_spec(example_repo, "_project.yaml", "  name: serviceradar\n", "  name: Service_Radar\n")
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:6:9: project.name: 'Service_Radar' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
    ]


def test_the_argo_cd_and_promoter_settings_and_their_defaults(example_repo: Path) -> None:
    edit_spec(
        example_repo,
        "_project.yaml",
        "  argocd:\n    namespace: argocd\n    project: default\n  promoter:\n    namespace: promoter-system\n",
        "  argocd:\n    namespace: cd\n    project: team\n  promoter:\n    namespace: prom\n",
    )
    edit_spec(
        example_repo,
        "_project.yaml",
        "    active: [argocd-health]\n",
        "    active: [a]\n    proposed: [p]\n",
    )
    project = load_spec(example_repo).project
    assert (
        project.argocd_namespace,
        project.argocd_project,
        project.promoter_namespace,
        project.active_gates,
        project.proposed_gates,
    ) == ("cd", "team", "prom", ("a",), ("p",))
    edit_spec(
        example_repo,
        "_project.yaml",
        "  argocd:\n    namespace: cd\n    project: team\n  promoter:\n    namespace: prom\n",
        "",
    )
    edit_spec(example_repo, "_project.yaml", "    active: [a]\n    proposed: [p]\n", "    {}\n")
    project = load_spec(example_repo).project
    assert (
        project.argocd_namespace,
        project.argocd_project,
        project.promoter_namespace,
        project.active_gates,
        project.proposed_gates,
    ) == ("argocd", "default", "promoter-system", ("argocd-health",), ())


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({}, Problem("environments", 0, 0, "", "the spec is empty: no .yaml files")),
        (
            {"environments/demo.yaml": "namespace: demo\n"},
            Problem(
                "environments/_project.yaml",
                0,
                0,
                "",
                "missing: it holds the project, apps and promotion order",
            ),
        ),
    ],
)
def test_a_problem_with_no_place_in_a_file_has_line_and_column_0(
    files: dict[str, str], problem: Problem
) -> None:
    """Problem documents line and column 0 when unknown and an empty path for the document. The
    printed message would look the same with None there: only the fields show it."""
    with pytest.raises(SpecError) as info:
        parse_spec(files)
    assert info.value.problems == (problem,)
