"""gitops-gen tags: the OCI tags a release pushes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.errors import UsageError
from generator.tags import release_tags

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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--version", "1.0", "--commit", SHA1], "--version: '1.0' is not an exact semver"),
        (["--version", "01.0.0", "--commit", SHA1], "--version: '01.0.0' is not an exact semver"),
        (["--version", "1.0.0", "--commit", "abc123"], "--commit: 'abc123' is not a full commit"),
        (["--version", "1.0.0", "--commit", "g" * 40], "--commit:"),
        (
            ["--version", "1.0.0", "--commit", SHA1, "--prefix", "-v"],
            "--prefix: '-v1.0.0' is not a valid OCI tag",
        ),
        (
            ["--version", "1.0.0", "--commit", SHA1, "--extra", "a/b"],
            "--extra: 'a/b' is not a valid OCI tag",
        ),
        (["--version", "1.0.0", "--commit", SHA1, "--extra", "x" * 129], "--extra:"),
        (["--version", "1.0.0+build.7", "--commit", SHA1], "build metadata (+...) cannot appear"),
    ],
)
def test_bad_input_exits_2_with_the_reason(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(UsageError) as info:
        release_tags("1.0", "xyz")
    assert "--version:" in str(info.value) and "--commit:" in str(info.value)


def test_missing_options_are_usage_errors() -> None:
    code, _, err = run("--version", "1.0.0")
    assert code == 2
    assert "--commit" in err
