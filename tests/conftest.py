"""Shared fixtures: git isolated from the user's config, and small repository trees built inline."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from generator import forked

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_SPEC = REPO / "environments"
# The shared reference folder beside the checkout. Searched upwards, so that it is found from a
# copy of the repository one level down too (mutmut runs the tests inside ``mutants/``).
SHARED = next(
    (p / "shared" for p in REPO.parents if (p / "shared" / "reference").is_dir()),
    REPO.parent / "shared",
)
CRDS = SHARED / "reference" / "crds"

# Real Helm 3/4, a loopback OCI registry and an HTTP chart repository (tests marked ``clients``).
pytest_plugins = ["tests.realclients"]


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A temporary HOME and global config, a fixed identity and default branch, no signing."""
    home = tmp_path_factory.mktemp("home")
    config = home / ".gitconfig"
    config.write_text(
        "[user]\n\tname = Test Author\n\temail = author@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
        "[commit]\n\tgpgsign = false\n[tag]\n\tgpgsign = false\n"
        '[protocol "file"]\n\tallow = always\n'
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in (
        "GIT_DIR",
        "GIT_INDEX_FILE",
        "GIT_WORK_TREE",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_DATE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Committer")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "committer@example.com")


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def build_tree(tmp_path: Path) -> Callable[[Mapping[str, str]], Path]:
    """``build_tree({path: text})`` writes a small repository under tmp_path/repo."""

    def build(files: Mapping[str, str]) -> Path:
        return write_tree(tmp_path / "repo", files)

    return build


@pytest.fixture
def example_repo(tmp_path: Path) -> Iterator[Path]:
    """A copy of the bundled example (environments/ and rendered/) outside this checkout."""
    root = tmp_path / "example"
    root.mkdir()
    shutil.copytree(EXAMPLE_SPEC, root / "environments")
    shutil.copytree(REPO / "rendered", root / "rendered")
    yield root


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` for a test and return its stripped stdout."""
    result = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def snapshot_tree(root: Path) -> dict[str, bytes]:
    """Every file under root (for 'nothing changed' assertions)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --- a dry repository (the example, committed) and its bare remote, for the git-side tests ---


def init_dry_repo(root: Path) -> Path:
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "Add the ServiceRadar environments", "-m", "First body line.")
    return root


@pytest.fixture
def dry_repo(example_repo: Path) -> Path:
    return init_dry_repo(example_repo)


@pytest.fixture
def remote(dry_repo: Path, tmp_path: Path) -> Path:
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(bare, "config", "core.logAllRefUpdates", "always")
    git(dry_repo, "remote", "add", "origin", str(bare))
    git(dry_repo, "push", "-q", "origin", "main")
    return bare


def edit_spec(root: Path, name: str, old: str, new: str) -> None:
    """Replace the first ``old`` in ``environments/<name>`` by ``new`` (``old`` must be there)."""
    path = root / "environments" / name
    text = path.read_text()
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1))


def spec_problems(root: Path) -> list[str]:
    """The problems loading the spec reports, each as printed (it must fail)."""
    from generator.errors import SpecError
    from generator.spec.model import load_spec

    with pytest.raises(SpecError) as info:
        load_spec(root)
    return [str(p) for p in info.value.problems]


class ForkedChildren:
    """``forked.Child`` wrapped to record each child's result (or "cancelled"), in order."""

    def __init__(self) -> None:
        self.results: list[Any] = []
        self.real = forked.Child

    def __call__(self, work: Any) -> Any:
        results, child = self.results, self.real(work)

        class Recorded:
            def result(self) -> Any:
                results.append(child.result())
                return results[-1]

            def cancel(self) -> None:
                results.append("cancelled")
                child.cancel()

        return Recorded()


@pytest.fixture
def forked_children(monkeypatch: pytest.MonkeyPatch) -> ForkedChildren:
    """Every child forked during the test (render, parse, write, read ahead), recorded."""
    recorder = ForkedChildren()
    monkeypatch.setattr(forked, "Child", recorder)
    return recorder
