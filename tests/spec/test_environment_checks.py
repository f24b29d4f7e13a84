"""The checks of one environment against the project (generator/spec/builder.py,
``_environment`` and ``_check_collisions``): its destination, the apps that defaults override,
which releases clash and where that is reported."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from generator.spec.model import load_spec
from tests.conftest import edit_spec, spec_problems


def test_a_cluster_name_beside_the_default_server_is_refused(example_repo: Path) -> None:
    """defaults set a server; an environment that names a cluster must drop it."""
    edit_spec(
        example_repo,
        "prod.yaml",
        "namespace: serviceradar\n",
        "namespace: serviceradar\ndestination:\n  name: prod-cluster\n",
    )
    assert spec_problems(example_repo) == [
        "environments/prod.yaml:4:1: destination: set destination.server or destination.name, not both (write server: null to drop a server from defaults)"
    ]


def test_defaults_may_override_only_apps_the_project_defines(example_repo: Path) -> None:
    """Said once, at defaults.apps, though every environment merges it."""
    edit_spec(
        example_repo,
        "_project.yaml",
        "defaults:\n",
        "defaults:\n  apps:\n    nope: {enabled: false}\n",
    )
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:91:5: defaults.apps.nope: app 'nope' is not defined in apps of _project.yaml"
    ]


def test_one_namespace_on_two_clusters_named_is_fine(example_repo: Path) -> None:
    """Clusters named by destination.name are told apart by their names."""
    for name, cluster in (("demo.yaml", "demo-cluster"), ("prod.yaml", "prod-cluster")):
        path = example_repo / "environments" / name
        text = path.read_text().replace("namespace: serviceradar\n", "namespace: demo\n", 1)
        path.write_text(
            text.replace(
                "namespace: demo\n",
                f"namespace: demo\ndestination:\n  server: null\n  name: {cluster}\n",
                1,
            )
        )
    spec = load_spec(example_repo)
    assert [(env.cluster_name, env.server, env.namespace) for env in spec.environments] == [
        (None, "https://kubernetes.default.svc", "demo-staging"),
        ("demo-cluster", None, "demo"),
        ("prod-cluster", None, "demo"),
    ]


def _without_defaults_sync(root: Path) -> None:
    project = root / "environments" / "_project.yaml"
    text = project.read_text()
    start, end = text.index("  autoMerge: true\n"), text.index("  ignoreDifferences:\n")
    project.write_text(text[:start] + text[end:])


def test_sync_settings_default_to_automated_pruning_and_self_healing(example_repo: Path) -> None:
    _without_defaults_sync(example_repo)
    env = load_spec(example_repo).environment("staging")
    assert env.auto_merge is True
    assert (env.sync.automated, env.sync.prune, env.sync.self_heal, env.sync.allow_empty) == (
        True,
        True,
        True,
        False,
    )
    assert (env.sync.options, env.sync.retry) == ((), None)


def test_sync_settings_an_environment_turns_off_are_off(example_repo: Path) -> None:
    _without_defaults_sync(example_repo)
    edit_spec(
        example_repo,
        "staging.yaml",
        "namespace: demo-staging\n",
        "namespace: demo-staging\nautoMerge: false\n"
        "sync: {automated: false, prune: false, selfHeal: false, allowEmpty: true}\n",
    )
    env = load_spec(example_repo).environment("staging")
    assert env.auto_merge is False
    assert (env.sync.automated, env.sync.prune, env.sync.self_heal, env.sync.allow_empty) == (
        False,
        False,
        False,
        True,
    )


def test_environments_without_a_namespace_are_told_once_and_do_not_clash(
    example_repo: Path,
) -> None:
    """The missing namespace is the problem; a release clash "into namespace ''" would say it
    again."""
    edit_spec(example_repo, "demo.yaml", "namespace: demo\n", "")
    edit_spec(example_repo, "prod.yaml", "namespace: serviceradar\n", "")
    assert spec_problems(example_repo) == [
        "environments/demo.yaml:1:1: namespace is required; set it here or in defaults",
        "environments/prod.yaml:1:1: namespace is required; set it here or in defaults",
    ]


def test_a_release_clash_in_the_namespace_of_the_defaults_is_blamed_on_the_defaults(
    example_repo: Path,
) -> None:
    """A clash is reported where the environment's namespace is set: its own file, or
    defaults.namespace when it takes the namespace from there (the line to change)."""
    edit_spec(example_repo, "demo.yaml", "namespace: demo\n", "")
    edit_spec(example_repo, "prod.yaml", "namespace: serviceradar\n", "")
    edit_spec(example_repo, "_project.yaml", "defaults:\n", "defaults:\n  namespace: shared\n")
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:90:14: defaults.namespace: app 'serviceradar' in environment 'prod' installs release 'serviceradar' into namespace 'shared' of the same cluster as app 'serviceradar' in environment 'demo'; use another namespace or releaseName"
    ]


def test_a_release_clash_with_the_namespace_set_in_the_file_is_blamed_there(
    example_repo: Path,
) -> None:
    """The first environment takes the defaults' namespace, the second sets the same one."""
    edit_spec(example_repo, "demo.yaml", "namespace: demo\n", "")
    edit_spec(example_repo, "prod.yaml", "namespace: serviceradar\n", "namespace: shared\n")
    edit_spec(example_repo, "_project.yaml", "defaults:\n", "defaults:\n  namespace: shared\n")
    assert spec_problems(example_repo) == [
        "environments/prod.yaml:3:12: namespace: app 'serviceradar' in environment 'prod' installs release 'serviceradar' into namespace 'shared' of the same cluster as app 'serviceradar' in environment 'demo'; use another namespace or releaseName"
    ]


