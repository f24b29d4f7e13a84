"""Fuzzed input: mutated and truncated copies of the example's spec files never cause a traceback.

Each case either renders, or fails with a GitopsGenError of exit code 2 whose every problem names
a spec file (with line and column for YAML syntax errors).  The core runs in-process for speed;
a sample goes through the real CLI to check the exit code and that no traceback is printed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.errors import GitopsGenError, SpecError
from generator.render import plan as render
from generator.spec import model as spec

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = {
    f"environments/{p.name}": p.read_text("utf-8")
    for p in sorted((REPO / "environments").glob("*.yaml"))
}
TOKENS = [
    ":",
    ": ",
    "-",
    "- ",
    "  ",
    "\t",
    "\n",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&a ",
    "*a",
    "!!str ",
    "!x ",
    "? ",
    "|",
    ">",
    "#",
    "%YAML 1.1\n",
    "---\n",
    "...\n",
    "'",
    '"',
    "\\",
    "null",
    "~",
    "yes",
    "1e999",
    "0x",
    "<<: *a\n",
    "\x00",
    "\ufeff",
    "é",
    "🚀",
    "{{ x }}",
    "../",
    "a" * 300,
    "9" * 40,
]
VALUES = [
    "",
    "null",
    "[]",
    "{}",
    "-1",
    "1.5",
    "true",
    "x y",
    "UPPER",
    "../etc",
    "a" * 70,
    "[1, 2]",
    "{a: 1}",
    '"quoted"',
    "'1.0.0'",
    "1.0.0",
    "oci://x",
    "&anc v",
    "*nope",
    "!!binary AAAA",
]


def mutate(text: str, rng: random.Random) -> str:
    """One random edit of a YAML text."""
    lines = text.split("\n")
    roll = rng.randrange(10)
    if roll == 0:  # truncate anywhere
        return text[: rng.randrange(len(text) + 1)]
    if roll == 1:  # delete a span
        a = rng.randrange(len(text) + 1)
        return text[:a] + text[a + rng.randrange(1, 40) :]
    if roll == 2:  # insert a YAML-significant token
        a = rng.randrange(len(text) + 1)
        return text[:a] + rng.choice(TOKENS) + text[a:]
    if roll == 3:  # duplicate a line (duplicate keys)
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
    elif roll == 4:  # drop a line
        del lines[rng.randrange(len(lines))]
    elif roll == 5:  # re-indent a line
        i = rng.randrange(len(lines))
        lines[i] = " " * rng.choice([0, 1, 2, 3, 4, 6, 8]) + lines[i].lstrip(" ")
    elif roll == 6:  # replace a value
        i = rng.randrange(len(lines))
        key, sep, _ = lines[i].partition(": ")
        lines[i] = f"{key}: {rng.choice(VALUES)}" if sep else f"{lines[i]} {rng.choice(VALUES)}"
    elif roll == 7:  # swap two lines
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif roll == 8:  # replace a character
        a = rng.randrange(max(len(text), 1))
        return (
            text[:a]
            + chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x80, 0x3000)]))
            + text[a + 1 :]
        )
    else:  # rename a key
        i = rng.randrange(len(lines))
        lines[i] = re.sub(
            r"^(\s*)([\w-]+):",
            lambda m: (
                m.group(1) + rng.choice(["x", "name", "apps", "values", "namespace", "order"]) + ":"
            ),
            lines[i],
        )
    return "\n".join(lines)


def cases(seed: int, count: int) -> Iterator[dict[str, str]]:
    rng = random.Random(seed)
    names = list(EXAMPLE)
    for _ in range(count):
        files = dict(EXAMPLE)
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            name = rng.choice(names)
            files[name] = mutate(files[name], rng)
        if rng.random() < 0.03:
            del files[rng.choice(names)]
        yield files


def run_core(files: dict[str, str]) -> str:
    """'ok', or the kind of expected failure; any other exception fails the test."""
    try:
        render.render(spec.parse_spec(files))
    except SpecError as e:
        assert e.exit_code == 2
        assert e.problems
        for problem in e.problems:
            assert problem.file in files or problem.file.startswith(
                ("environments", "templates/")
            ), problem
            assert problem.message.strip(), problem
            if (
                problem.message.startswith("invalid YAML")
                and "found another document" not in problem.message
            ):
                assert problem.line > 0, problem
        return "spec"
    except GitopsGenError as e:
        assert e.exit_code == 2, e
        assert str(e).strip()
        return type(e).__name__
    return "ok"


def _fuzz(seed: int, count: int) -> dict[str, int]:
    seen: dict[str, int] = {}
    for files in cases(seed, count):
        outcome = run_core(files)
        seen[outcome] = seen.get(outcome, 0) + 1
    return seen


def test_mutated_spec_files_fail_cleanly_or_render() -> None:
    seen = _fuzz(seed=1, count=3000)
    # The corpus is meaningful: most mutations are caught, and some still render.
    assert seen.get("spec", 0) > 1000, seen
    assert seen.get("ok", 0) > 50, seen


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2, 5))
def test_mutated_spec_files_many(seed: int) -> None:
    _fuzz(seed=seed, count=4000)


def test_truncated_at_every_position() -> None:
    for name, text in EXAMPLE.items():
        for cut in range(0, len(text), 7):
            run_core({**EXAMPLE, name: text[:cut]})


def test_cli_exit_codes_and_no_traceback(tmp_path: Path) -> None:
    """Through the real command line, bytes on disk included (invalid UTF-8, NUL, BOM)."""
    rng = random.Random(99)
    runner = CliRunner()
    codes: dict[int, int] = {}
    byte_edits = [b"\xff", b"\xc3", b"\x00", b"\xef\xbb\xbf", b"\r", b"\r\n"]
    for i, files in enumerate(cases(seed=7, count=120)):
        root = tmp_path / f"r{i}"
        (root / "environments").mkdir(parents=True)
        for name, text in files.items():
            data = text.encode("utf-8", "surrogatepass")
            if rng.random() < 0.2:
                at = rng.randrange(len(data) + 1)
                data = data[:at] + rng.choice(byte_edits) + data[at:]
            (root / name).write_bytes(data)
        result = runner.invoke(main, ["-C", str(root), "render"])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert result.exit_code in (0, 2), result.output
        assert "Traceback" not in result.output
        if result.exit_code == 2:
            assert result.output.startswith("error: "), result.output
            assert not (root / "rendered").exists()
        else:
            assert (root / "rendered" / "bootstrap" / "kustomization.yaml").is_file()
        codes[result.exit_code] = codes.get(result.exit_code, 0) + 1
    assert codes.get(2, 0) > 40 and codes.get(0, 0) > 0, codes
