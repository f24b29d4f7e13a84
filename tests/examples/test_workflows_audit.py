"""The GitHub Actions examples are what users copy first: they pass zizmor, and stay hardened.

zizmor (the GitHub Actions security linter) runs offline on every example with no finding. The
checks below it keep the classes it reports from coming back in a form it would miss: no ``${{ }}``
inside a script, every action pinned to a commit, no token left in ``.git/config``, and a comment
workflow that treats the pull request's artifact as untrusted data.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

EXAMPLES = REPO / "examples/github-actions"
WORKFLOWS = sorted(EXAMPLES.glob("*.yml"))


def load(path: Path) -> dict[str, Any]:
    workflow = yaml.safe_load(path.read_text())
    assert isinstance(workflow, dict), path
    return workflow


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    """The ``on:`` block as a mapping (YAML 1.1 reads the key ``on`` as True)."""
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    assert isinstance(on, dict), on
    return on


def steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(job/step name, step) for every step of every job."""
    for job_name, job in workflow["jobs"].items():
        for index, step in enumerate(job.get("steps", [])):
            yield f"{job_name}/{step.get('name', step.get('uses', index))}", step


# --- zizmor --------------------------------------------------------------------------------------


def zizmor_executable() -> str | None:
    """zizmor next to this interpreter (the venv's bin), else on PATH."""
    name = "zizmor.exe" if os.name == "nt" else "zizmor"
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("zizmor")


def require_zizmor() -> str:
    """The executable; without it, skip locally but fail in CI (where CI is set)."""
    found = zizmor_executable()
    if found is None:
        message = "zizmor is not installed (pip install -e '.[test]')"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run the workflow audit")
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def zizmor() -> str:
    return require_zizmor()


def describe(finding: dict[str, Any]) -> str:
    """One line per finding: where, which audit, what it says."""
    determinations = finding.get("determinations", {})
    where = []
    for location in finding.get("locations", []):
        symbolic = location.get("symbolic", {})
        if symbolic.get("kind") != "Primary":
            continue
        path = symbolic.get("key", {}).get("Local", {}).get("verbatim_path", "?")
        row = location.get("concrete", {}).get("location", {}).get("start_point", {}).get("row")
        line = "?" if row is None else row + 1
        where.append(f"{Path(path).name}:{line}: {symbolic.get('annotation', '')}")
    return (
        f"{finding.get('ident')} ({determinations.get('severity')}, "
        f"{determinations.get('persona')}): {'; '.join(where) or finding.get('desc')}"
    )


def audit(zizmor: str, persona: str, paths: list[Path]) -> list[dict[str, Any]]:
    """zizmor's findings on ``paths``; fails on anything but a clean run or a list of findings."""
    # Offline (no GitHub API), no configuration file that could switch an audit off, and a file
    # that does not parse is an error rather than skipped.
    argv = [
        zizmor,
        "--offline",
        "--no-config",
        "--strict-collection",
        "--persona",
        persona,
        "--format",
        "json",
        *map(str, paths),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZIZMOR_")}
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, cwd=REPO)
    # 0: no finding; 10-14: findings, by their highest severity; anything else: zizmor failed.
    if result.returncode != 0 and not 10 <= result.returncode <= 14:
        pytest.fail(f"zizmor exited {result.returncode}:\n{result.stderr}")
    findings = json.loads(result.stdout)
    assert isinstance(findings, list), result.stdout
    assert (result.returncode == 0) == (findings == []), (result.returncode, result.stderr)
    return findings


@pytest.mark.parametrize("persona", ["regular", "pedantic"])
def test_zizmor_finds_nothing_in_the_examples(zizmor: str, persona: str) -> None:
    assert WORKFLOWS
    findings = audit(zizmor, persona, WORKFLOWS)
    if findings:
        listing = "\n".join(f"- {describe(f)}" for f in findings)
        pytest.fail(f"zizmor --persona {persona}: {len(findings)} finding(s):\n{listing}")


