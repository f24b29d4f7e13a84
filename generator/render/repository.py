"""The library behind the commands: each function takes the repository root and returns a result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from generator.render import output
from generator.spec.model import Spec, load_spec

if TYPE_CHECKING:
    from collections.abc import Callable

    Tick = Callable[[int], None]

R = TypeVar("R")


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


def check_repository(root: Path) -> tuple[output.Changes, str]:
    """What render would change in rendered/, and the unified diff; writes nothing."""
    with output.reading_rendered(root) as read:
        plan = plan_repository(root)
        current = read()
    changes = output.compare(plan.files, current)
    return changes, output.unified_diff(plan.files, current, changes) if changes else ""
