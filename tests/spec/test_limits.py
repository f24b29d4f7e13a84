"""Hostile spec files end quickly in exit 2 with a message: no hang, traceback or memory blow-up.

Each case runs the real command in a child process with a memory cap (1 GiB of address space) and a
time limit, on a copy of the example whose rendered/ must stay untouched.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import snapshot_tree

MEMORY_CAP = 1 << 30
# Each case takes about 0.3 s here, nearly all of it the interpreter starting; the bound leaves
# ten times that for a loaded CI runner. What keeps the cases fast is asserted without a clock in
# test_locating_a_problem_reads_each_file_at_most_once_more.
TIME_LIMIT = 3.0


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_cli(root: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "generator", "-C", str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_cap_memory,
    )
    return result, time.monotonic() - start


def alias_bomb() -> str:
    lines = [
        "namespace: demo",
        "apps:",
        "  serviceradar:",
        "    values:",
        '      l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    ]
    for i in range(1, 10):
        refs = ", ".join([f"*l{i - 1}"] * 9)
        lines.append(f"      l{i}: &l{i} [{refs}]")
    return "\n".join(lines) + "\n"


def deep_flow_lists(depth: int) -> str:
    return (
        "namespace: demo\napps:\n  serviceradar:\n    values:\n      deep: "
        + "[" * depth
        + "]" * depth
        + "\n"
    )


def deep_flow_maps(depth: int) -> str:
    return (
        "namespace: demo\napps:\n  serviceradar:\n    values:\n      deep: "
        + "{a: " * depth
        + "1"
        + "}" * depth
        + "\n"
    )


def deep_block_maps(depth: int) -> str:
    lines = ["namespace: demo", "apps:", "  serviceradar:", "    values:"]
    lines += [" " * (6 + i) + f"k{i}:" for i in range(depth)]
    return "\n".join(lines) + " 1\n"


def huge_string(size: int) -> str:
    return f'namespace: demo\napps:\n  serviceradar:\n    values:\n      big: "{"x" * size}"\n'


VALUES = "apps.serviceradar.values"
DEEP = "nested more than 64 levels deep"
# The problem, exactly where it is: the first collection below the limit, at its key.
CASES = {
    "alias bomb": (
        alias_bomb,
        f"environments/demo.yaml:11:7: {VALUES}.l6: document expands to more than 2000000 nodes "
        "(aliases repeated too often?)",
    ),
    "10,000 nested lists": (
        lambda: deep_flow_lists(10_000),
        f"environments/demo.yaml:5:74: {VALUES}.deep{'[0]' * 61}: {DEEP}",
    ),
    "10,000 nested maps": (
        lambda: deep_flow_maps(10_000),
        f"environments/demo.yaml:5:254: {VALUES}.deep{'.a' * 61}: {DEEP}",
    ),
    "3,000 nested block maps": (
        lambda: deep_block_maps(3_000),
        f"environments/demo.yaml:66:68: {VALUES}.{'.'.join(f'k{i}' for i in range(62))}: {DEEP}",
    ),
    "1 MB string value": (
        lambda: huge_string(1_000_000),
        f"environments/demo.yaml:5:12: {VALUES}.big: string of 1000000 characters is longer "
        "than the limit of 262144",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("command", ["check", "render"])
def test_hostile_spec_file_is_refused_quickly(example_repo: Path, case: str, command: str) -> None:
    make, expected = CASES[case]
    (example_repo / "environments" / "demo.yaml").write_text(make(), encoding="utf-8")
    before = snapshot_tree(example_repo / "rendered")
    result, elapsed = run_cli(example_repo, command)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert result.stderr == f"error: 1 problem in environments/:\n  {expected}\n"
    assert elapsed < TIME_LIMIT, elapsed
    assert snapshot_tree(example_repo / "rendered") == before


@pytest.mark.parametrize("case", list(CASES))
def test_locating_a_problem_reads_each_file_at_most_once_more(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """Loading parses each file once; locating a problem reads parser events, never a document.

    It reads them once per file however many problems it locates, and stops at the problem: a
    second full parse of a 10,000-deep file is what used to take seconds.
    """
    from generator import yamlio
    from generator.errors import SpecError
    from generator.spec import model

    make, expected = CASES[case]
    demo = make()
    (example_repo / "environments" / "demo.yaml").write_text(demo, encoding="utf-8")
    loads: list[int] = []
    passes: list[list[int]] = []
    real_load, real_events = yamlio.load_document, yamlio.iter_events

    def counting_load(text: str) -> yamlio.Document:
        loads.append(len(text))
        return real_load(text)

    def counting_events(text: str, pure: bool = False) -> Iterator[object]:
        read = [0]
        passes.append(read)
        for event in real_events(text, pure):
            read[0] += 1
            yield event

    def no_second_document(text: str) -> None:
        raise AssertionError("a problem was located by building the document again")

    monkeypatch.setattr(yamlio, "load_document", counting_load)
    monkeypatch.setattr(yamlio, "iter_events", counting_events)
    monkeypatch.setattr(yamlio, "load_located", no_second_document)
    with pytest.raises(SpecError) as info:
        model.load_spec(example_repo)
    assert [str(p) for p in info.value.problems] == [expected]
    assert len(loads) == 4  # one parse per spec file
    assert len(passes) == 1, "one pass of events, for demo.yaml"
    all_events = sum(1 for _ in real_events(demo))
    assert passes[0][0] <= all_events
    if "nested" in case:
        assert passes[0][0] < 300, "locating stops at the problem"


def test_50_mb_spec_file_is_refused_without_reading_it(example_repo: Path) -> None:
    path = example_repo / "environments" / "demo.yaml"
    chunk = "# padding padding padding padding padding padding padding padding padding\n" * 1000
    with path.open("w", encoding="utf-8") as handle:
        handle.write("namespace: demo\n")
        while handle.tell() < 50 * 1024 * 1024:
            handle.write(chunk)
    result, elapsed = run_cli(example_repo, "check")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "environments/demo.yaml" in result.stderr and "larger than" in result.stderr
    assert "Traceback" not in result.stderr
    assert elapsed < TIME_LIMIT


def test_a_huge_line_count_is_still_bounded(example_repo: Path) -> None:
    """Many small values just under the file limit parse in bounded time and memory."""
    lines = ["namespace: demo", "apps:", "  serviceradar:", "    values:", "      many:"]
    lines += [f"        k{i}: {i}" for i in range(150_000)]
    (example_repo / "environments" / "demo.yaml").write_text(
        "\n".join(lines) + "\n", encoding="utf-8"
    )
    result, elapsed = run_cli(example_repo, "check")
    # Within the limits this is a valid spec whose output differs from rendered/: exit 1.
    assert result.returncode in (1, 2), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    # About 2.5 s here: the whole file is read and rendered, as it must be.
    assert elapsed < 15, elapsed
