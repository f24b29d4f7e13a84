"""The example renders, checks and reports through the command line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from generator.cli import main
from tests.conftest import snapshot_tree


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

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
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
