"""generator/forked.py: a child's work comes back, or None; no child outlives the wait for it."""

from __future__ import annotations

import errno
import os
import signal
import time
from typing import Any

import pytest

from generator import forked

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_the_result_comes_back() -> None:
    child = forked.Child(lambda: {"a": [1, 2]})
    assert child.result() == {"a": [1, 2]}
    assert child.result() is None  # once


def test_a_child_that_raises_gives_none() -> None:
    def fail() -> None:
        raise RuntimeError("in the child")

    assert forked.Child(fail).result() is None


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
@pytest.mark.parametrize("call", ["pipe", "fork"])
def test_no_child_to_spare_means_none_at_once(monkeypatch: pytest.MonkeyPatch, call: str) -> None:
    """A pids or descriptor limit: the caller does the work itself; no descriptor is left open."""

    def refused(*args: Any) -> Any:
        raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN))

    before = _open_fds()
    monkeypatch.setattr(os, call, refused)
    child = forked.Child(lambda: 1)
    monkeypatch.undo()
    assert child.result() is None
    child.cancel()  # nothing to stop
    assert _open_fds() == before


def test_an_interrupted_wait_stops_and_reaps_the_child() -> None:
    """Ctrl-C (here a timer's exception) while waiting: the child must not go on writing."""

    class Interrupted(Exception):
        pass

    def interrupt(signum: int, frame: Any) -> None:
        raise Interrupted

    child = forked.Child(lambda: time.sleep(30))
    pid = child._pid
    assert pid is not None
    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        start = time.monotonic()
        with pytest.raises(Interrupted):
            child.result()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - start < 10, "the wait was not interrupted"
    assert _reaped(pid), "the child was left running or unreaped"
    child.cancel()  # after the interruption: nothing left to stop, no error


def test_cancel_stops_a_running_child() -> None:
    child = forked.Child(lambda: time.sleep(30))
    pid = child._pid
    assert pid is not None
    child.cancel()
    assert _reaped(pid)
    assert child.result() is None
