"""Links inside the repository are followed; every path that leaves it is refused (those cases are
in tests/cli/test_bad_input.py, with their exact messages)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from generator.cli import main


def test_symlinked_spec_file_inside_the_repository_is_fine(example_repo: Path) -> None:
    spec = example_repo / "environments" / "demo.yaml"
    (example_repo / "shared-demo.yaml").write_bytes(spec.read_bytes())
    spec.unlink()
    spec.symlink_to(example_repo / "shared-demo.yaml")
    result = CliRunner().invoke(main, ["-C", str(example_repo), "check"])
    assert result.exit_code == 0, result.output
