"""The example renders, checks and reports through the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from tests.conftest import git, snapshot_tree


def test_check_passes_on_committed_example(example_repo: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(example_repo), "check"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.stderr


def test_check_reports_stale_output_with_diff(example_repo: Path) -> None:
    staging = example_repo / "environments" / "staging.yaml"
    staging.write_text(staging.read_text().replace("staging.serviceradar.cloud", "stg.example.com"))
    before = snapshot_tree(example_repo)
    result = CliRunner().invoke(main, ["-C", str(example_repo), "check"])
    assert result.exit_code == 1
    assert "-    host: staging.serviceradar.cloud" in result.stdout
    assert "+    host: stg.example.com" in result.stdout
    assert "--- a/rendered/environments/staging/serviceradar/values.yaml" in result.stdout
    assert "gitops-gen render" in result.stderr
    assert snapshot_tree(example_repo) == before


def test_render_then_check(example_repo: Path) -> None:
    staging = example_repo / "environments" / "staging.yaml"
    staging.write_text(staging.read_text().replace("staging.serviceradar.cloud", "stg.example.com"))
    runner = CliRunner()
    result = runner.invoke(main, ["-C", str(example_repo), "render"])
    assert result.exit_code == 0, result.output
    assert "staging    0 created, 1 updated, 0 removed" in result.stderr
    assert "demo       unchanged" in result.stderr
    assert (
        "host: stg.example.com"
        in (example_repo / "rendered/environments/staging/serviceradar/values.yaml").read_text()
    )
    assert runner.invoke(main, ["-C", str(example_repo), "check"]).exit_code == 0


def test_read_files_at_the_root_and_under_a_prefix(example_repo: Path) -> None:
    from generator.git import plumbing as gitio
    from tests.conftest import git

    git(example_repo, "init", "-q")
    git(example_repo, "add", "-A")
    git(example_repo, "commit", "-qm", "example")
    under = gitio.read_files(example_repo, "HEAD", "environments")
    assert sorted(under) == ["_project.yaml", "demo.yaml", "prod.yaml", "staging.yaml"]
    everything = gitio.read_files(example_repo, "HEAD", "")
    assert "environments/demo.yaml" in everything
    assert everything["environments/demo.yaml"] == under["demo.yaml"]


def test_render_summarises_when_many_environments_change(tmp_path: Path) -> None:
    """Past 20 changed environments, one summary line instead of a line each; JSON lists all."""
    import json
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    import synth

    root = tmp_path / "repo"
    synth.generate(root, 25, 1)
    runner = CliRunner()
    first = runner.invoke(main, ["-C", str(root), "render"])
    assert first.exit_code == 0, first.output
    files = sum(1 for path in (root / "rendered").rglob("*") if path.is_file())
    assert first.stderr.splitlines() == [
        "rendered/: created",
        f"  26 changed ({files} created, 0 updated, 0 removed): bootstrap, env-000, env-001, "
        "env-002, env-003, … (--format json lists them all)",
    ]
    for spec in (root / "environments").glob("env-0[01]*.yaml"):
        spec.write_text(spec.read_text().replace("logLevel: ", "logLevel: x-"))
    second = runner.invoke(main, ["-C", str(root), "render", "--format", "json"])
    changed = sorted({path.split("/")[1] for path in json.loads(second.stdout)["updated"]})
    assert changed == [f"env-{i:03d}" for i in range(20)]
    assert "  env-019  0 created, 1 updated, 0 removed" in second.stderr  # 20: a line each
    assert "  (6 unchanged)" in second.stderr
    quiet = runner.invoke(main, ["-C", str(root), "render"])
    assert quiet.stderr.splitlines() == ["rendered/: up to date", "  (26 unchanged)"]


# --- messages and help: units, plurals, what each choice does -----------------------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("1", "1s"),
        ("0.2", "0.2s"),
        (" 90 ", "90s"),
        ("30m", "30m"),
        ("1h30m", "1h30m"),
        ("500ms", "500ms"),
    ],
)
def test_a_duration_is_said_with_its_unit(text: str, said: str) -> None:
    from generator.cli.wait import with_unit

    assert with_unit(text) == said


def test_wait_says_how_long_it_waited_with_a_unit(dry_repo: Path) -> None:
    head = git(dry_repo, "rev-parse", "HEAD")
    result = CliRunner().invoke(
        main,
        ["-C", str(dry_repo), "wait", "--env", "demo", "--dry-sha", head, "--timeout", "0.2", "--interval", "0.05"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        "demo: timed out after 0.2s; the active branch does not exist yet (publish creates it), "
        f"not {head[:7]}\n"
    )


def _help(*command: str) -> str:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    return " ".join(result.stdout.split())


def test_durations_name_their_units_in_the_help() -> None:
    text = _help("wait")
    units = "Units: h, m, s and ms, combined as in 1h30m; a bare number is seconds."
    assert f"--timeout DURATION Give up after this long (exit 1). {units} [default: 30m]" in text
    assert f"--interval DURATION Time between polls. {units} [default: 15s]" in text
    assert "TEXT" not in text


def test_the_phase_help_says_what_each_phase_does_to_the_gate() -> None:
    assert (
        "--phase [pending|success|failure] What the gate does with the commit: pending holds the "
        "promotion, success opens the gate, failure blocks it. [required]"
    ) in _help("commit-status")


def test_the_duration_error_names_the_units(dry_repo: Path) -> None:
    result = CliRunner().invoke(
        main, ["-C", str(dry_repo), "wait", "--env", "demo", "--dry-sha", "a" * 40, "--timeout", "5 minutes"]
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --timeout '5 minutes': expected a duration in h, m, s or ms, such as 30m or 1h30m\n"
    )


def test_publish_counts_in_good_grammar(dry_repo: Path, remote: Path) -> None:
    from generator.publish.branches import publish

    said: list[str] = []
    publish(dry_repo, push=True, progress=said.append)
    assert "building 3 commits" in said and "pushing 7 refs to origin" in said
    demo = dry_repo / "environments/demo.yaml"
    demo.write_text(demo.read_text().replace("demo.serviceradar.cloud", "demo.example.org"))
    assert CliRunner().invoke(main, ["-C", str(dry_repo), "render"]).exit_code == 0
    git(dry_repo, "commit", "-qam", "Move demo")
    said.clear()
    publish(dry_repo, push=True, progress=said.append)
    assert "building 1 commit" in said and "pushing 4 refs to origin" in said
    head = git(dry_repo, "rev-parse", "--short=7", "HEAD")
    notes = git(remote, "log", "-1", "--format=%s", "refs/notes/hydrator.metadata")
    assert notes == f"Note dry commit {head} on 3 environments"
    git(dry_repo, "commit", "-q", "--allow-empty", "-m", "Nothing to render")
    publish(dry_repo, push=True, only=["demo"])
    head = git(dry_repo, "rev-parse", "--short=7", "HEAD")
    notes = git(remote, "log", "-1", "--format=%s", "refs/notes/hydrator.metadata")
    assert notes == f"Note dry commit {head} on 1 environment"


@pytest.mark.parametrize(("files", "said"), [(1, "1 file differs"), (2, "2 files differ")])
def test_a_stale_rendered_tree_is_counted_in_good_grammar(
    dry_repo: Path, files: int, said: str
) -> None:
    for env in ("demo", "prod")[:files]:
        values = dry_repo / f"rendered/environments/{env}/serviceradar/values.yaml"
        values.write_text(values.read_text() + "# edited\n")
    git(dry_repo, "commit", "-qam", "Edit rendered/ by hand")
    result = CliRunner().invoke(main, ["-C", str(dry_repo), "publish"])
    assert result.exit_code == 2
    head = git(dry_repo, "rev-parse", "--short=7", "HEAD")
    assert result.stderr == (
        f"error: rendered/ is stale for HEAD ({head}): {said} (first: "
        "rendered/environments/demo/serviceradar/values.yaml); run `gitops-gen render`, commit "
        "the result, then publish\n"
    )
