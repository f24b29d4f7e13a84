"""The library behind the commands: each function takes the repository root and returns a result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.render import output
from generator.spec.model import Spec, load_spec


@dataclass(frozen=True, slots=True)
class Plan:
    spec: Spec
    files: dict[str, str]
    """{path inside rendered/: text}"""


def plan_repository(root: Path) -> Plan:
    """Load the spec and render it in memory; nothing is written.

    On a terminal, rendering many environments shows a progress line on stderr.
    """
    from generator.render.plan import render
    from generator.render.progress import progress
    from generator.render.templating import repository_overrides

    spec = load_spec(root)
    overrides = repository_overrides(root)
    with progress("rendering", len(spec.environments)) as tick:
        files = render(spec, overrides, tick)
    return Plan(spec, files)


def render_repository(root: Path) -> tuple[Plan, output.Changes]:
    """Render and replace rendered/ atomically; writes nothing when nothing changed."""
    # rendered/ is read under the lock (a large one while the spec renders), so that a
    # concurrent render cannot slip in between reading and writing.
    with output.locked(root):
        # First put back a tree that a killed run moved aside, so the changes are counted
        # against what rendered/ really holds.
        output.clean_leftovers(root)
        with output.reading_rendered(root) as read:
            plan = plan_repository(root)
            current = read()
        changes = output.compare(plan.files, current)
        if changes:
            output.write_atomically(root, plan.files, current)
    return plan, changes


def check_repository(root: Path) -> tuple[output.Changes, str]:
    """What render would change in rendered/, and the unified diff; writes nothing."""
    with output.reading_rendered(root) as read:
        plan = plan_repository(root)
        current = read()
    changes = output.compare(plan.files, current)
    return changes, output.unified_diff(plan.files, current, changes) if changes else ""
