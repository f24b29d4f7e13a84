"""Paths that try to leave the repository are refused (exit 2); nothing outside is read."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from tests.conftest import snapshot_tree

SECRET = "top-secret-outside-the-repository"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the repository holding a file nobody may read through it."""
    directory = tmp_path / "outside"
    (directory / "sub").mkdir(parents=True)
    (directory / "demo.yaml").write_text(f"namespace: demo\n# {SECRET}\n")
    (directory / "README.md.j2").write_text(f"{SECRET}\n")
    (directory / "sub" / "README.md.j2").write_text(f"{SECRET}\n")
    (directory / "secret.txt").write_text(f"{SECRET}\n")
    return directory


def run(root: Path, command: str = "render") -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), command])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def assert_refused(root: Path, *needles: str) -> None:
    before = snapshot_tree(root / "rendered")
    for command in ("render", "check"):
        code, output = run(root, command)
        assert code == 2, output
        assert output.startswith("error: "), output
        assert "Traceback" not in output and SECRET not in output
        for needle in needles:
            assert needle in output, output
    assert snapshot_tree(root / "rendered") == before
    assert not any(SECRET.encode() in data for data in before.values())


def test_symlinked_spec_file_pointing_outside(example_repo: Path, outside: Path) -> None:
    link = example_repo / "environments" / "demo.yaml"
    link.unlink()
    link.symlink_to(outside / "demo.yaml")
    assert_refused(example_repo, "environments/demo.yaml", "outside the repository")


def test_symlinked_environments_directory_pointing_outside(
    example_repo: Path, outside: Path
) -> None:
    for path in (example_repo / "environments").iterdir():
        (outside / path.name).write_bytes(path.read_bytes())
    os.rename(example_repo / "environments", example_repo / "environments.real")
    (example_repo / "environments").symlink_to(outside, target_is_directory=True)
    assert_refused(example_repo, "outside the repository")


def test_symlinked_spec_file_inside_the_repository_is_fine(example_repo: Path) -> None:
    spec = example_repo / "environments" / "demo.yaml"
    (example_repo / "shared-demo.yaml").write_bytes(spec.read_bytes())
    spec.unlink()
    spec.symlink_to(example_repo / "shared-demo.yaml")
    assert run(example_repo, "check")[0] == 0


@pytest.mark.parametrize("kind", ["file", "directory", "templates directory"])
def test_symlink_in_templates_pointing_outside(
    example_repo: Path, outside: Path, kind: str
) -> None:
    templates = example_repo / "templates"
    if kind == "templates directory":
        templates.symlink_to(outside, target_is_directory=True)
    else:
        (templates / "environment").mkdir(parents=True)
        if kind == "file":
            (templates / "environment" / "README.md.j2").symlink_to(outside / "README.md.j2")
        else:
            (templates / "environment" / "extra").symlink_to(
                outside / "sub", target_is_directory=True
            )
    assert_refused(example_repo, "outside the repository")


@pytest.mark.parametrize(
    "include",
    [
        "../../outside/secret.txt",
        "../outside/secret.txt",
        "/etc/passwd",
        "environment/../../../outside/secret.txt",
        "..\\\\outside\\\\secret.txt",
    ],
)
def test_template_names_cannot_escape_templates(
    example_repo: Path, outside: Path, include: str
) -> None:
    readme = example_repo / "templates" / "environment" / "README.md.j2"
    readme.parent.mkdir(parents=True)
    readme.write_text('{% include "' + include + '" %}\n')
    assert_refused(example_repo, "templates/environment/README.md.j2")


@pytest.mark.parametrize("name", ["../evil", "..", "a/../../b", "/etc", "UPPER", "a..b"])
def test_environment_names_with_paths_are_refused(example_repo: Path, name: str) -> None:
    project = example_repo / "environments" / "_project.yaml"
    text = project.read_text()
    new = re.sub(
        r"order: \[([^\]]*)\]", lambda m: f'order: [{m.group(1)}, "{name}"]', text, count=1
    )
    assert new != text
    project.write_text(new)
    assert_refused(example_repo, "environments/_project.yaml")


@pytest.mark.parametrize("stem", ["..", ".hidden", "has space", "UPPER"])
def test_environment_file_names_that_are_not_labels_are_refused(
    example_repo: Path, stem: str
) -> None:
    (example_repo / "environments" / f"{stem}.yaml").write_text("namespace: demo\n")
    assert_refused(example_repo, f"environments/{stem}.yaml")


@pytest.mark.parametrize("name", ["../evil", "a/b", "..", "evil/../../x"])
def test_app_names_with_paths_are_refused(example_repo: Path, name: str) -> None:
    project = example_repo / "environments" / "_project.yaml"
    text = project.read_text()
    new = text.replace(
        "\napps:\n",
        f'\napps:\n  "{name}":\n    chart: {{repository: "oci://r/c", name: x, version: 1.0.0}}\n',
        1,
    )
    assert new != text
    project.write_text(new)
    assert_refused(example_repo, "environments/_project.yaml")


@pytest.mark.parametrize("command", ["render", "check"])
def test_rendered_as_a_link_to_outside_is_refused(tmp_path: Path, command: str) -> None:
    from tests.conftest import EXAMPLE_SPEC

    root = tmp_path / "repo"
    root.mkdir()
    shutil.copytree(EXAMPLE_SPEC, root / "environments")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep me\n")
    (root / "rendered").symlink_to(outside)
    result = CliRunner().invoke(main, ["-C", str(root), command])
    assert result.exit_code == 2, result.output
    assert "rendered is not a plain directory" in result.stderr
    assert snapshot_tree(outside) == {"keep.txt": b"keep me\n"}
    assert (root / "rendered").is_symlink()