def test_an_app_named_like_a_setting_is_checked_beside_a_broken_app(example_repo: Path) -> None:
    """Only the broken app is left out of the merge: the apps under defaults.apps are found at
    their own depth, so a problem at apps.serviceradar.chart.version leaves the app "chart"
    in."""
    edit_spec(
        example_repo,
        "_project.yaml",
        "apps:\n  serviceradar:\n",
        "apps:\n  chart:\n"
        "    chart: {repository: oci://ghcr.io/x, name: c, version: 1.0.0}\n"
        "    image: {tag: v1, tagPath: global}\n"
        "  serviceradar:\n",
    )
    edit_spec(example_repo, "_project.yaml", "      version: 1.0.75\n", "      version: 1\n")
    assert spec_problems(example_repo) == [
        "environments/_project.yaml:24:31: apps.chart.image.tagPath: the tag would replace values.global, the map Helm shares with every subchart; set tagPath to a path under it (global.<name>) or to another key",
        "environments/_project.yaml:29:16: apps.serviceradar.chart.version: must be a string, not a number; quote it to make it a string",
    ]


def test_an_environment_without_a_namespace_still_has_each_application_name_checked(
    build_tree: Callable[[Mapping[str, str]], Path],
) -> None:
    """Left out of the release clash only: its second app's Application name still clashes."""
    from tests.cli.test_bad_input import TWO_APPLICATIONS_WITH_ONE_NAME

    files = dict(TWO_APPLICATIONS_WITH_ONE_NAME)
    files["environments/_project.yaml"] = files["environments/_project.yaml"].replace(
        "order: [dev, live, prod, stage-prod]", "order: [dev, live, stage-prod, prod]"
    )
    files["environments/prod.yaml"] = "autoMerge: false\n"
    assert spec_problems(build_tree(files)) == [
        "environments/prod.yaml:1:1: namespace is required; set it here or in defaults",
        "environments/prod.yaml:1:1: app 'web-stage' in environment 'prod' makes the Application 'web-stage-prod', as app 'web' in environment 'stage-prod' does; rename one",
    ]
