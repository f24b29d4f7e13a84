"""A single updating progress line on stderr, shown only on a terminal and only for long work."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

# Above this many items the work takes long enough to deserve a progress line.
THRESHOLD = 5
# Redraw at most this often (seconds), so that progress never costs noticeable time.
_INTERVAL = 0.1


class _Line:
    """One self-overwriting line on a terminal stream (or nothing, when the stream is None)."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self._width = 0

    def draw(self, line: str) -> None:
        if self._stream is None:
            return
        pad = " " * max(0, self._width - len(line))
        self._width = len(line)
        self._stream.write("\r" + line + pad)
        self._stream.flush()

    def clear(self) -> None:
        """Erase the line so that the messages that follow start on a clean line."""
        if self._stream is not None and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width = 0


class Ticker(_Line):
    """Called once per finished item: ``tick()`` or ``tick(n, item="demo")``."""

    def __init__(self, label: str, total: int, stream: TextIO | None) -> None:
        super().__init__(stream)
        self.label = label
        self.total = total
        self.done = 0
        self._drawn_at = float("-inf")

    def __call__(self, n: int = 1, item: str = "") -> None:
        self.done += n
        if self._stream is None:
            return
        now = time.monotonic()
        if self.done < self.total and now - self._drawn_at < _INTERVAL:
            return
        self._drawn_at = now
        self.draw(f"{self.label} {self.done}/{self.total}" + (f" {item}" if item else ""))


@contextmanager
def progress(
    label: str, total: int, stream: TextIO | None = None, threshold: int = THRESHOLD
) -> Iterator[Callable[..., None]]:
    """``with progress("rendering", len(envs)) as tick: ... tick()``.

    Draws ``label done/total`` on stderr (or ``stream``) when it is a terminal and ``total`` is
    above ``threshold``; otherwise ``tick`` only counts. The line is erased when the block ends.
    """
    out = sys.stderr if stream is None else stream
    shown = total > threshold and _is_terminal(out)
    ticker = Ticker(label, total, out if shown else None)
    try:
        yield ticker
    finally:
        ticker.clear()


@contextmanager
def phases(
    total: int, stream: TextIO | None = None, threshold: int = THRESHOLD
) -> Iterator[Callable[[str], None]]:
    """``with phases(len(envs)) as say: say("fetching origin")``: the current step of long work.

    Shown under the same conditions as ``progress``; each message replaces the previous one.
    """
    out = sys.stderr if stream is None else stream
    line = _Line(out if total > threshold and _is_terminal(out) else None)
    try:
        yield lambda message: line.draw(message + "...")
    finally:
        line.clear()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        return False