def test_zizmor_reports_what_the_examples_avoid(zizmor: str, tmp_path: Path) -> None:
    # The audit above means something only if zizmor, run the same way, flags the mistakes.
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "name: bad\n"
        "on:\n  pull_request:\n"
        "permissions:\n  contents: write\n"
        "jobs:\n"
        "  check:\n"
        "    name: check\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        '      - run: gitops-gen diff "origin/${{ github.head_ref }}" HEAD\n'
        "  other:\n"
        "    name: other\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: true\n"
    )
    findings = audit(zizmor, "regular", [bad])
    idents = {f["ident"] for f in findings}
    assert {
        "artipacked",
        "excessive-permissions",
        "template-injection",
        "unpinned-uses",
    } <= idents
    injection = [describe(f) for f in findings if f["ident"] == "template-injection"]
    assert injection and all(line.startswith("template-injection (") for line in injection)
    assert any("bad.yml:12: " in line for line in injection), injection


# Inline suppressions, each with the reason it is safe. Anything else must be fixed, not ignored.
ALLOWED_IGNORES = {("pull-request-comment.yml", "dangerous-triggers")}
_IGNORE = re.compile(r"#\s*zizmor:\s*ignore\[([^\]]*)\](.*)")


def test_only_the_reviewed_zizmor_ignores_exist() -> None:
    found = set()
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            match = _IGNORE.search(line)
            if match:
                assert match.group(2).strip(), f"{path.name}: an ignore without its reason: {line}"
                found |= {(path.name, ident.strip()) for ident in match.group(1).split(",")}
    assert found == ALLOWED_IGNORES


# --- what zizmor reports, kept out by construction -----------------------------------------------


def expressions_in_scripts(workflow: dict[str, Any]) -> list[str]:
    """Steps whose ``run:`` script contains a ``${{ }}`` expression (template injection)."""
    return [where for where, step in steps(workflow) if "${{" in str(step.get("run", ""))]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_script_contains_an_expression(path: Path) -> None:
    # GitHub pastes ${{ }} into the script text before the shell sees it: a branch name such as
    # `a";curl …|sh;"` becomes code. Values reach scripts through env: and "$VAR" instead.
    assert expressions_in_scripts(load(path)) == []


_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)(?:\s+#\s*(?P<comment>.*))?$")
_PINNED = re.compile(r"^(?P<action>[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+)@(?P<sha>[0-9a-f]{40})$")
_VERSION = re.compile(r"^v\d+(?:\.\d+){0,2}$")


def unpinned_uses(text: str) -> list[str]:
    """``uses:`` lines that are not ``owner/repo@<40 hex> # vX.Y.Z``, and mismatched counts."""
    problems = []
    lines = [line for line in text.splitlines() if re.match(r"^\s*(?:-\s+)?uses:", line)]
    for line in lines:
        match = _USES.match(line)
        ref = match.group("ref") if match else ""
        comment = (match.group("comment") or "").strip() if match else ""
        if not _PINNED.match(ref) or not _VERSION.match(comment):
            problems.append(line.strip())
    # Every uses: the YAML holds must be one of the lines looked at (no flow-style hiding place).
    workflow = yaml.safe_load(text)
    uses = [
        step["uses"]
        for job in workflow.get("jobs", {}).values()
        for step in job.get("steps", [])
        if "uses" in step
    ] + [job["uses"] for job in workflow.get("jobs", {}).values() if "uses" in job]
    if len(uses) != len(lines):
        problems.append(f"{len(uses)} uses: in the YAML, {len(lines)} uses: lines")
    return problems


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path: Path) -> None:
    # A tag can be moved to other code; a commit SHA cannot. The comment says which release it is.
    assert unpinned_uses(path.read_text()) == []


def test_each_action_has_one_pin_across_the_examples() -> None:
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            match = _USES.match(line)
            if match and (pinned := _PINNED.match(match.group("ref"))):
                comment = (match.group("comment") or "").strip()
                pins.setdefault(pinned["action"].lower(), set()).add((pinned["sha"], comment))
    assert pins
    assert {action: sorted(p) for action, p in pins.items() if len(p) > 1} == {}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_per_job(path: Path) -> None:
    workflow = load(path)
    assert workflow.get("permissions") == {}, "the workflow itself grants nothing"
    for name, job in workflow["jobs"].items():
        # A mapping (possibly empty), never the default or read-all / write-all.
        assert isinstance(job.get("permissions"), dict), f"{name}: no permissions: mapping"


