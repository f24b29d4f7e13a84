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


def test_the_example_workflows() -> None:
    assert [p.name for p in WORKFLOWS] == [
        "main.yml",
        "pull-request-comment.yml",
        "pull-request.yml",
        "release.yml",
    ]


# Variables the runner sets in every job (GitHub's default environment variables) that the
# examples use. Spelled out, so that a typo such as $GITHUB_SHAA is not taken for one of them.
RUNNER_VARIABLES = frozenset(
    {
        "CI",
        "GITHUB_ACTOR",
        "GITHUB_ENV",
        "GITHUB_OUTPUT",
        "GITHUB_REF",
        "GITHUB_REPOSITORY",
        "GITHUB_RUN_ID",
        "GITHUB_SERVER_URL",
        "GITHUB_SHA",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_WORKSPACE",
        "RUNNER_TEMP",
    }
)
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_]\w*)[^}]*\}|([A-Za-z_]\w*))")
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_]\w*)=")
_TO_GITHUB_ENV = re.compile(r"([A-Za-z_]\w*)=.*>>\s*\"?\$GITHUB_ENV")


def variables(word: str) -> list[str]:
    return [a or b for a, b in _VARIABLE.findall(word)]


def gitops_gen_calls(
    workflow: dict[str, object],
) -> Iterator[tuple[str, list[str], set[str], dict[str, str]]]:
    """(job/step, argv, the shell variables defined there, those with a literal value) for every
    ``gitops-gen`` call: the runner's variables, workflow, job and step ``env:``, assignments earlier
    in the same script, and what earlier steps of the job wrote to $GITHUB_ENV."""
    workflow_env = workflow.get("env") or {}
    assert isinstance(workflow_env, dict)
    jobs = workflow["jobs"]
    assert isinstance(jobs, dict)
    for job_name, job in jobs.items():
        from_github_env: set[str] = set()
        for index, step in enumerate(job.get("steps", [])):
            if "run" not in step:
                continue
            env = {**workflow_env, **(job.get("env") or {}), **(step.get("env") or {})}
            literals = {k: str(v) for k, v in env.items() if "${{" not in str(v)}
            defined = set(RUNNER_VARIABLES) | set(env) | from_github_env
            for line in step["run"].replace("\\\n", " ").splitlines():
                for argv in invocations(line):
                    yield f"{job_name}/{step.get('name', index)}", argv, set(defined), literals
                if match := _ASSIGNMENT.match(line):
                    defined.add(match.group(1))
                from_github_env.update(_TO_GITHUB_ENV.findall(line))


def undefined_variables(workflow: dict[str, object]) -> list[str]:
    """``$VAR`` in a gitops-gen call that nothing defines at that point (a typo, or an env: entry
    missing after moving a ``${{ }}`` out of the script)."""
    return [
        f"{where}: ${name}"
        for where, argv, defined, _ in gitops_gen_calls(workflow)
        for word in argv
        for name in variables(word)
        if name not in defined
    ]


