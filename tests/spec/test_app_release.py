"""One app as one environment runs it (generator/spec/apps.py, ``app_release``): its release
name, where its tag and pull policy go when no path is given, where a clash of those paths is
reported, and an image path of ``global``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from generator.errors import SpecError
from generator.spec.model import load_spec
from tests.conftest import edit_spec, spec_problems
from tests.spec.test_spec import MULTI_APP

IMAGE_PATHS = "      tagPath: global.imageTag\n      pullPolicyPath: global.imagePullPolicy\n"


def _rename_app(root: Path, name: str) -> None:
    for path in (root / "environments").glob("*.yaml"):
        path.write_text(path.read_text().replace("\n  serviceradar:\n", f"\n  {name}:\n"))


def test_release_name_is_the_app_name_unless_set(example_repo: Path) -> None:
    edit_spec(
        example_repo,
        "prod.yaml",
        "apps:\n  serviceradar:\n",
        "apps:\n  serviceradar:\n    releaseName: sr-prod\n",
    )
    spec = load_spec(example_repo)
    names = {env.name: env.apps[0].release_name for env in spec.environments}
    assert names == {"staging": "serviceradar", "demo": "serviceradar", "prod": "sr-prod"}


def test_an_app_name_of_53_characters_is_a_release_name_helm_takes(example_repo: Path) -> None:
    """Helm allows 53 characters; a longer app name needs a releaseName (test_bad_input.py)."""
    _rename_app(example_repo, "s" * 53)
    assert load_spec(example_repo).environment("demo").apps[0].release_name == "s" * 53


def test_the_tag_and_pull_policy_go_to_image_by_default(example_repo: Path) -> None:
    edit_spec(example_repo, "_project.yaml", IMAGE_PATHS, "")
    app = load_spec(example_repo).environment("demo").apps[0]
    assert "global" not in app.values
    assert app.values["serviceradar"]["image"] == {
        "registryPullSecret": "ghcr-io-cred",
        "tag": "v1.0.75",
        "pullPolicy": "IfNotPresent",
    }


def test_a_tag_path_over_the_default_pull_policy_path_is_blamed_on_the_tag_path(
    example_repo: Path,
) -> None:
    """The pull policy's path is the default: the tagPath that was set is where to fix it."""
    edit_spec(example_repo, "_project.yaml", IMAGE_PATHS, "      tagPath: image\n")
    with pytest.raises(SpecError) as info:
        load_spec(example_repo)
    assert [str(p) for p in info.value.problems] == [
        "environments/_project.yaml:30:16: apps.serviceradar.image.tagPath: the tag goes to values.image and the pull policy to values.image.pullPolicy: give each a place of its own (image.tagPath, image.pullPolicyPath)"
    ]


def test_an_app_without_an_image_has_no_tag_and_no_pull_policy(example_repo: Path) -> None:
    edit_spec(example_repo, "_project.yaml", "      tag: v1.0.75\n", "")
    edit_spec(example_repo, "staging.yaml", "    image:\n      tag: latest\n", "")
    for env in load_spec(example_repo).environments:
        [app] = env.apps
        assert (app.image_tag, app.pull_policy) == (None, None)
        assert "global" not in app.values
        assert app.values["serviceradar"]["image"] == {"registryPullSecret": "ghcr-io-cred"}


def test_asking_for_an_environment_the_spec_lacks_names_it(example_repo: Path) -> None:
    with pytest.raises(KeyError) as info:
        load_spec(example_repo).environment("qa")
    assert info.value.args == ("qa",)


def test_a_global_that_is_not_a_map_is_blamed_where_it_is_set(example_repo: Path) -> None:
    """Set in the project file, not in the environment whose release failed."""
    edit_spec(example_repo, "_project.yaml", IMAGE_PATHS, "")
    edit_spec(
        example_repo,
        "_project.yaml",
        "    values:\n      image:\n",
        "    values:\n      global: 5\n      image:\n",
    )
    with pytest.raises(SpecError) as info:
        load_spec(example_repo)
    assert [str(p) for p in info.value.problems] == [
        "environments/_project.yaml:31:15: apps.serviceradar.values.global: global must be a map (Helm shares it with every subchart)"
    ]


