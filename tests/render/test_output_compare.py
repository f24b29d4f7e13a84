"""What render and check tell about rendered/: the per-environment report and check's exact diff."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from generator.cli import main
from generator.render.output import compare, unified_diff


def test_render_reports_what_changed_per_environment(example_repo: Path) -> None:
    rendered = example_repo / "rendered"
    staging = example_repo / "environments/staging.yaml"
    staging.write_text(staging.read_text().replace("namespace: demo-staging", "namespace: s2"))
    (rendered / "extra").mkdir()
    (rendered / "extra/a.txt").write_text("a\n")
    (rendered / "extra/b.txt").write_text("b\n")
    (rendered / "environments/notes.txt").write_text("n\n")
    (rendered / "environments/demo/old.yaml").write_text("o: 1\n")
    (rendered / "environments/prod/README.md").unlink()
    result = CliRunner().invoke(main, ["-C", str(example_repo), "render"])
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "rendered/: updated\n"
        "  bootstrap     0 created, 1 updated, 0 removed\n"
        "  staging       0 created, 2 updated, 0 removed\n"
        "  demo          0 created, 0 updated, 1 removed\n"
        "  prod          1 created, 0 updated, 0 removed\n"
        "  environments  0 created, 0 updated, 1 removed\n"
        "  extra         0 created, 0 updated, 2 removed\n"
    )
    assert not (rendered / "extra").exists()
    assert not (rendered / "environments/notes.txt").exists()
    assert (rendered / "environments/prod/README.md").is_file()


def test_check_lists_created_and_removed_files_against_dev_null(example_repo: Path) -> None:
    rendered = example_repo / "rendered"
    (rendered / "environments/demo/old.yaml").write_text("o: 1\n")
    readme = rendered / "environments/prod/README.md"
    text = readme.read_text()
    readme.unlink()
    result = CliRunner().invoke(main, ["-C", str(example_repo), "check"])
    assert result.exit_code == 1
    lines = text.splitlines(keepends=True)
    assert result.stdout == (
        "--- a/rendered/environments/demo/old.yaml\n"
        "+++ /dev/null\n"
        "@@ -1 +0,0 @@\n"
        "-o: 1\n"
        "--- /dev/null\n"
        "+++ b/rendered/environments/prod/README.md\n"
        f"@@ -0,0 +1,{len(lines)} @@\n" + "".join("+" + line for line in lines)
    )
    assert result.stderr == (
        "rendered/ is stale: 2 files differ. Run `gitops-gen render` and commit the result.\n"
    )


NINE = "".join(f"line {i}\n" for i in range(1, 10))


def test_the_diff_has_three_lines_of_context() -> None:
    plan = {"a.yaml": NINE.replace("line 5\n", "line five\n")}
    current = {"a.yaml": NINE.encode()}
    assert unified_diff(plan, current, compare(plan, current)) == (
        "--- a/rendered/a.yaml\n"
        "+++ b/rendered/a.yaml\n"
        "@@ -2,7 +2,7 @@\n"
        " line 2\n line 3\n line 4\n-line 5\n+line five\n line 6\n line 7\n line 8\n"
    )


def test_a_missing_final_newline_is_marked_on_its_side_only() -> None:
    plan = {"a": "x\ny\n", "b": "x\ny"}
    current = {"a": b"x\ny", "b": b"x\ny\n"}
    assert unified_diff(plan, current, compare(plan, current)) == (
        "--- a/rendered/a\n+++ b/rendered/a\n@@ -1,2 +1,2 @@\n x\n"
        "-y\n\\ No newline at end of file\n+y\n"
        "--- a/rendered/b\n+++ b/rendered/b\n@@ -1,2 +1,2 @@\n x\n"
        "-y\n+y\n\\ No newline at end of file\n"
    )


def test_a_file_that_is_not_utf8_is_shown_not_a_crash(example_repo: Path) -> None:
    target = example_repo / "rendered/environments/demo/README.md"
    original = target.read_bytes()
    target.write_bytes(b"\xff\xfe broken\n" + original)
    result = CliRunner().invoke(main, ["-C", str(example_repo), "check"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout.startswith(
        "--- a/rendered/environments/demo/README.md\n"
        "+++ b/rendered/environments/demo/README.md\n"
        "@@ -1,4 +1,3 @@\n"
        "-\ufffd\ufffd broken\n"
    )


def test_compare_sorts_removed_files_and_keeps_equal_ones_out() -> None:
    plan = {"same": "s\n", "new": "n\n", "changed": "c2\n"}
    current = {"z-gone": b"", "same": b"s\n", "changed": b"c\n", "a-gone": b"x"}
    changes = compare(plan, current)
    assert (changes.created, changes.updated, changes.removed) == (
        ["new"],
        ["changed"],
        ["a-gone", "z-gone"],
    )
    assert changes and not compare({"same": "s\n"}, {"same": b"s\n"})


def test_an_unchanged_render_reports_nothing_to_do(example_repo: Path) -> None:
    before = {p: p.stat().st_ino for p in (example_repo / "rendered").rglob("*") if p.is_file()}
    result = CliRunner().invoke(main, ["-C", str(example_repo), "render"])
    assert result.exit_code == 0
    assert result.stderr == (
        "rendered/: up to date\n  bootstrap  unchanged\n  staging    unchanged\n"
        "  demo       unchanged\n  prod       unchanged\n"
    )
    after = {p: p.stat().st_ino for p in (example_repo / "rendered").rglob("*") if p.is_file()}
    assert before == after  # not even rewritten
    shutil.rmtree(example_repo / "rendered")
    result = CliRunner().invoke(main, ["-C", str(example_repo), "check"])
    assert result.exit_code == 1
    assert "rendered/ is stale" in result.stderr


def test_read_tree_reads_every_file_whole(tmp_path: Path) -> None:
    """Empty files, files of exactly one read, and files of many reads come back byte for byte."""
    from generator.render import output

    sizes = {"empty": 0, "one": 10, "chunk": output._CHUNK, "more": output._CHUNK * 3 + 7}
    expected = {}
    for name, size in sizes.items():
        data = bytes(i % 251 for i in range(size))
        path = tmp_path / "tree" / "sub" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        expected[f"sub/{name}"] = data
    assert output.read_tree(tmp_path / "tree") == expected
    assert output.read_tree(tmp_path / "missing") == {}