def test_write_permissions_are_where_they_are_used() -> None:
    writes = {
        (path.name, job_name, scope)
        for path in WORKFLOWS
        for job_name, job in load(path)["jobs"].items()
        for scope, level in job["permissions"].items()
        if level == "write"
    }
    assert writes == {
        ("main.yml", "publish", "contents"),  # publish --push with the job's token
        ("pull-request-comment.yml", "comment", "pull-requests"),  # the sticky comment
        ("release.yml", "images", "packages"),  # docker push to ghcr.io
        ("release.yml", "chart", "packages"),  # helm push to ghcr.io
        ("release.yml", "pages", "contents"),  # push the chart to the gh-pages branch
        ("release.yml", "release", "contents"),  # gh release create
    }


# --- credentials: no token in .git/config; the steps that need one get it through env: ----------

_REMOTE = re.compile(
    r"publish --push|\bwait\b|commit-status|ls-remote|git (?:-C \S+ )?(?:push|pull)"
    r"|publish-chart\.sh pages .*--push"
)
HELPER_STEP = "Let git read the token from GIT_TOKEN"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_checkout_leaves_a_token_behind(path: Path) -> None:
    for where, step in steps(load(path)):
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, where


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_steps_that_talk_to_a_remote_get_the_token(path: Path) -> None:
    for job_name, job in load(path)["jobs"].items():
        names = [step.get("name") for step in job.get("steps", [])]
        for index, step in enumerate(job.get("steps", [])):
            if not _REMOTE.search(str(step.get("run", ""))):
                continue
            where = f"{path.name}: {job_name}/{step.get('name', index)}"
            assert "GIT_TOKEN" in step.get("env", {}), where
            assert HELPER_STEP in names[:index], f"{where}: no credential helper before it"
        for step in job.get("steps", []):
            if "GIT_TOKEN" in step.get("env", {}):
                assert _REMOTE.search(step["run"]), f"{job_name}/{step.get('name')}: needs no token"
    assert "GIT_TOKEN" not in load(path).get("env", {})


def helper_script() -> str:
    scripts = {
        step["run"]
        for path in WORKFLOWS
        for _, step in steps(load(path))
        if step.get("name") == HELPER_STEP
    }
    assert len(scripts) == 1, "every job configures the same credential helper"
    return scripts.pop()


def credential_fill(
    env: dict[str, str], host: str = "github.com"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "credential", "fill"],
        input=f"protocol=https\nhost={host}\npath=o/r.git\n\n",
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_the_credential_helper_hands_git_the_token_of_the_step(tmp_path: Path) -> None:
    # The helper goes into the (test's temporary) global git config, as on the runner.
    env = dict(os.environ, GITHUB_SERVER_URL="https://github.com", GIT_TERMINAL_PROMPT="0")
    env.pop("GIT_TOKEN", None)
    script = tmp_path / "helper.sh"
    script.write_text(helper_script())
    subprocess.run(["bash", "-e", str(script)], env=env, check=True)
    config = Path(os.environ["GIT_CONFIG_GLOBAL"]).read_text()
    assert "credential" in config and "s3cret-token" not in config

    with_token = credential_fill({**env, "GIT_TOKEN": "s3cret-token"})
    assert with_token.returncode == 0, with_token.stderr
    assert "username=x-access-token\n" in with_token.stdout
    assert "password=s3cret-token\n" in with_token.stdout
    # Without the variable (every other step), git gets nothing and cannot prompt.
    without = credential_fill(env)
    assert without.returncode != 0 and "password=" not in without.stdout
    # Only for the workflow's own server.
    elsewhere = credential_fill({**env, "GIT_TOKEN": "s3cret-token"}, host="example.com")
    assert "s3cret-token" not in elsewhere.stdout


# --- pull requests: a read-only job, and a comment workflow that runs nothing from the PR ---------


