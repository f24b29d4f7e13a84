"""generator.cli.run: the command's exit skips the interpreter's teardown, and loses nothing.

The streams are flushed and the atexit handlers run before os._exit; every case where the
ordinary exit is still needed takes it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import generator.cli as cli


class _Exited(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


class _Stream:
    """A standard stream that records its flushes in the shared log (or fails to flush)."""

    def __init__(self, name: str, log: list[str], error: Exception | None = None) -> None:
        self.name, self.log, self.error = name, log, error

    def flush(self) -> None:
        if self.error is not None:
            raise self.error
        self.log.append(f"flush {self.name}")

    def write(self, text: str) -> int:
        return len(text)


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What run() did, in order: flushes, atexit handlers, and the status os._exit was given."""
    log: list[str] = []

    def fake_exit(status: int) -> None:
        log.append(f"_exit {status}")
        raise _Exited(status)

    monkeypatch.setattr(cli.os, "_exit", fake_exit)
    monkeypatch.setattr(cli.atexit, "_run_exitfuncs", lambda: log.append("atexit"))
    return log


def _main_exiting(monkeypatch: pytest.MonkeyPatch, code: Any, steps: list[str]) -> None:
    """``main`` ends with ``code``; the standard streams record their flushes in ``steps``.

    The streams are swapped here, in the test's body: pytest puts its own back between a
    fixture's set-up and the test.
    """

    def main() -> None:
        raise SystemExit(code)

    monkeypatch.setattr(cli, "main", main)
    monkeypatch.setattr(sys, "stdout", _Stream("stdout", steps))
    monkeypatch.setattr(sys, "stderr", _Stream("stderr", steps))


@pytest.mark.parametrize(("code", "status"), [(0, 0), (1, 1), (2, 2), (None, 0)])
def test_the_exit_status_is_the_commands(
    monkeypatch: pytest.MonkeyPatch, steps: list[str], code: Any, status: int
) -> None:
    _main_exiting(monkeypatch, code, steps)
    with pytest.raises(_Exited) as exited:
        cli.run()
    assert exited.value.status == status
    assert steps == ["atexit", "flush stdout", "flush stderr", f"_exit {status}"]


def test_a_main_that_returns_exits_0(monkeypatch: pytest.MonkeyPatch, steps: list[str]) -> None:
    _main_exiting(monkeypatch, 0, steps)
    monkeypatch.setattr(cli, "main", lambda: None)
    with pytest.raises(_Exited) as exited:
        cli.run()
    assert exited.value.status == 0


@pytest.mark.parametrize("code", ["a message", 256, -1, 2**70])
def test_an_exit_that_is_not_a_status_byte_is_left_to_python(
    monkeypatch: pytest.MonkeyPatch, steps: list[str], code: Any
) -> None:
    _main_exiting(monkeypatch, code, steps)
    with pytest.raises(SystemExit) as exited:
        cli.run()
    assert exited.value.code == code
    assert steps == []


def test_a_running_thread_gets_the_ordinary_exit(
    monkeypatch: pytest.MonkeyPatch, steps: list[str]
) -> None:
    _main_exiting(monkeypatch, 0, steps)
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        with pytest.raises(SystemExit) as exited:
            cli.run()
    finally:
        release.set()
        thread.join()
    assert exited.value.code == 0
    assert steps == []  # Python joins the thread, then flushes and runs atexit itself


def test_a_stream_that_cannot_be_flushed_gets_the_ordinary_exit(
    monkeypatch: pytest.MonkeyPatch, steps: list[str]
) -> None:
    _main_exiting(monkeypatch, 0, steps)
    monkeypatch.setattr(sys, "stdout", _Stream("stdout", steps, BrokenPipeError(32, "EPIPE")))
    with pytest.raises(SystemExit) as exited:
        cli.run()
    assert exited.value.code == 0
    # Run here; the real _run_exitfuncs clears them, so Python's own exit does not run them again.
    assert steps == ["atexit"]


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` with stdout a block-buffered pipe, whatever this environment asks for."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "PYTHONIOENCODING")}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_buffered_output_and_atexit_handlers_survive_the_exit() -> None:
    """A real process: stdout is a pipe (block-buffered), and a handler prints after the command
    (to stdout, and a partial line to stderr): all of it is flushed before the exit."""
    done = _python(
        "-c",
        "import atexit, sys\n"
        "atexit.register(lambda: print('atexit ran') or sys.stderr.write('no newline'))\n"
        "sys.argv = ['gitops-gen', '--version']\n"
        "from generator.cli import run\n"
        "run()\n",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"gitops-gen, version {cli.__version__}", "atexit ran"]
    assert done.stderr == "no newline"


def test_the_module_entry_point_exits_with_the_commands_status(example_repo: Path) -> None:
    schema = _python("-m", "generator", "schema")
    assert schema.returncode == 0, schema.stderr
    assert json.loads(schema.stdout)["$schema"].startswith("https://json-schema.org/")

    up_to_date = _python("-m", "generator", "-C", str(example_repo), "check")
    assert (up_to_date.returncode, up_to_date.stdout) == (0, "")
    assert "rendered/ is up to date" in up_to_date.stderr

    (example_repo / "rendered" / "bootstrap" / "kustomization.yaml").write_text("changed\n")
    stale = _python("-m", "generator", "-C", str(example_repo), "check")
    assert stale.returncode == 1
    assert stale.stdout.startswith("--- a/rendered/bootstrap/kustomization.yaml\n")
    assert stale.stdout.endswith("\n")
    assert "+++ b/rendered/bootstrap/kustomization.yaml" in stale.stdout

    (example_repo / "environments" / "demo.yaml").write_text("apps: [\n")
    bad = _python("-m", "generator", "-C", str(example_repo), "check")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: ") and "environments/demo.yaml:" in bad.stderr
    assert "Traceback" not in bad.stderr
