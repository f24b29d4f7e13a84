"""Work done by a forked child while this process does its own: the second core of a render.

A child runs one function and sends its result back, pickled, through a pipe. Whatever goes
wrong in the child (an exception, a kill, a result that does not arrive whole) makes ``result()``
return ``None``; the caller then does that work itself, so what a user sees (output and errors) is
always that of a sequential run. ``GITOPS_GEN_NO_FORK=1``, one CPU or no ``fork`` turn it off.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any


def can_fork() -> bool:
    return (
        hasattr(os, "fork")
        and (os.cpu_count() or 1) > 1
        and not os.environ.get("GITOPS_GEN_NO_FORK")
    )


class Child:
    """``work()`` running in a forked child; ``result()`` once, or ``cancel()``.

    Where no child can be started (no pipe or no process to spare: a descriptor or pids limit),
    ``result()`` answers None at once, and the caller does the work itself, as for a failure.
    """

    def __init__(self, work: Callable[[], Any]) -> None:
        self._pid: int | None = None
        self._read_fd: int | None = None
        try:
            read_fd, write_fd = os.pipe()
        except OSError:
            return
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return
        if pid == 0:  # the child: never returns
            code = 1
            try:
                os.close(read_fd)
                import pickle

                data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_fd, "wb") as pipe:
                    pipe.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)
        self._pid, self._read_fd = pid, read_fd

    def result(self) -> Any | None:
        """The child's result, or None if it failed in any way (or was never started).

        Interrupted while it waits (Ctrl-C, a signal handler's exception), it stops and reaps the
        child before the interruption goes on: no child outlives the work it was part of.
        """
        import pickle

        if self._pid is None or self._read_fd is None:
            return None
        read_fd, self._read_fd = self._read_fd, None
        try:
            with os.fdopen(read_fd, "rb") as pipe:
                data = pipe.read()
            _, status = os.waitpid(self._pid, 0)
        except BaseException:
            self._stop()
            raise
        self._pid = None
        if os.waitstatus_to_exitcode(status) != 0 or not data:
            return None
        try:
            return pickle.loads(data)
        except Exception:
            return None

    def cancel(self) -> None:
        """Stop the child (its work no longer matters) and reap it."""
        if self._read_fd is not None:
            os.close(self._read_fd)
            self._read_fd = None
        self._stop()

    def _stop(self) -> None:
        pid, self._pid = self._pid, None
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)  # not reaped yet, so the pid is still the child's
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
