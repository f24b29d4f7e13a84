"""The library behind the commands: each function takes the repository root and returns a result."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from generator.render import output
from generator.spec.model import Spec, load_spec

if TYPE_CHECKING:
    Tick = Callable[[int], None]

R = TypeVar("R")
P = ParamSpec("P")


def _without_cycle_collection(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` with Python's cycle collector paused (as it was before, afterwards).

    A render makes long-lived objects (the spec, the plan, the tree read back) and no cyclic
    garbage to speak of, yet the collector walks them again and again: about 30 ms in each process
    at 300 environments x 10 apps, measured with ``gc.callbacks``, for the same peak RSS (62.3 and
    62.6 MiB). Forked renderers inherit the pause. Reference counting still frees everything else.
    """

    @functools.wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():  # a caller's own pause (or a render inside a render) is kept
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if gc.get_freeze_count():  # someone froze objects: leave their freeze alone
                gc.enable()
            else:
                # Everything made meanwhile counts as young: re-enabled as is, the collector would
                # walk it all at the next allocation (5-10 ms). Freezing resets that count, and
                # unfreezing files those objects with the oldest, as if they had survived.
                gc.freeze()
                gc.enable()
                gc.unfreeze()

    return paused


@dataclass(frozen=True, slots=True)
class Plan:
    spec: Spec
    files: dict[str, str]
    """{path inside rendered/: text}"""


@dataclass(frozen=True, slots=True)
class Rendered:
    spec: Spec
    paths: list[str]
    """Every file of the tree rendered, sorted."""


@_without_cycle_collection
def plan_repository(root: Path) -> Plan:
    """Load the spec and render it in memory; nothing is written.

    On a terminal, rendering many environments shows a progress line on stderr.
    """
    from generator.render.plan import render

    return Plan(*_rendering(root, render))


def _rendering(root: Path, render: Callable[[Spec, dict[str, str], Tick], R]) -> tuple[Spec, R]:
    """The spec, and ``render(spec, templates, tick)`` with a progress line on a terminal."""
    from generator.render.progress import progress
    from generator.render.templating import repository_overrides

    spec = load_spec(root)
    overrides = repository_overrides(root)
    with progress("rendering", len(spec.environments)) as tick:
        return spec, render(spec, overrides, tick)


@_without_cycle_collection
def render_repository(root: Path) -> tuple[Rendered, output.Changes]:
    """Render and replace rendered/ atomically; writes nothing when nothing changed."""
    # rendered/ is read under the lock (a large one while the spec renders), so that a
    # concurrent render cannot slip in between reading and writing.
    with output.locked(root):
        # First put back a tree that a killed run moved aside, so the changes are counted
        # against what rendered/ really holds.
        output.clean_leftovers(root)
        if output.nothing_rendered(root):
            # Every file is new: each renderer writes its part as soon as it has rendered it.
            rendered = output.write_first(root, lambda sink: _render_into(root, sink))
            return rendered, output.Changes(created=list(rendered.paths))
        with output.reading_rendered(root) as read:
            plan = plan_repository(root)
            current = read()
        changes = output.compare(plan.files, current)
        if changes:
            output.write_atomically(root, plan.files, current)
    return Rendered(plan.spec, list(plan.files)), changes


def _render_into(root: Path, sink: Callable[[dict[str, str]], None]) -> Rendered:
    """``plan_repository`` for a writer: the files go to ``sink`` (``render.plan.render_into``)."""
    from generator.render.plan import render_into

    def render(spec: Spec, templates: dict[str, str], tick: Tick) -> list[str]:
        return render_into(spec, templates, tick, sink)

    return Rendered(*_rendering(root, render))


@_without_cycle_collection
def check_repository(root: Path) -> tuple[output.Changes, str]:
    """What render would change in rendered/, and the unified diff; writes nothing."""
    with output.reading_rendered(root) as read:
        plan = plan_repository(root)
        current = read()
    changes = output.compare(plan.files, current)
    return changes, output.unified_diff(plan.files, current, changes) if changes else ""