def test_two_applications_with_one_name_are_blamed_on_the_app_where_listed(
    build_tree: Callable[[dict[str, str]], Path],
) -> None:
    """An environment that lists the app gets the problem at that app, not at its first line."""
    project = (
        MULTI_APP["environments/_project.yaml"]
        .replace("  worker:\n", "  web-stage:\n")
        .replace("order: [dev, live]", "order: [dev, live, prod, stage-prod]")
    )
    root = build_tree(
        {
            "environments/_project.yaml": project,
            "environments/dev.yaml": "namespace: shop-dev\napps:\n  web-stage: {enabled: false}\n",
            "environments/live.yaml": "namespace: shop\napps:\n  web-stage: {enabled: false}\n",
            "environments/prod.yaml": "namespace: shop-prod\napps:\n  web: {enabled: false}\n",
            "environments/stage-prod.yaml": (
                "namespace: shop-stage-prod\napps:\n  web-stage: {enabled: false}\n"
                "  web:\n    values: {replicas: 2}\n"
            ),
        }
    )
    with pytest.raises(SpecError) as info:
        load_spec(root)
    assert [str(p) for p in info.value.problems] == [
        "environments/stage-prod.yaml:4:3: apps.web: app 'web' in environment 'stage-prod' makes the Application 'web-stage-prod', as app 'web-stage' in environment 'prod' does; rename one"
    ]


def test_a_global_set_in_defaults_apps_is_blamed_there(example_repo: Path) -> None:
    edit_spec(example_repo, "_project.yaml", IMAGE_PATHS, "")
    edit_spec(
        example_repo,
        "_project.yaml",
        "defaults:\n",
        "defaults:\n  apps:\n    serviceradar:\n      values:\n        global: 5\n",
    )
    with pytest.raises(SpecError) as info:
        load_spec(example_repo)
    assert [str(p) for p in info.value.problems] == [
        "environments/_project.yaml:91:17: defaults.apps.serviceradar.values.global: global must be a map (Helm shares it with every subchart)"
    ]


def test_a_pull_policy_path_over_the_default_tag_path_is_blamed_on_it(
    example_repo: Path,
) -> None:
    edit_spec(example_repo, "_project.yaml", IMAGE_PATHS, "      pullPolicyPath: image\n")
    with pytest.raises(SpecError) as info:
        load_spec(example_repo)
    assert [str(p) for p in info.value.problems] == [
        "environments/_project.yaml:30:23: apps.serviceradar.image.pullPolicyPath: the tag goes to values.image.tag and the pull policy to values.image: give each a place of its own (image.tagPath, image.pullPolicyPath)"
    ]


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (
            "      tagPath: global\n",
            "environments/_project.yaml:30:16: apps.serviceradar.image.tagPath: the tag would replace values.global, the map Helm shares with every subchart; set tagPath to a path under it (global.<name>) or to another key",
        ),
        (
            "      pullPolicyPath: global\n",
            "environments/_project.yaml:30:23: apps.serviceradar.image.pullPolicyPath: the pull policy would replace values.global, the map Helm shares with every subchart; set pullPolicyPath to a path under it (global.<name>) or to another key",
        ),
    ],
)
def test_an_image_path_of_global_is_blamed_once_on_the_path(
    example_repo: Path, paths: str, message: str
) -> None:
    """Not in each environment file, at a values.global that none of them sets."""
    edit_spec(example_repo, "_project.yaml", IMAGE_PATHS, paths)
    assert spec_problems(example_repo) == [message]


def test_an_image_path_of_global_set_by_one_environment_is_blamed_there(
    example_repo: Path,
) -> None:
    edit_spec(example_repo, "_project.yaml", IMAGE_PATHS, "")
    edit_spec(
        example_repo,
        "demo.yaml",
        "  serviceradar:\n",
        "  serviceradar:\n    image:\n      pullPolicyPath: global\n",
    )
    assert spec_problems(example_repo) == [
        "environments/demo.yaml:7:23: apps.serviceradar.image.pullPolicyPath: the pull policy would replace values.global, the map Helm shares with every subchart; set pullPolicyPath to a path under it (global.<name>) or to another key"
    ]


def test_a_null_global_in_the_app_definition_is_blamed_there_once(example_repo: Path) -> None:
    """Nulls in the definition's values reach Helm, so this one is the only layer that can
    leave global null; it used to be blamed once per environment file."""
    edit_spec(example_repo, "_project.yaml", IMAGE_PATHS, "")
    edit_spec(example_repo, "_project.yaml", "    values:\n", "    values:\n      global: null\n")
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:31:15: apps.serviceradar.values.global: global must be a map (Helm shares it with every subchart)"
    ]


def test_a_release_name_over_53_characters_is_blamed_on_the_app_definition(
    example_repo: Path,
) -> None:
    """Once, though every environment runs the app, and with each environment's own layer
    of the app present (the schema caps releaseName, so the name is the app's own)."""
    _rename_app(example_repo, "s" * 54)
    assert spec_problems(example_repo) == [
        f"environments/_project.yaml:22:3: apps.{'s' * 54}: the release name {'s' * 54!r} is longer than Helm's 53 characters; set a shorter releaseName"
    ]
