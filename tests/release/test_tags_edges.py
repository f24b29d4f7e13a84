"""gitops-gen tags at the edges of its rules: commit lengths, the leading v, what each option checks.

The commit rule is a regular expression compiled at module level, which mutation testing never
mutates: its bounds are pinned here by hand.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.errors import TagsError
from generator.release.tags import release_tags, strip_v

SHA1 = "02b7741a" + "0" * 31 + "1"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["tags", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("length", [40, 64])
def test_full_commit_names_of_both_hash_sizes(length: int) -> None:
    commit = ("0123456789abcdef" * 4)[:length]
    assert release_tags("1.0.0", commit).tags[1] == f"sha-{commit}"


@pytest.mark.parametrize("length", [0, 7, 39, 41, 63, 65, 80])
def test_commit_names_of_any_other_length_are_refused(length: int) -> None:
    commit = "a" * length
    code, out, err = run("--version", "1.0.0", "--commit", commit)
    assert code == 2
    assert out == ""
    assert err == (
        f"error: --commit: {commit!r} is not a full commit name (40 hex digits, or 64 for "
        "SHA-256); pass the output of `git rev-parse HEAD`\n"
    )


@pytest.mark.parametrize("commit", ["g" + "0" * 39, "0" * 39 + "-", "0" * 20 + " " + "0" * 19])
def test_commit_names_must_be_hex(commit: str) -> None:
    with pytest.raises(TagsError, match="--commit: "):
        release_tags("1.0.0", commit)


def test_commit_is_trimmed_and_lowered() -> None:
    tags = release_tags(" 1.0.0\n", f"  {SHA1.upper()}\n")
    assert tags.commit == SHA1
    assert tags.version == "1.0.0"
    assert tags.tags == ("v1.0.0", f"sha-{SHA1}", "latest")


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("v1.0.70", "1.0.70"),
        ("V1.0.70", "1.0.70"),
        ("1.0.70", "1.0.70"),
        ("v", "v"),
        ("vx1.0.0", "vx1.0.0"),
        ("version", "version"),
        ("", ""),
    ],
)
def test_only_a_v_before_a_digit_is_dropped(given: str, kept: str) -> None:
    assert strip_v(given) == kept


def test_a_v_that_is_not_a_version_prefix_is_reported_as_given() -> None:
    code, _, err = run("--version", "vnext", "--commit", SHA1)
    assert code == 2
    assert err == "error: --version: 'vnext' is not an exact semver version such as 1.0.70\n"


def test_json_of_a_final_release_says_latest() -> None:
    tags = release_tags("1.2.3", SHA1, prefix="release-", extra=["stable"])
    assert tags.to_json() == {
        "version": "1.2.3",
        "commit": SHA1,
        "prerelease": False,
        "latest": True,
        "tags": ["release-1.2.3", f"sha-{SHA1}", "latest", "stable"],
    }


def test_an_extra_equal_to_another_tag_is_pushed_once() -> None:
    tags = release_tags("1.2.3", SHA1, extra=["v1.2.3", f"sha-{SHA1}", "edge", "edge"])
    assert tags.tags == ("v1.2.3", f"sha-{SHA1}", "latest", "edge")


def test_a_prerelease_accepts_other_extras_in_order() -> None:
    tags = release_tags("1.2.3-rc.1", SHA1, extra=["rc", "candidate"])
    assert tags.prerelease is True
    assert tags.tags == ("v1.2.3-rc.1", f"sha-{SHA1}", "rc", "candidate")


def test_a_hyphen_only_in_build_metadata_is_not_a_prerelease() -> None:
    # The version is refused for its build metadata, but the other options are still checked as
    # for a final release: --extra latest is no problem there.
    with pytest.raises(TagsError) as info:
        release_tags("1.2.3+build-5", SHA1, extra=["latest"])
    assert [str(p) for p in info.value.problems] == [
        "--version: '1.2.3+build-5' carries build metadata (+build-5), which an OCI tag cannot "
        "hold ('+' is not allowed in a tag); drop it: --version 1.2.3"
    ]


def test_a_bad_version_and_a_bad_commit_still_check_the_extras() -> None:
    with pytest.raises(TagsError) as info:
        release_tags("1.0", "xyz", prefix="-", extra=["ok", "a/b"])
    problems = [str(p) for p in info.value.problems]
    assert [p.split(":")[0] for p in problems] == ["--version", "--commit", "--extra"]
    assert "'a/b' is not a valid OCI tag" in problems[2]


@pytest.mark.parametrize(("length", "ok"), [(128, True), (129, False)])
def test_tag_length_limit(length: int, ok: bool) -> None:
    extra = "x" * length
    if ok:
        assert release_tags("1.0.0", SHA1, extra=[extra]).tags[-1] == extra
    else:
        with pytest.raises(TagsError, match=r"--extra: 'x+' is not a valid OCI tag"):
            release_tags("1.0.0", SHA1, extra=[extra])
