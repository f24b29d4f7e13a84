"""Tag policy, semver, OCI tags and the Promoter's branch rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.errors import UsageError
from generator.release.bump import bump_repository
from generator.release.tags import release_tags
from generator.spec import naming
from generator.spec.model import load_spec


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


# --- the sha-<hex> tag, wherever it is read -----------------------------------------------------

HEX = "0123456789abcdef" * 5


def sha_tag(digits: int) -> str:
    return "sha-" + HEX[:digits]


# The bounds of an immutable commit tag: 7 to 64 lower-case hex digits (a short SHA-1 up to a full
# SHA-256). Every reader of the pattern is held to the same edges.
SHA_TAGS = [
    (sha_tag(6), False),
    (sha_tag(7), True),
    (sha_tag(40), True),
    (sha_tag(63), True),
    (sha_tag(64), True),
    (sha_tag(65), False),
    ("sha-ABCDEF1", False),
    ("sha-" + HEX[:39] + "A", False),
    ("SHA-" + HEX[:40], False),
    ("sha-" + HEX[:40] + "g", False),
]


@pytest.mark.parametrize(("tag", "immutable"), SHA_TAGS)
def test_sha_tag_bounds(tag: str, immutable: bool) -> None:
    assert naming.is_immutable_tag(tag) is immutable
    assert naming.pull_policy(tag) == ("IfNotPresent" if immutable else "Always")


@pytest.mark.parametrize(("tag", "immutable"), SHA_TAGS)
def test_sha_tag_bounds_in_the_spec(example_repo: Path, tag: str, immutable: bool) -> None:
    """An environment's image tag sets the pull policy the wrapper chart passes to the chart."""
    staging = example_repo / "environments" / "staging.yaml"
    staging.write_text(staging.read_text().replace("tag: latest", f"tag: {tag}"))
    app = load_spec(example_repo).environment("staging").apps[0]
    assert app.image_tag == tag
    policy = "IfNotPresent" if immutable else "Always"
    assert app.pull_policy == policy
    assert app.values["global"] == {"imageTag": tag, "imagePullPolicy": policy}


@pytest.mark.parametrize("tag", [sha_tag(6), sha_tag(65), "sha-ABCDEF1"])
def test_a_sha_tag_outside_the_bounds_renders_as_mutable(example_repo: Path, tag: str) -> None:
    staging = example_repo / "environments" / "staging.yaml"
    staging.write_text(staging.read_text().replace("tag: latest", f"tag: {tag}"))
    result = CliRunner().invoke(main, ["-C", str(example_repo), "render"])
    assert result.exit_code == 0, result.output
    values = example_repo / "rendered/environments/staging/serviceradar/values.yaml"
    assert f"  imagePullPolicy: Always\n  imageTag: {tag}\n" in values.read_text()


@pytest.mark.parametrize("digits", [40, 64])
@pytest.mark.parametrize("case", [str.lower, str.upper])
def test_the_commit_tag_a_release_pushes_is_immutable(digits: int, case: Any) -> None:
    """``tags --commit`` takes a full SHA-1 or SHA-256, in either case; the spec pins its tag."""
    commit = case(HEX[:digits])
    tags = release_tags("1.0.70", commit).tags
    assert tags[1] == "sha-" + HEX[:digits]
    assert naming.is_immutable_tag(tags[1])
    assert naming.pull_policy(tags[1]) == "IfNotPresent"


@pytest.mark.parametrize("digits", [7, 39, 41, 63, 65])
def test_tags_wants_a_full_commit(digits: int) -> None:
    with pytest.raises(UsageError) as info:
        release_tags("1.0.70", HEX[:digits])
    assert str(info.value) == (
        f"--commit: {HEX[:digits]!r} is not a full commit name (40 hex digits, or 64 for "
        "SHA-256); pass the output of `git rev-parse HEAD`"
    )


@pytest.mark.parametrize(("tag", "immutable"), SHA_TAGS)
def test_sha_tag_bounds_in_bump(example_repo: Path, tag: str, immutable: bool) -> None:
    """bump reports a pinned sha- tag as a pin it does not reach, a mutable one as left alone."""
    staging = example_repo / "environments" / "staging.yaml"
    staging.write_text(staging.read_text().replace("tag: latest", f"tag: {tag}"))
    result = bump_repository(example_repo, "1.0.76", dry_run=True)
    [override] = result.overrides
    assert (override.file, override.line, override.value) == (
        "environments/staging.yaml",
        10,
        tag,
    )
    assert override.mutable is not immutable
    if immutable:
        assert str(override).endswith(
            f"staging stays pinned to {tag}; the bump does not reach it (remove the pin to follow the release)"
        )
    else:
        assert str(override).endswith(f"staging keeps the mutable tag {tag} (left alone)")
