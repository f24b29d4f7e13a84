"""The edges of the naming rules: each branch rule's whole message, where a branchPrefix that breaks
one is reported, semver precedence from any starting order, and the whole OCI tag message."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.errors import SpecError
from generator.spec import naming
from generator.spec.model import load_spec


@pytest.mark.parametrize(
    ("branch", "message"),
    [
        ("", "branch name is empty"),
        ("-env/x", "branch '-env/x' must not start with '-'"),
        ("env:x", "branch 'env:x' must not contain ':'"),
        ("env/../x", "branch 'env/../x' must not contain '..'"),
        ("env/", "branch 'env/' is not a valid git branch name"),
        ("env/x.", "branch 'env/x.' is not a valid git branch name"),
        ("env/x.lock", "branch 'env/x.lock' is not a valid git branch name"),
        ("env.lock/x", "branch 'env.lock/x' is not a valid git branch name"),
        ("/env/x", "branch '/env/x' is not a valid git branch name"),
        ("env/.x", "branch 'env/.x' is not a valid git branch name"),
        ("env//x", "branch 'env//x' is not a valid git branch name"),
        ("env@{x", "branch 'env@{x' is not a valid git branch name"),
        ("env\x7fx", "branch 'env\\x7fx' is not a valid git branch name"),
    ],
)
def test_each_branch_rule_says_what_is_wrong(branch: str, message: str) -> None:
    assert naming.branch_problem(branch) == message


@pytest.mark.parametrize(
    "branch", ["env/x", "env.x/y", "env/x.locked", "env.locked/x", "e/" + "x" * 93]
)
def test_branch_names_git_takes_pass(branch: str) -> None:
    assert naming.branch_problem(branch) is None


def _project_problems(root: Path, prefix: str) -> list[str]:
    project = root / "environments" / "_project.yaml"
    text = project.read_text()
    assert "branchPrefix: environment/\n" in text
    project.write_text(text.replace("branchPrefix: environment/\n", f"branchPrefix: {prefix!r}\n"))
    with pytest.raises(SpecError) as info:
        load_spec(root)
    return [str(p) for p in info.value.problems]


# env.lock/ passed until the rule read each component: git refuses env.lock/staging, so publish
# failed long after the spec was accepted.
@pytest.mark.parametrize("prefix", ["/env/", "env/.hidden/", "env//", "env.lock/"])
def test_a_branch_prefix_git_refuses_is_reported_at_the_prefix(
    example_repo: Path, prefix: str
) -> None:
    """Said once, at branchPrefix, with the prefix as written (not each environment's branch)."""
    assert _project_problems(example_repo, prefix) == [
        f"environments/_project.yaml:9:17: project.branchPrefix: branch {prefix!r} is not a "
        "valid git branch name"
    ]


def test_semver_precedence_from_any_order() -> None:
    """The order of semver.org's section 11, with major and minor versions around it."""
    ordered = [
        "0.9.9",
        "1.0.0-0",
        "1.0.0-2",
        "1.0.0-10",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.2.0",
        "1.10.0",
        "2.0.0",
        "10.0.0",
    ]
    assert sorted(reversed(ordered), key=naming.semver_key) == ordered
    shuffled = list(ordered)
    random.Random(15).shuffle(shuffled)
    assert sorted(shuffled, key=naming.semver_key) == ordered


def test_build_metadata_does_not_change_precedence() -> None:
    assert naming.semver_key("1.0.0+build.2") == naming.semver_key("1.0.0+build.1")
    assert naming.semver_key("1.0.0-rc.1+b") == naming.semver_key("1.0.0-rc.1")
    assert naming.semver_key("1.0.0-rc.1+b") < naming.semver_key("1.0.0+b")


def test_semver_key_refuses_what_is_not_semver() -> None:
    with pytest.raises(ValueError, match=r"^1\.0$"):
        naming.semver_key("1.0")


def test_bump_with_a_bad_image_tag_says_what_a_tag_may_be(example_repo: Path) -> None:
    result = CliRunner().invoke(
        main, ["-C", str(example_repo), "bump", "1.0.76", "--image-tag", "a/b"]
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error: --image-tag: 'a/b' is not a valid OCI tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}) "
        "or digest (@sha256:<64 hex>)\n"
    )


def test_a_branch_prefix_with_no_room_for_a_name_is_reported_with_its_own_length(
    example_repo: Path,
) -> None:
    """95 characters: every branch (the prefix and a name) is longer than 95. It was reported
    as the 96 characters of the prefix and one more."""
    prefix = "p" * 94 + "/"
    assert _project_problems(example_repo, prefix) == [
        f"environments/_project.yaml:9:17: project.branchPrefix: branchPrefix {prefix!r} is 95 characters, so every branch (the prefix and an environment name) is longer than 95; keep it at 94 or fewer (the Promoter adds -next and allows 100)"
    ]


def test_a_branch_prefix_of_94_characters_leaves_room_for_a_name_of_one(
    example_repo: Path,
) -> None:
    """The prefix passes, and environments named with one letter get branches of 95."""
    prefix = "p" * 93 + "/"
    for name in ("demo", "prod", "staging"):
        path = example_repo / "environments" / f"{name}.yaml"
        path.rename(path.with_name(f"{name[0]}.yaml"))
    project = example_repo / "environments" / "_project.yaml"
    text = project.read_text().replace("[staging, demo, prod]", "[s, d, p]")
    project.write_text(text.replace("branchPrefix: environment/\n", f"branchPrefix: {prefix!r}\n"))
    spec = load_spec(example_repo)
    assert [env.branch for env in spec.environments] == [prefix + n for n in ("s", "d", "p")]
