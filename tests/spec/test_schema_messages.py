"""What a schema problem says, per JSON Schema keyword and per type found: each message in the
words a person acts on, at the place of the value (generator/spec/files.py, ``_schema_message``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import SpecError
from generator.spec.model import load_spec
from tests.conftest import edit_spec, spec_problems


def _problems_after(root: Path, name: str, old: str, new: str) -> list[str]:
    edit_spec(root, name, old, new)
    return spec_problems(root)


P = "environments/_project.yaml"
APP_ID = "appID: 2459954"
NAME = "  name: serviceradar\n"


@pytest.mark.parametrize(
    ("name", "old", "new", "problem"),
    [
        # enum: the value, then every allowed one.
        (
            "_project.yaml",
            "provider: github",
            "provider: bitbucket",
            f"{P}:11:15: project.scm.provider: 'bitbucket' is not one of: github, gitlab, forgejo, gitea",
        ),
        # minItems, uniqueItems, minProperties.
        (
            "_project.yaml",
            "order: [staging, demo, prod]",
            "order: []",
            f"{P}:114:3: promotion.order: must not be empty",
        ),
        (
            "_project.yaml",
            "active: [argocd-health]",
            "active: [argocd-health, argocd-health]",
            f"{P}:117:5: promotion.gates.active: lists the same entry twice",
        ),
        # required: jsonschema's words, shortened.
        (
            "_project.yaml",
            "    secretRef: github-app-promoter\n",
            "",
            f"{P}:10:3: project.scm: 'secretRef' is required",
        ),
        # A keyword with no words of its own: jsonschema's message as it is.
        (
            "_project.yaml",
            APP_ID,
            "appID: -1",
            f"{P}:13:12: project.scm.appID: -1 is less than the minimum of 0",
        ),
        # type: "an" before a vowel, and what was found in YAML's words.
        (
            "_project.yaml",
            APP_ID,
            'appID: "x"',
            f"{P}:13:12: project.scm.appID: must be an integer, not a string",
        ),
        (
            "_project.yaml",
            APP_ID,
            "appID: 1.5",
            f"{P}:13:12: project.scm.appID: must be an integer, not a number",
        ),
        (
            "_project.yaml",
            APP_ID,
            "appID: true",
            f"{P}:13:12: project.scm.appID: must be an integer, not a boolean",
        ),
        (
            "_project.yaml",
            APP_ID,
            "appID: [1]",
            f"{P}:13:5: project.scm.appID: must be an integer, not a list",
        ),
        # A string where a number or boolean was written: quote it. Not for a map.
        (
            "_project.yaml",
            NAME,
            "  name: 1.5\n",
            f"{P}:6:9: project.name: must be a string, not a number; quote it to make it a string",
        ),
        (
            "_project.yaml",
            NAME,
            "  name: true\n",
            f"{P}:6:9: project.name: must be a string, not a boolean; quote it to make it a string",
        ),
        (
            "_project.yaml",
            NAME,
            "  name: {a: 1}\n",
            f"{P}:6:3: project.name: must be a string, not a map",
        ),
        # A boolean: say how to write one, whatever was found.
        (
            "staging.yaml",
            "namespace: demo-staging\n",
            "autoMerge: 5\nnamespace: demo-staging\n",
            "environments/staging.yaml:3:12: autoMerge: must be a boolean, not a number; write true or false",
        ),
    ],
    ids=[
        "enum",
        "min-items",
        "unique-items",
        "required",
        "minimum",
        "integer-not-string",
        "integer-not-float",
        "integer-not-boolean",
        "integer-not-list",
        "string-not-float",
        "string-not-boolean",
        "string-not-map",
        "boolean-not-number",
    ],
)
def test_what_a_schema_problem_says(
    example_repo: Path, name: str, old: str, new: str, problem: str
) -> None:
    assert _problems_after(example_repo, name, old, new) == [problem]


def test_an_app_without_settings_must_be_a_map_or_null(example_repo: Path) -> None:
    """Two types allowed: both named, in YAML's words."""
    assert _problems_after(example_repo, "staging.yaml", "apps:\n", "apps:\n  other: 5\n") == [
        "environments/staging.yaml:8:10: apps.other: must be a map or null, not a number",
        "environments/staging.yaml:8:10: apps.other: app 'other' is not defined in apps of _project.yaml",
    ]


def test_a_project_without_apps_must_define_one(example_repo: Path) -> None:
    project = example_repo / "environments" / "_project.yaml"
    text = project.read_text()
    start, end = text.index("\napps:\n"), text.index("\ndefaults:\n")
    project.write_text(text[:start] + "\napps: {}\n" + text[end:])
    with pytest.raises(SpecError) as info:
        load_spec(example_repo)
    assert [str(p) for p in info.value.problems] == [
        f"{P}:21:1: apps: must define at least one entry"
    ]


def test_an_unknown_key_names_the_close_one_and_every_allowed_one(example_repo: Path) -> None:
    assert _problems_after(example_repo, "_project.yaml", "  scm:\n", "  scmm: 1\n  scm:\n") == [
        f"{P}:10:3: project.scmm: unknown key; did you mean 'scm'? (allowed here: argocd, branchPrefix, name, promoter, repoURL, scm)"
    ]


def test_an_unknown_key_like_no_known_one_has_no_guess(example_repo: Path) -> None:
    assert _problems_after(example_repo, "_project.yaml", "  scm:\n", "  zzzzzz: 1\n  scm:\n") == [
        f"{P}:10:3: project.zzzzzz: unknown key (allowed here: argocd, branchPrefix, name, promoter, repoURL, scm)"
    ]


def test_a_null_in_a_list_is_named_null(example_repo: Path) -> None:
    """A null setting removes a key; a null list item stays, and is not a string."""
    assert _problems_after(
        example_repo, "_project.yaml", "active: [argocd-health]", "active: [argocd-health, null]"
    ) == [f"{P}:117:29: promotion.gates.active[1]: must be a string, not null"]
