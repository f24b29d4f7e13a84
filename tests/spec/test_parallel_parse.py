"""The spec files parsed by two processes (spec/files.py: parse_files).

From PARALLEL_PARSE_FROM files a forked child parses the second half. Whatever happens to it, the
spec (or every problem, in order) is the one a sequential parse gives.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from generator import forked
from generator.errors import SpecError
from generator.spec import files as spec_files
from generator.spec.model import parse_spec
from tests.conftest import ForkedChildren
from tests.spec.test_properties import _synthetic_files

pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="needs fork and two CPUs")


def _fail_in_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """parse_file raises in any process but this one: a child fails."""
    parent, real = os.getpid(), spec_files.parse_file

    def failing_in_child(*args: Any) -> None:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        real(*args)

    monkeypatch.setattr(spec_files, "parse_file", failing_in_child)


def _parse(files: dict[str, str], monkeypatch: pytest.MonkeyPatch, fork: bool) -> Any:
    """The spec, or the problems as the user sees them."""
    with monkeypatch.context() as m:
        m.setenv("GITOPS_GEN_NO_FORK", "" if fork else "1")
        try:
            return parse_spec(files)
        except SpecError as e:
            return [str(p) for p in e.problems]


def _broken(files: dict[str, str]) -> dict[str, str]:
    """Problems in both halves: a bad value, an unknown key, invalid YAML, an unsafe integer, and
    an app that fails the schema (which the cross-file checks must then leave alone)."""
    import re

    names = sorted(files)
    assert len(names) >= spec_files.PARALLEL_PARSE_FROM
    bad = dict(files)
    bad[names[5]] += "namespace: 7\n"
    bad[names[20]] += "nmespace: x\n"
    bad[names[-10]] += "autoMerge: [\n"
    bad[names[-5]] = re.sub(r"replicaCount: \d+", "replicaCount: 9007199254740993", bad[names[-5]])
    bad[names[-3]], count = re.subn(
        r"    image:\n      tag: .*\n", "    image: 5\n", bad[names[-3]], count=1
    )
    assert count == 1 and bad[names[-5]] != files[names[-5]]
    return bad


def test_two_processes_build_the_spec_one_does(
    monkeypatch: pytest.MonkeyPatch, forked_children: ForkedChildren
) -> None:
    files = _synthetic_files(60, 2)
    parallel = _parse(files, monkeypatch, fork=True)
    assert len(forked_children.results) == 1 and isinstance(forked_children.results[0], list)
    assert len(forked_children.results[0]) == len(files) - len(files) // 2
    assert parallel == _parse(files, monkeypatch, fork=False)
    assert len(parallel.environments) == 60


def test_problems_in_both_halves_are_the_sequential_ones_in_order(
    monkeypatch: pytest.MonkeyPatch, forked_children: ForkedChildren
) -> None:
    files = _broken(_synthetic_files(60, 2))
    parallel = _parse(files, monkeypatch, fork=True)
    assert isinstance(forked_children.results[0], list), (
        "the child did not parse: nothing was compared"
    )
    sequential = _parse(files, monkeypatch, fork=False)
    assert parallel == sequential
    assert len(parallel) >= 4
    # Located in files of both halves.
    names = sorted(files)
    assert any(names[5] in p for p in parallel) and any(names[-3] in p for p in parallel)


@pytest.mark.parametrize("broken", [False, True])
def test_a_child_that_fails_leaves_its_half_to_this_process(
    monkeypatch: pytest.MonkeyPatch, forked_children: ForkedChildren, broken: bool
) -> None:
    files = _synthetic_files(60, 2)
    if broken:
        files = _broken(files)
    expected = _parse(files, monkeypatch, fork=False)
    _fail_in_child(monkeypatch)
    assert _parse(files, monkeypatch, fork=True) == expected
    assert forked_children.results == [None]


def test_an_interrupt_here_stops_the_child(
    monkeypatch: pytest.MonkeyPatch, forked_children: ForkedChildren
) -> None:
    files = _synthetic_files(60, 2)
    parent, real, calls = os.getpid(), spec_files.parse_file, []

    def interrupted_here(*args: Any) -> None:
        if os.getpid() == parent:
            calls.append(1)
            if len(calls) == 3:
                raise KeyboardInterrupt
        real(*args)

    monkeypatch.setattr(spec_files, "parse_file", interrupted_here)
    with pytest.raises(KeyboardInterrupt):
        _parse(files, monkeypatch, fork=True)
    assert forked_children.results == ["cancelled"]


def test_below_the_threshold_no_child_is_started(
    monkeypatch: pytest.MonkeyPatch, forked_children: ForkedChildren
) -> None:
    files = _synthetic_files(
        spec_files.PARALLEL_PARSE_FROM - 2, 1
    )  # with the project file: one short
    assert len(files) == spec_files.PARALLEL_PARSE_FROM - 1
    _parse(files, monkeypatch, fork=True)
    assert forked_children.results == []


def test_from_exactly_the_threshold_a_child_is_started(
    monkeypatch: pytest.MonkeyPatch, forked_children: ForkedChildren
) -> None:
    files = _synthetic_files(spec_files.PARALLEL_PARSE_FROM - 1, 1)  # with the project file
    assert len(files) == spec_files.PARALLEL_PARSE_FROM
    parallel = _parse(files, monkeypatch, fork=True)
    assert len(forked_children.results) == 1 and isinstance(forked_children.results[0], list)
    assert len(forked_children.results[0]) == len(files) // 2
    assert parallel == _parse(files, monkeypatch, fork=False)


@pytest.mark.parametrize("child_fails", [False, True])
def test_the_second_half_knows_which_file_is_the_project_file(
    monkeypatch: pytest.MonkeyPatch, forked_children: ForkedChildren, child_fails: bool
) -> None:
    """parse_files takes the sources in any order: with the project file in the second half, the
    child (or this process, when the child fails) checks it as the project file (against the
    environment file's schema, its project, apps and promotion keys would each be unknown)."""
    files = _synthetic_files(60, 2)
    project = "environments/_project.yaml"
    names = [name for name in sorted(files) if name != project] + [project]

    def parse(fork: bool) -> tuple[list[Any], list[str]]:
        monkeypatch.setenv("GITOPS_GEN_NO_FORK", "" if fork else "1")
        sources = [spec_files.SpecFile(name, files[name]) for name in names]
        problems: list[Any] = []
        spec_files.parse_files(sources, project, problems)
        return [(s.data, s.broken) for s in sources], [str(p) for p in problems]

    sequential = parse(fork=False)
    if child_fails:
        _fail_in_child(monkeypatch)
    parallel = parse(fork=True)
    assert len(forked_children.results) == 1
    assert (
        (forked_children.results[0] is None)
        if child_fails
        else isinstance(forked_children.results[0], list)
    )
    assert parallel == sequential
    assert parallel[1] == []
    assert parallel[0][-1][0]["promotion"]