def expand(argv: list[str], literals: dict[str, str]) -> list[str]:
    """Substitute the variables whose value is known (literal env: values), so that click checks
    those values too; the others stay as written (a string for click)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return literals.get(name, match.group(0))

    return [_VARIABLE.sub(value, word) for word in argv]


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
    for where, argv, _, literals in gitops_gen_calls(workflow):
        try:
            validate(expand(argv, literals), tmp_path)
        except click.ClickException as e:
            pytest.fail(
                f"{path.name}: {where}: gitops-gen {shlex.join(argv)}: {e.format_message()}"
            )
        calls += 1
    # Every call is seen (gitops_gen_calls walks the same scripts as run_scripts).
    assert calls == sum(len(list(invocations(s))) for _, s in run_scripts(workflow))
    if path.name != "pull-request-comment.yml":  # it runs nothing of gitops-gen's on purpose
        assert calls > 0


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_variable_in_a_gitops_gen_call_is_defined(path: Path) -> None:
    # Values reach scripts as "$VAR" from env: (never ${{ }} inside run:): each must be set.
    assert undefined_variables(yaml.safe_load(path.read_text())) == []


def release_steps() -> list[str]:
    workflow = yaml.safe_load((REPO / "examples/github-actions/release.yml").read_text())
    return [script for _, script in run_scripts(workflow)]


def test_release_runs_the_seed_steps_in_order() -> None:
    text = "\n".join(release_steps())
    order = [
        "gitops-gen tags",
        # publish-chart.sh: helm package and helm push, then the pages branch (tests/test_release_chart.py)
        "publish-chart.sh oci helm/serviceradar",
        "publish-chart.sh pages",
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
    assert needs("pages") == {"tags", "chart"}  # after the registry push
    assert needs("bump") == {"tags", "chart"}
    assert needs("e2e") == {"tags", "bump"}
    assert needs("release") >= {"tags", "pages", "bump", "e2e"}


_SECRET = re.compile(r"\$\{\{[^}]*\bsecrets\.")


def secrets_in_scripts(workflow: dict[str, object]) -> list[str]:
    """The ``run:`` steps that interpolate a secret into the script itself."""
    return [where for where, script in run_scripts(workflow) if _SECRET.search(script)]


def commit_status_calls_without_sha(workflow: dict[str, object]) -> list[str]:
    """The ``commit-status`` calls that would post for whatever the branch head is at that moment."""
    return [
        f"{where}: gitops-gen {shlex.join(argv)}"
        for where, script in run_scripts(workflow)
        for argv in invocations(script)
        if "commit-status" in argv and "--sha" not in argv
    ]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_secret_is_interpolated_into_a_script(path: Path) -> None:
    # ${{ secrets.X }} inside run: pastes the secret into the script text (quotes in it break the
    # script, and it lands in the script file on the runner); env: plus "$VAR" does not.
    assert secrets_in_scripts(yaml.safe_load(path.read_text())) == []


def test_every_e2e_status_names_the_tested_commit() -> None:
    # Without --sha, commit-status reads the branch head when the step runs: a promotion that
    # landed during the tests would get their result.
    workflow = yaml.safe_load((REPO / "examples/github-actions/release.yml").read_text())
    scripts = [script for _, script in run_scripts(workflow)]
    assert sum("commit-status" in argv for s in scripts for argv in invocations(s)) >= 2
    assert commit_status_calls_without_sha(workflow) == []
    # The commit is recorded before the tests run, and every status names it.
    steps = workflow["jobs"]["e2e"]["steps"]
    runs = [step.get("run", "") for step in steps]
    recorded = next(i for i, run in enumerate(runs) if "STAGING_SHA=" in run)
    tests = next(i for i, run in enumerate(runs) if "make e2e" in run)
    assert recorded < tests
    assert "$GITHUB_ENV" in runs[recorded]
    for run in runs:
        for argv in invocations(run):
            if "commit-status" in argv:
                assert argv[argv.index("--sha") + 1] == "$STAGING_SHA"


def test_the_release_waits_for_the_gitops_bump_commit() -> None:
    workflow = yaml.safe_load((REPO / "examples/github-actions/release.yml").read_text())
    jobs = workflow["jobs"]
    commit = next(s for s in jobs["bump"]["steps"] if s.get("id") == "commit")["run"]
    push = commit.index("git -C gitops push")
    assert commit.index("dry-sha=$(git -C gitops rev-parse HEAD)") > push
    assert jobs["bump"]["outputs"]["dry-sha"] == "${{ steps.commit.outputs.dry-sha }}"
    for job in ("e2e", "release"):
        assert jobs[job]["env"]["DRY_SHA"] == "${{ needs.bump.outputs.dry-sha }}"
        waits = [
            argv
            for step in jobs[job]["steps"]
            for argv in invocations(step.get("run", ""))
            if "wait" in argv
        ]
        assert waits, job
        for argv in waits:
            assert argv[argv.index("--dry-sha") + 1] == "$DRY_SHA"


def test_the_version_loses_its_leading_v_once() -> None:
    workflow = yaml.safe_load((REPO / "examples/github-actions/release.yml").read_text())
    jobs = workflow["jobs"]
    assert "VERSION" not in workflow["env"]
    tags_script = "\n".join(step.get("run", "") for step in jobs["tags"]["steps"])
    assert 'VERSION="${INPUT_VERSION#v}"' in tags_script
    for name, job in jobs.items():
        if name not in ("tags", "images"):
            assert job["env"]["VERSION"] == "${{ needs.tags.outputs.version }}", name


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


def test_the_checker_catches_a_secret_in_a_script_and_a_status_without_sha() -> None:
    workflow = {
        "jobs": {
            "e2e": {
                "steps": [
                    {"name": "ok", "env": {"K": "${{ secrets.K }}"}, "run": 'printf %s "$K"'},
                    {"name": "leak", "run": 'echo "${{ secrets.STAGING_KUBECONFIG }}" > k'},
                    {"name": "leak2", "run": "x ${{secrets.T}}"},
                    {"name": "head", "run": "gitops-gen commit-status --env s --key e2e \\\n"
                     "  --phase success | kubectl apply -f -"},
                    {"name": "pinned", "run": 'gitops-gen commit-status --env s --key e2e '
                     '--phase failure --sha "$S"'},
                ]
            }
        }
    }  # fmt: skip
    assert secrets_in_scripts(workflow) == ["e2e/leak", "e2e/leak2"]
    assert commit_status_calls_without_sha(workflow) == [
        "e2e/head: gitops-gen commit-status --env s --key e2e --phase success"
    ]


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


def test_the_checker_catches_an_undefined_variable_and_checks_literal_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow = {
        "env": {"W": "${{ inputs.w }}", "MAX": "abc"},
        "jobs": {
            "a": {
                "env": {"J": "x"},
                "steps": [
                    {"name": "record", "run": 'echo "R=$(git rev-parse HEAD)" >> "$GITHUB_ENV"'},
                    {
                        "name": "s",
                        "env": {"B": "${{ github.base_ref }}"},
                        "run": 'gitops-gen diff "origin/$B" "$W" --env "${J}" --env "$R"\n'
                        'gitops-gen diff "$BASE_REF" "$GITHUB_SHA" --env "$GITHUB_SHAA"\n'
                        'L=1\ngitops-gen diff "$L" --env "$NOPE" \\\n  --env "$J"\n'
                        'gitops-gen diff --max-chars "$MAX"',
                    },
                ],
            },
            "b": {
                "steps": [
                    {
                        "name": "t",
                        "run": 'gitops-gen diff "$R" "$J"\nLATE=1\ngitops-gen diff "$LATE"',
                    },
                    {
                        "name": "u",
                        "run": 'LATE=1\ngitops-gen diff "$LATE"\nX=$(gitops-gen diff "$X")',
                    },
                ]
            },
        },
    }
    assert undefined_variables(workflow) == [
        "a/s: $BASE_REF",
        "a/s: $GITHUB_SHAA",
        "a/s: $NOPE",
        "b/t: $R",
        "b/t: $J",
        "b/u: $X",
    ]
    monkeypatch.chdir(tmp_path)
    calls = [(argv, literals) for _, argv, _, literals in gitops_gen_calls(workflow)]
    assert expand(*calls[0]) == ["diff", "origin/$B", "$W", "--env", "x", "--env", "$R"]
    with pytest.raises(click.BadParameter, match="abc"):
        validate(expand(*calls[3]), tmp_path)