def test_no_workflow_runs_on_pull_request_target() -> None:
    for path in WORKFLOWS:
        assert "pull_request_target" not in triggers(load(path)), path.name


def test_the_comment_workflow_reads_the_pull_request_run_as_data() -> None:
    check = load(EXAMPLES / "pull-request.yml")
    comment = load(EXAMPLES / "pull-request-comment.yml")
    assert set(triggers(check)) == {"pull_request"}
    assert triggers(comment) == {
        "workflow_run": {"workflows": [check["name"]], "types": ["completed"]}
    }
    uploads = [s for _, s in steps(check) if str(s.get("uses", "")).startswith("actions/upload-")]
    downloads = [
        s for _, s in steps(comment) if str(s.get("uses", "")).startswith("actions/download-")
    ]
    assert [u["with"]["name"] for u in uploads] == [d["with"]["name"] for d in downloads]
    (download,) = downloads
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    assert download["with"]["path"].startswith("${{ runner.temp }}/")
    # Nothing from the pull request is checked out, installed or executed.
    for where, step in steps(comment):
        assert "checkout" not in str(step.get("uses", "")), where
        assert not re.search(
            r"\b(pip|gitops-gen|make|npm|python|bash|sh|source)\b|\./", str(step.get("run", ""))
        ), where
    (job,) = comment["jobs"].values()
    assert "github.event.workflow_run.event == 'pull_request'" in job["if"]
    assert "github.event.workflow_run.conclusion == 'success'" in job["if"]


def pr_number_step() -> dict[str, Any]:
    comment = load(EXAMPLES / "pull-request-comment.yml")
    (post,) = [s for _, s in steps(comment) if "sticky-pull-request-comment" in s.get("uses", "")]
    step_id = re.fullmatch(r"\$\{\{ steps\.(\w+)\.outputs\.number \}\}", post["with"]["number"])
    assert step_id, post["with"]["number"]
    assert post["if"] == f"steps.{step_id[1]}.outputs.number != ''"
    (step,) = [s for _, s in steps(comment) if s.get("id") == step_id[1]]
    return step


def run_pr_number_check(
    tmp_path: Path, number: bytes | None, pr_head: str
) -> tuple[int, str, list[str]]:
    """Run the comment workflow's number check as GitHub would, with ``gh`` answering ``pr_head``.

    Returns the exit code, what it wrote to $GITHUB_OUTPUT, and the ``gh`` calls it made.
    """
    step = pr_number_step()
    artifact = tmp_path / "artifact"
    artifact.mkdir()
    if number is not None:
        (artifact / "number").write_bytes(number)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "gh-calls"
    gh = bin_dir / "gh"
    gh.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{calls}"\nprintf "%s\\n" "{pr_head}"\n')
    gh.chmod(gh.stat().st_mode | stat.S_IXUSR)
    output = tmp_path / "github-output"
    output.write_text("")
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_REPOSITORY": "owner/gitops",
        "DIR": str(artifact),
        "HEAD_SHA": "a" * 40,
        "GH_TOKEN": "t",
    }
    assert set(step["env"]) == {"DIR", "HEAD_SHA", "GH_TOKEN"}
    # GitHub's default shell for run: on Linux.
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    made = calls.read_text().splitlines() if calls.exists() else []
    return result.returncode, output.read_text(), made


@pytest.mark.parametrize("number", [b"42\n", b"7", b"1234567890\n"])
def test_a_number_of_a_pull_request_at_the_tested_commit_is_used(
    tmp_path: Path, number: bytes
) -> None:
    code, output, gh = run_pr_number_check(tmp_path, number, pr_head="a" * 40)
    n = number.decode().strip()
    assert (code, output) == (0, f"number={n}\n")
    assert gh == [f"api repos/owner/gitops/pulls/{n} --jq .head.sha"]


def test_a_pull_request_that_moved_on_gets_no_comment_from_an_older_run(tmp_path: Path) -> None:
    # Also what a forged number of another pull request runs into: its head is not the tested one.
    code, output, gh = run_pr_number_check(tmp_path, b"42\n", pr_head="b" * 40)
    assert (code, output, len(gh)) == (0, "", 1)


