"""render/repository.py: render, check and plan run with the cycle collector paused.

No collection runs during them or at the first allocation after them; the collector is left as it
was found (enabled, disabled, or with a caller's frozen objects still frozen), errors included.
The repository is a synthetic one of 50 environments: enough objects that an unpaused collector
runs during each command, and that re-enabling it as is would start a collection right after.
"""

from __future__ import annotations

import gc
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.errors import SpecError
from generator.render import repository

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import synth


@pytest.fixture(scope="module")
def rendered_synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "repo"
    synth.generate(root, 50, 2)
    repository.render_repository(root)
    return root


@pytest.fixture
def synthetic(rendered_synthetic: Path, tmp_path: Path) -> Path:
    """A fresh copy of the rendered synthetic repository."""
    root = tmp_path / "repo"
    shutil.copytree(rendered_synthetic, root)
    return root


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generation of every collection that runs while the test holds this list."""
    seen: list[int] = []

    def record(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.enable()
    gc.collect()  # every test starts from the same count of young objects
    gc.callbacks.append(record)
    try:
        yield seen
    finally:
        gc.callbacks.remove(record)
        gc.enable()


class _Young:
    pass


COMMANDS: dict[str, Callable[[Path], object]] = {
    "render (first)": repository.render_repository,  # rendered/ removed first
    "render (no change)": repository.render_repository,
    "check": repository.check_repository,
    "plan": repository.plan_repository,
}


@pytest.mark.parametrize("command", COMMANDS)
def test_no_collection_runs_during_or_right_after(
    synthetic: Path, collections: list[int], command: str
) -> None:
    if command == "render (first)":
        shutil.rmtree(synthetic / "rendered")
    gc.collect()  # whatever the set-up left pending
    collections.clear()
    result = COMMANDS[command](synthetic)
    # Fresh tracked objects (instances come from no free list): a collection that the render left
    # pending (its objects all counted as young) would run here.
    after = [_Young() for _ in range(200)]
    assert collections == []
    assert result and after and gc.isenabled()
    assert gc.get_freeze_count() == 0  # nothing made by the render is left frozen


def test_the_collector_runs_when_not_paused(collections: list[int]) -> None:
    """The fixture sees collections at all (so the test above could fail)."""
    made = [[i] for i in range(5000)]
    assert made and collections


def test_a_paused_collector_stays_paused(example_repo: Path) -> None:
    gc.disable()
    try:
        repository.check_repository(example_repo)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_callers_frozen_objects_stay_frozen(example_repo: Path) -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        repository.check_repository(example_repo)
        assert gc.isenabled()
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_an_error_leaves_the_collector_enabled(example_repo: Path) -> None:
    (example_repo / "environments" / "demo.yaml").write_text("apps: [\n")
    with pytest.raises(SpecError):
        repository.render_repository(example_repo)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
