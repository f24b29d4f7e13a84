"""Tag policy, semver, OCI tags and the Promoter's branch rules."""

from __future__ import annotations

import pytest

from generator.spec import naming


@pytest.mark.parametrize(
    "tag",
    [
        "v1.0.70",
        "v1.0.70-rc.1",
        "v2.0.0+build.5",
        "sha-abc1234",
        "sha-" + "a" * 40,
        "@sha256:" + "0" * 64,
    ],
)
def test_immutable_tags_pull_if_not_present(tag: str) -> None:
    assert naming.pull_policy(tag) == "IfNotPresent"


@pytest.mark.parametrize(
    "tag", ["latest", "main", "1.0.70", "v1.0", "sha-abc12", "sha-XYZ1234", "stable"]
)
def test_mutable_tags_pull_always(tag: str) -> None:
    assert naming.pull_policy(tag) == "Always"


def test_explicit_policy_wins() -> None:
    assert naming.pull_policy("latest", "IfNotPresent") == "IfNotPresent"
    assert naming.pull_policy("v1.0.0", "Always") == "Always"


@pytest.mark.parametrize("version", ["1.0.70", "0.0.1", "1.0.70-rc.1", "1.2.3+meta"])
def test_semver_accepts(version: str) -> None:
    assert naming.semver_problem(version) is None


@pytest.mark.parametrize("version", ["1.0", "v1.0.70", "^1.0.0", "1.0.x", "01.0.0", "1.0.0-"])
def test_semver_refuses(version: str) -> None:
    assert naming.semver_problem(version) is not None


def test_semver_precedence() -> None:
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-beta",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.10.0",
    ]
    assert sorted(ordered, key=naming.semver_key) == ordered


@pytest.mark.parametrize("tag", ["bad tag", "-leading", "a" * 129, "", "tag:colon", "sha256:abc"])
def test_oci_tag_refuses(tag: str) -> None:
    assert naming.oci_tag_problem(tag) is not None


@pytest.mark.parametrize(
    ("branch", "fragment"),
    [
        ("-env/x", "must not start with '-'"),
        ("env:x", "must not contain ':'"),
        ("env/../x", "must not contain '..'"),
        ("e/" + "x" * 94, "96 characters"),
        ("env x", "not a valid git branch name"),
        ("env/x.lock", "not a valid git branch name"),
    ],
)
def test_branch_rules(branch: str, fragment: str) -> None:
    problem = naming.branch_problem(branch)
    assert problem is not None and fragment in problem


def test_branch_of_95_characters_is_accepted() -> None:
    assert naming.branch_problem("e/" + "x" * 93) is None


@pytest.mark.parametrize("name", ["staging", "a", "demo-2", "x" * 63])
def test_dns_labels(name: str) -> None:
    assert naming.dns_label_problem(name) is None


@pytest.mark.parametrize("name", ["Staging", "-a", "a-", "a_b", "x" * 64, "", "../x", "a.b"])
def test_not_dns_labels(name: str) -> None:
    assert naming.dns_label_problem(name) is not None
