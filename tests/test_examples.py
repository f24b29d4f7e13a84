"""The example GitHub Actions workflows parse, and every gitops-gen call in them is valid CLI."""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import yaml

from generator.cli import main
from tests.conftest import REPO

WORKFLOWS = sorted((REPO / "examples/github-actions").glob("*.yml"))

# A GitHub expression stands for one word: whatever it expands to is quoted or a single token.
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def run_scripts(workflow: dict[str, object]) -> Iterator[tuple[str, str]]:
    """(job/step name, script) for every ``run:`` step."""
    jobs = workflow["jobs"]
    assert isinstance(jobs, dict)
    for job_name, job in jobs.items():
        for index, step in enumerate(job.get("steps", [])):
            if "run" in step:
                yield f"{job_name}/{step.get('name', index)}", step["run"]


def invocations(script: str) -> Iterator[list[str]]:
    """Each ``gitops-gen ...`` command line in a shell script, as argv without the program name."""
    script = script.replace("\\\n", " ")
    script = _EXPRESSION.sub("GH_EXPRESSION", script)
    for line in script.splitlines():
        if "gitops-gen" not in line or line.lstrip().startswith("#"):
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
        for start, token in enumerate(tokens):
            if token != "gitops-gen":
                continue
            argv = []
            for word in tokens[start + 1 :]:
                if word and all(ch in "|&;<>()" for ch in word):
                    break
                argv.append(word)
            yield argv


def validate(argv: list[str], workdir: Path) -> None:
    """Parse ``argv`` as click would run it (types, choices, required options), without running it."""
    # -C DIR must exist for click's path check; the workflow's checkout provides it.
    for flag, value in itertools.pairwise(argv):
        if flag == "-C":
            (workdir / value).mkdir(parents=True, exist_ok=True)
    ctx = click.Context(main, info_name="gitops-gen", resilient_parsing=False)
    rest = click.Command.parse_args(main, ctx, list(argv))
    assert rest, f"no command in {argv}"
    name, args = rest[0], rest[1:]
    command = main.get_command(ctx, name)
    assert command is not None, f"unknown command {name!r} in gitops-gen {shlex.join(argv)}"
    with command.make_context(name, list(args), parent=ctx, resilient_parsing=False):
        pass


def test_there_are_three_workflows() -> None:
    assert [p.name for p in WORKFLOWS] == ["main.yml", "pull-request.yml", "release.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_parses_and_its_gitops_gen_calls_are_valid(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    workflow = yaml.safe_load(path.read_text())
    assert isinstance(workflow, dict)
    assert workflow["jobs"]
    assert True in workflow or "on" in workflow  # YAML 1.1 reads the key `on` as True
    calls = 0
    for where, script in run_scripts(workflow):
        for argv in invocations(script):
            try:
                validate(argv, tmp_path)
            except click.ClickException as e:
                pytest.fail(
                    f"{path.name}: {where}: gitops-gen {shlex.join(argv)}: {e.format_message()}"
                )
            calls += 1
    assert calls > 0


def release_steps() -> list[str]:
    workflow = yaml.safe_load((REPO / "examples/github-actions/release.yml").read_text())
    return [script for _, script in run_scripts(workflow)]


def test_release_runs_the_seed_steps_in_order() -> None:
    text = "\n".join(release_steps())
    order = [
        "gitops-gen tags",
        "helm package",
        "helm push",
        "gitops-gen -C gitops bump",
        "git -C gitops commit",
        "gitops-gen -C gitops publish --push",
        "gitops-gen -C gitops wait --env staging",
        "commit-status --env staging --key e2e --phase success",
        "kubectl apply -f -",
        "gitops-gen -C gitops wait --env demo",
        "gh release create",
    ]
    positions = [text.find(marker) for marker in order]
    assert -1 not in positions, [m for m, p in zip(order, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    workflow = yaml.safe_load((REPO / "examples/github-actions/release.yml").read_text())
    jobs = workflow["jobs"]

    def needs(job: str) -> set[str]:
        value = jobs[job]["needs"]
        return {value} if isinstance(value, str) else set(value)

    # Every job after tags also needs it: tags strips the leading v of the version once.
    assert needs("images") == {"tags"}
    assert needs("chart") == {"tags", "images"}
    assert needs("bump") == {"tags", "chart"}
    assert needs("e2e") == {"tags", "bump"}
    assert needs("release") >= {"tags", "bump", "e2e"}


# --- the checker itself must catch mistakes ---------------------------------------------------


@pytest.mark.parametrize(
    ("script", "error"),
    [
        ("gitops-gen tags --version 1.0.0 --commmit abc", "No such option"),
        ("gitops-gen render --format yaml", "Invalid value"),
        ("gitops-gen rendr", "unknown command"),
        ("gitops-gen diff --promotoin demo", "No such option"),
        ("gitops-gen tags --version 1.0.0", "Missing option"),
        ("gitops-gen -C gitops wait --env demo --dry-sh x", "No such option"),
    ],
)
def test_the_checker_rejects_bad_calls(
    script: str, error: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (argv,) = invocations(script)
    with pytest.raises((click.ClickException, AssertionError)) as info:
        validate(argv, tmp_path)
    message = (
        info.value.format_message()
        if isinstance(info.value, click.ClickException)
        else str(info.value)
    )
    assert error in message


def test_invocations_follow_continuations_pipes_and_expressions() -> None:
    script = (
        'X=$(gitops-gen tags --version "$V" --commit ${{ github.sha }})\n'
        "gitops-gen -C gitops commit-status --env staging \\\n"
        "  --key e2e --phase success | kubectl apply -f -\n"
        "# gitops-gen in a comment is ignored\n"
        "gitops-gen diff a b > out.md || [ $? -eq 1 ]\n"
    )
    assert list(invocations(script)) == [
        ["tags", "--version", "$V", "--commit", "GH_EXPRESSION"],
        ["-C", "gitops", "commit-status", "--env", "staging", "--key", "e2e", "--phase", "success"],
        ["diff", "a", "b"],
    ]