@pytest.mark.parametrize(
    "number",
    [
        None,
        b"",
        b"\n",
        b"0",
        b"042",
        b"42abc",
        b"42 ",
        b"-1",
        b"1e3",
        b"$(touch pwned)",
        b"42\nnumber=1",
        b"4" * 11,
        b"\xff\xfe",
    ],
)
def test_anything_but_a_plain_number_fails_the_check(tmp_path: Path, number: bytes | None) -> None:
    code, output, gh = run_pr_number_check(tmp_path, number, pr_head="a" * 40)
    assert code != 0 and output == ""
    assert gh == [], "gh called with an unchecked number"
    assert not (Path.cwd() / "pwned").exists() and not (tmp_path / "pwned").exists()


# --- the checkers themselves must catch mistakes -----------------------------------------------


def test_the_checkers_catch_an_expression_in_a_script_and_an_unpinned_action() -> None:
    workflow = {
        "jobs": {
            "a": {
                "steps": [
                    {"name": "ok", "env": {"B": "${{ github.base_ref }}"}, "run": 'echo "$B"'},
                    {"name": "bad", "run": 'echo "${{ github.head_ref }}"'},
                    {"name": "bad2", "run": "x\n  y ${{inputs.v}}"},
                ]
            }
        }
    }
    assert expressions_in_scripts(workflow) == ["a/bad", "a/bad2"]
    sha = "11d5960a326750d5838078e36cf38b85af677262"
    text = (
        "jobs:\n  a:\n    steps:\n"
        f"      - uses: actions/checkout@{sha} # v4.4.0\n"
        "      - uses: actions/checkout@v4\n"
        f"      - uses: actions/checkout@{sha}\n"
        f"      - uses: actions/checkout@{sha} # main\n"
        f"      - uses: actions/checkout@{sha[:12]} # v4.4.0\n"
        f"      - {{uses: actions/checkout@{sha}, name: hidden}}\n"
    )
    assert unpinned_uses(text) == [
        "- uses: actions/checkout@v4",
        f"- uses: actions/checkout@{sha}",
        f"- uses: actions/checkout@{sha} # main",
        f"- uses: actions/checkout@{sha[:12]} # v4.4.0",
        "6 uses: in the YAML, 5 uses: lines",
    ]


def test_the_remote_pattern_finds_every_git_network_call() -> None:
    remote = [
        "gitops-gen publish --push --remote origin",
        "gitops-gen -C gitops publish --push --author x",
        "gitops-gen -C gitops wait --env staging --dry-sha x",
        "gitops-gen -C gitops commit-status --env s --key e2e --phase success --sha x",
        "git -C gitops ls-remote origin refs/heads/environment/staging",
        "git -C gitops push origin HEAD:refs/heads/main",
        "git pull --rebase origin main",
        '.github/scripts/publish-chart.sh pages "dist/serviceradar-$VERSION.tgz" --push',
    ]
    local = [
        "gitops-gen check",
        "gitops-gen -C gitops bump 1.0.0",
        "make e2e",
        "git add x",
        '.github/scripts/publish-chart.sh pages "dist/serviceradar-$VERSION.tgz"',
        ".github/scripts/publish-chart.sh oci helm/serviceradar 1.0.0",
    ]
    assert [s for s in remote if not _REMOTE.search(s)] == []
    assert [s for s in local if _REMOTE.search(s)] == []


def test_zizmor_is_found_beside_the_interpreter_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv_bin, path_bin = tmp_path / "venv-bin", tmp_path / "path-bin"
    for folder in (venv_bin, path_bin):
        folder.mkdir()
        tool = folder / "zizmor"
        tool.write_text("#!/bin/sh\n")
        tool.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(venv_bin / "python"))
    monkeypatch.setenv("PATH", str(path_bin))
    assert zizmor_executable() == str(venv_bin / "zizmor")
    (venv_bin / "zizmor").unlink()
    assert zizmor_executable() == str(path_bin / "zizmor")


def test_a_missing_zizmor_skips_locally_and_fails_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_zizmor()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the workflow audit"):
        require_zizmor()
