"""gitops-gen tags: the OCI tags a release pushes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.errors import UsageError
from generator.release.tags import release_tags

SHA1 = "02b7741a" + "0" * 31 + "1"
SHA256 = "ab" * 32


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["tags", *args])
    return result.exit_code, result.stdout, result.stderr


def test_final_release_pushes_version_commit_and_latest() -> None:
    code, out, err = run("--version", "1.0.70", "--commit", SHA1)
    assert code == 0, err
    assert out == f"v1.0.70\nsha-{SHA1}\nlatest\n"
    assert err == ""


def test_prerelease_does_not_move_latest() -> None:
    code, out, _ = run("--version", "1.0.70-rc.1", "--commit", SHA1)
    assert code == 0
    assert out.splitlines() == ["v1.0.70-rc.1", f"sha-{SHA1}"]


def test_a_prerelease_refuses_extra_latest() -> None:
    code, out, err = run(
        "--version", "1.0.70-rc.1", "--commit", SHA1, "--extra", "rc", "--extra", "latest",
        "--format", "json",
    )  # fmt: skip
    assert code == 2
    assert out == ""
    assert "--extra: 'latest' is not pushed for the pre-release 1.0.70-rc.1" in err
    assert "never moves latest" in err
    assert "Traceback" not in err
    # A final release already pushes latest: --extra latest is a harmless duplicate.
    code, out, _ = run("--version", "1.0.70", "--commit", SHA1, "--extra", "latest")
    assert code == 0
    assert out.splitlines() == ["v1.0.70", f"sha-{SHA1}", "latest"]


def test_prefix_extra_tags_and_sha256_commits() -> None:
    code, out, _ = run(
        "--version", "2.0.0", "--commit", SHA256.upper(), "--prefix", "",
        "--extra", "stable", "--extra", "2.0", "--extra", "stable",
    )  # fmt: skip
    assert code == 0
    assert out.splitlines() == ["2.0.0", f"sha-{SHA256}", "latest", "stable", "2.0"]


def test_leading_v_on_the_version_is_accepted() -> None:
    assert release_tags("v1.0.70", SHA1).tags[0] == "v1.0.70"


def test_json_shape() -> None:
    code, out, _ = run("--version", "1.0.70-beta.2", "--commit", SHA1, "--format", "json")
    assert code == 0
    assert json.loads(out) == {
        "version": "1.0.70-beta.2",
        "commit": SHA1,
        "prerelease": True,
        "latest": False,
        "tags": ["v1.0.70-beta.2", f"sha-{SHA1}"],
    }


NOT_SEMVER = "is not an exact semver version such as 1.0.70"
NOT_A_COMMIT = "is not a full commit name (40 hex digits, or 64 for SHA-256); pass the output of `git rev-parse HEAD`"
NOT_A_TAG = "is not a valid OCI tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--version", "1.0", "--commit", SHA1], f"--version: '1.0' {NOT_SEMVER}"),
        (["--version", "01.0.0", "--commit", SHA1], f"--version: '01.0.0' {NOT_SEMVER}"),
        (["--version", "1.0.0", "--commit", "abc123"], f"--commit: 'abc123' {NOT_A_COMMIT}"),
        (["--version", "1.0.0", "--commit", "g" * 40], f"--commit: '{'g' * 40}' {NOT_A_COMMIT}"),
        (["--version", "1.0.0", "--commit", SHA1, "--prefix", "-v"], f"--prefix: '-v1.0.0' {NOT_A_TAG}"),
        (["--version", "1.0.0", "--commit", SHA1, "--extra", "a/b"], f"--extra: 'a/b' {NOT_A_TAG}"),
        (["--version", "1.0.0", "--commit", SHA1, "--extra", "x" * 129], f"--extra: '{'x' * 129}' {NOT_A_TAG}"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_the_reason(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert err == f"error: {message}\n"


def test_build_metadata_blames_the_version_not_the_prefix() -> None:
    code, out, err = run("--version", "1.0.70+build.5", "--commit", SHA1)
    assert code == 2
    assert out == ""
    assert err == (
        "error: --version: '1.0.70+build.5' carries build metadata (+build.5), which an OCI tag "
        "cannot hold ('+' is not allowed in a tag); drop it: --version 1.0.70\n"
    )
    # The same with a leading v, a pre-release and an empty prefix: still --version, and only it.
    code, _, err = run("--version", "v2.0.0-rc.1+sha.abc", "--commit", SHA1, "--prefix", "")
    assert code == 2
    assert err.startswith("error: --version: '2.0.0-rc.1+sha.abc' carries build metadata")
    assert "drop it: --version 2.0.0-rc.1" in err
    assert "--prefix" not in err
    assert len(err.splitlines()) == 1


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(UsageError) as info:
        release_tags("1.0", "xyz")
    assert "--version:" in str(info.value) and "--commit:" in str(info.value)


def test_every_problem_line_stands_on_its_own() -> None:
    code, out, err = run(
        "--version", "1.0.0-rc.1+b", "--commit", "xyz", "--prefix", "-",
        "--extra", "a/b", "--extra", "latest",
    )  # fmt: skip
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert [line.split(":", 2)[:2] for line in lines] == [
        ["error", " --version"],
        ["error", " --commit"],
        ["error", " --prefix"],
        ["error", " --extra"],
        ["error", " --extra"],
    ]
    assert "'-1.0.0-rc.1' is not a valid OCI tag" in lines[2]  # checked without the +b
    assert "'a/b' is not a valid OCI tag" in lines[3]
    assert "not pushed for the pre-release 1.0.0-rc.1" in lines[4]
    assert "Traceback" not in err


def test_missing_options_are_usage_errors() -> None:
    code, _, err = run("--version", "1.0.0")
    assert code == 2
    assert "--commit" in err
