"""The progress line: drawn on a terminal for long work, silent otherwise."""

from __future__ import annotations

import io

import pytest

from generator.render import progress as progress_module
from generator.render.progress import phases, progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_draws_and_erases_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "_INTERVAL", 0.0)
    stream = Terminal()
    with progress("rendering", 8, stream=stream) as tick:
        for name in ("a", "b", "c", "d", "e", "f", "g", "h"):
            tick(item=name)
    text = stream.getvalue()
    assert "\rrendering 1/8 a" in text
    assert "\rrendering 8/8 h" in text
    assert text.endswith("\r")
    assert "\n" not in text


def test_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with progress("publishing", 100, stream=stream) as tick:
        for _ in range(100):
            tick()
    assert stream.getvalue() == ""


def test_silent_below_the_threshold_even_on_a_terminal() -> None:
    stream = Terminal()
    with progress("rendering", 3, stream=stream) as tick:
        tick(3)
    assert stream.getvalue() == ""


def test_final_count_is_drawn_even_when_throttled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "_INTERVAL", 3600.0)
    stream = Terminal()
    with progress("rendering", 10, stream=stream) as tick:
        for _ in range(10):
            tick()
    assert "rendering 1/10" in stream.getvalue()  # the first draw is immediate
    assert "rendering 5/10" not in stream.getvalue()
    assert "rendering 10/10" in stream.getvalue()


def test_a_shorter_line_overwrites_a_longer_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "_INTERVAL", 0.0)
    stream = Terminal()
    with progress("publishing", 6, stream=stream) as tick:
        tick(item="a-long-environment-name")
        tick(item="b")
    second = stream.getvalue().split("\r")[2]
    assert second.startswith("publishing 2/6 b")
    assert len(second) == len("publishing 1/6 a-long-environment-name")


def test_phases_replace_each_other_and_are_erased() -> None:
    stream = Terminal()
    with phases(20, stream=stream) as say:
        say("fetching origin")
        say("pushing 20 ref(s)")
    text = stream.getvalue()
    assert "\rfetching origin..." in text
    assert "\rpushing 20 ref(s)..." in text
    assert text.endswith("\r") and "\n" not in text


def test_phases_are_silent_off_a_terminal_and_for_few_items() -> None:
    plain = io.StringIO()
    with phases(20, stream=plain) as say:
        say("fetching origin")
    few = Terminal()
    with phases(2, stream=few) as say:
        say("fetching origin")
    assert plain.getvalue() == "" and few.getvalue() == ""


def test_rendering_many_environments_shows_progress_on_a_terminal(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.render.repository import plan_repository
    from tests.conftest import write_tree

    names = [f"env{i}" for i in range(8)]
    files = {
        "environments/_project.yaml": (
            "project:\n  name: p\n  repoURL: https://github.com/o/r.git\n"
            "  scm: {provider: github, secretRef: s, appID: 1}\n"
            "apps:\n  web:\n    chart:\n      repository: oci://r.example/c\n      name: web\n"
            "      version: 1.0.0\n"
            f"promotion:\n  order: [{', '.join(names)}]\n"
        ),
        **{f"environments/{n}.yaml": f"namespace: {n}\n" for n in names},
    }
    root = write_tree(tmp_path / "repo", files)
    monkeypatch.setattr(progress_module, "_INTERVAL", 0.0)
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    plan_repository(root)
    assert "\rrendering 8/8" in terminal.getvalue()
    plain = io.StringIO()
    monkeypatch.setattr("sys.stderr", plain)
    plan_repository(root)
    assert plain.getvalue() == ""
