"""Templates are untrusted: they render in Jinja2's sandbox, and every known escape is refused with
a located error, exit 2, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from tests.conftest import snapshot_tree

ESCAPES = {
    "globals-through-cycler": '{{ cycler.__init__.__globals__.os.popen("touch {marker}").read() }}',
    "globals-through-lipsum": "{{ lipsum.__globals__['os'].popen('touch {marker}').read() }}",
    "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "class-mro": "{{ env.__class__.__mro__ }}",
    "attr-filter": '{{ cycler|attr("__init__") }}',
    "format-method": '{{ "{0.__class__.__init__.__globals__}".format(cycler) }}',
    "format-map": '{{ "{a.__class__}".format_map({"a": cycler}) }}',
    "mutation": "{% set seen = [] %}{{ seen.append('x') }}",
}


@pytest.mark.parametrize("body", ESCAPES.values(), ids=ESCAPES.keys())
def test_template_escape_is_refused_located_and_writes_nothing(
    example_repo: Path, tmp_path: Path, body: str
) -> None:
    marker = tmp_path / "escaped"
    template = example_repo / "templates" / "environment" / "README.md.j2"
    template.parent.mkdir(parents=True)
    template.write_text("# {{ env.name }}\n\n" + body.replace("{marker}", str(marker)) + "\n")
    before = snapshot_tree(example_repo)
    result = CliRunner().invoke(main, ["-C", str(example_repo), "render"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "templates/environment/README.md.j2:3:1: " in result.stderr, result.stderr
    assert "refused by the template sandbox" in result.stderr, result.stderr
    assert not marker.exists()
    assert snapshot_tree(example_repo) == before


def test_ordinary_template_features_still_work(example_repo: Path) -> None:
    """The sandbox keeps what templates legitimately use: loops, filters, namespace, methods
    that read (items, get, upper, format with plain values)."""
    template = example_repo / "templates" / "environment" / "README.md.j2"
    template.parent.mkdir(parents=True)
    template.write_text(
        "# {{ env.name|upper }}\n"
        "{% set ns = namespace(n=0) %}{% for app in env.apps %}{% set ns.n = ns.n + 1 %}{% endfor %}"
        "apps: {{ ns.n }}; {{ '%s-%s'|format(env.name, 'x') }}; {{ '{}!'.format(env.name) }}\n"
    )
    result = CliRunner().invoke(main, ["-C", str(example_repo), "render"])
    assert result.exit_code == 0, result.output
    readme = (example_repo / "rendered/environments/demo/README.md").read_text()
    assert readme == "# DEMO\napps: 1; demo-x; demo!\n"


def test_spec_fields_take_the_fast_path_and_read_as_the_sandbox_reads_them(
    example_repo: Path,
) -> None:
    """Reads of the spec's own fields skip the sandbox's checks, and give what the checks give."""
    import dataclasses

    import jinja2.sandbox

    from generator.render import templating
    from generator.spec.model import load_spec

    spec = load_spec(example_repo)
    env = spec.environments[0]
    objects = [spec, spec.project, spec.project.scm, env, env.sync, *env.apps, env.apps[0].chart]
    fast = templating.make_environment()
    slow = jinja2.sandbox.ImmutableSandboxedEnvironment()
    seen = set()
    for obj in objects:
        for field in dataclasses.fields(obj):
            assert fast.getattr(obj, field.name) is slow.getattr(obj, field.name)
            seen.add(type(obj).__name__)
    assert {"Spec", "Project", "Environment", "AppRelease", "Chart"} <= seen
    # Everything else goes through the sandbox: names with "_", methods, properties, other types.
    assert isinstance(fast.getattr(env, "__class__"), jinja2.Undefined)
    assert isinstance(fast.getattr(env, "__dataclass_fields__"), jinja2.Undefined)
    assert fast.getattr(env, "next_branch") == env.next_branch
    assert templating._spec_fields(dict) == frozenset()

    @dataclasses.dataclass
    class Mutable:
        name: str

    assert templating._spec_fields(Mutable) == frozenset()
    assert templating._spec_fields(type(env)) == frozenset(f.name for f in dataclasses.fields(env))
