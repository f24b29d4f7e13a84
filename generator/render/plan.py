"""Pure rendering: a Spec and the templates in, {path inside rendered/: text} out; no file I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import jinja2
import jinja2.exceptions

from generator import forked, yamlemit, yamlio
from generator.errors import Problem, RenderError, SpecError
from generator.spec import naming
from generator.spec import validate as fastschema
from generator.spec.model import Environment, Spec

MANAGED_BY = {"app.kubernetes.io/managed-by": "gitops-gen"}
# Each template and the kind of object it must produce.
BOOTSTRAP = {
    "promotion-strategy.yaml": "PromotionStrategy",
    "git-repository.yaml": "GitRepository",
    "scm-provider.yaml": "ScmProvider",
    "argocd-commit-status.yaml": "ArgoCDCommitStatus",
}


def render(
    spec: Spec,
    templates: Mapping[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, str]:
    """The whole rendered/ tree; raises RenderError (template problems) before returning anything.

    ``progress(n)`` is called as environments are done (for a progress line).
    """
    plan: dict[str, str] = {}
    for part in _render_parts(spec, templates, progress, _keep):
        plan.update(part)
    return dict(sorted(plan.items()))


def render_into(
    spec: Spec,
    templates: Mapping[str, str] | None,
    progress: Callable[[int], None] | None,
    sink: Callable[[dict[str, str]], None],
) -> list[str]:
    """``render`` for a writer: each part of the tree goes to ``sink(files)`` as soon as it is
    rendered, in the process that rendered it (a forked child too), and only the paths come back,
    sorted.

    A part whose child failed is rendered and given again here, so the sink must take a file
    twice. After an error, some parts may have reached the sink.
    """

    def give(files: dict[str, str]) -> list[str]:
        sink(files)
        return list(files)

    return sorted(path for part in _render_parts(spec, templates, progress, give) for path in part)


def _keep(files: dict[str, str]) -> dict[str, str]:
    return files


T = TypeVar("T")
# From this many environments on, a forked second process renders a share of them (``MINE``).
PARALLEL_FROM = 48


def _render_parts(
    spec: Spec,
    templates: Mapping[str, str] | None,
    progress: Callable[[int], None] | None,
    finish: Callable[[dict[str, str]], T],
) -> list[T]:
    """``finish(files)`` of each part of the tree, in the process that rendered it: the bootstrap
    files, the environments (from ``PARALLEL_FROM`` on, a forked child renders a share) and the
    kustomization."""
    from generator.render.templating import make_environment

    jinja = make_environment(templates)
    project = spec.project
    part_of = {**MANAGED_BY, "app.kubernetes.io/part-of": project.name}
    common = {
        "project": project,
        "spec": spec,
        "scm": project.scm,
        "environments": spec.environments,
        "scm_provider_name": f"{project.name}-{project.scm.provider}",
        "labels": part_of,
        "selector": part_of,
    }
    renderer = _Renderer(jinja)
    environments = spec.environments

    def bootstrap() -> T:
        return finish(
            {
                f"bootstrap/{name}": renderer.render(f"bootstrap/{name}.j2", common, kind)
                for name, kind in BOOTSTRAP.items()
            }
        )

    roles: dict[str, jinja2.Template] = {}

    def render_part(start: int, stop: int, tick: Callable[[int], None] | None) -> T:
        if not roles:  # compiled in the process that renders (a template error is raised here)
            roles["application"] = renderer.template("bootstrap/application.yaml.j2")
            roles["chart"] = renderer.template("environment/Chart.yaml.j2")
            roles["values"] = renderer.template("environment/values.yaml.j2")
            roles["readme"] = renderer.template("environment/README.md.j2")
        previous = environments[start - 1] if start > 0 else None
        part = environments[start:stop]
        return finish(_render_environments(renderer, roles, common, part_of, part, previous, tick))

    def kustomization() -> T:
        # Everything under bootstrap/ but itself; the paths are the spec's, whatever renders them.
        resources = sorted(
            [
                *BOOTSTRAP,
                *(
                    _application_path(env.name, app.name)
                    for env in environments
                    for app in env.apps
                ),
            ]
        )
        path = "bootstrap/kustomization.yaml"
        context = {**common, "resources": resources}
        return finish({path: renderer.render(f"{path}.j2", context, "Kustomization")})

    if len(environments) >= PARALLEL_FROM and forked.can_fork():
        return _in_parallel(bootstrap, render_part, kustomization, len(environments), progress)
    return [bootstrap(), render_part(0, len(environments), progress), kustomization()]


def _application_path(env: str, app: str) -> str:
    """Where an environment's Application goes, under bootstrap/."""
    return f"applications/{env}/{app}.yaml"


def _in_parallel(
    first: Callable[[], T],
    render_part: Callable[[int, int, Callable[[int], None] | None], T],
    last: Callable[[], T],
    count: int,
    tick: Callable[[int], None] | None,
) -> list[T]:
    """``first()``, the environments and ``last()``, with the last environments rendered by a
    forked child meanwhile.

    This process renders ``first()`` and ``last()`` (the bootstrap files) besides its share, so
    it takes ``MINE`` of the environments. If the child fails in any way, this process renders
    its share itself, so errors (and which one is reported first) are exactly the sequential
    ones: an error of ``last()`` is raised only once the child's share is known to render.
    """
    split = max(1, int(count * MINE))
    child = forked.Child(lambda: render_part(split, count, None))
    late: Exception | None = None
    try:
        done = [first(), render_part(0, split, tick)]
        try:
            final = last()
        except Exception as error:  # it comes after the child's share in a sequential run
            late = error
    except BaseException:
        child.cancel()  # its share no longer matters: report this error now
        raise
    theirs = child.result()
    if theirs is None:
        theirs = render_part(split, count, tick)
    elif tick is not None:
        tick(count - split)
    if late is not None:
        raise late
    return [*done, theirs, final]


# This process's share of the environments when a child renders the rest: a little less than
# half, as it also renders the bootstrap files (measured at 300 x 10: the shares then end together).
MINE = 0.48


def _render_environments(
    renderer: _Renderer,
    templates: Mapping[str, jinja2.Template],
    common: Mapping[str, Any],
    part_of: Mapping[str, str],
    environments: tuple[Environment, ...],
    previous: Environment | None,
    tick: Callable[[int], None] | None = None,
) -> dict[str, str]:
    plan: dict[str, str] = {}
    application, chart = templates["application"], templates["chart"]
    values, readme = templates["values"], templates["readme"]
    for env in environments:
        # One entry per option name, the spec's last word winning (CreateNamespace=true by default).
        by_name = {"CreateNamespace": "CreateNamespace=true"}
        for option in env.sync.options:
            by_name[option.partition("=")[0]] = option
        sync_options = list(by_name.values())
        env_context = {**common, "env": env, "previous": previous, "sync_options": sync_options}
        previous = env
        base = f"environments/{env.name}"
        plan[f"{base}/README.md"] = renderer.render(readme, env_context, None)
        for app in env.apps:
            labels = {**part_of, "gitops-gen/app": app.name, "gitops-gen/environment": env.name}
            context = {
                **env_context,
                "app": app,
                "labels": labels,
                "application_name": naming.application_name(app.name, env.name),
            }
            plan[f"bootstrap/{_application_path(env.name, app.name)}"] = renderer.render(
                application, context, "Application"
            )
            plan[f"{base}/{app.name}/Chart.yaml"] = renderer.render(chart, context, "Chart")
            plan[f"{base}/{app.name}/values.yaml"] = renderer.render(values, context, "Values")
        if tick is not None:
            tick(1)
    return plan


class _Renderer:
    def __init__(self, jinja: jinja2.Environment) -> None:
        self.jinja = jinja
        # Documents the yaml_document filter wrote while rendering the current template, with the
        # data they hold: an output that is only comments and one of them needs no parsing back.
        self.emitted: dict[str, Any] = {}
        emitted = self.emitted

        def yaml_document(data: Any, sort_keys: bool = True) -> str:
            text = yamlemit.dump_document(data, sort_keys)
            emitted[text] = data
            return text

        jinja.filters["yaml_document"] = yaml_document

    def template(self, name: str) -> jinja2.Template:
        try:
            return self.jinja.get_template(name)
        except jinja2.TemplateSyntaxError as e:
            raise SpecError(
                [Problem(e.filename or name, e.lineno, 1, "", f"template syntax: {e.message}")]
            ) from None
        except jinja2.TemplateNotFound as e:
            raise RenderError(f"template {e.name} not found") from None

    def render(
        self, template: jinja2.Template | str, context: Mapping[str, Any], kind: str | None
    ) -> str:
        if isinstance(template, str):
            template = self.template(template)
        try:
            self.emitted.clear()
            text = template.render(context)
        except jinja2.UndefinedError as e:
            raise _located(e, template, f"undefined variable: {e.message}") from None
        except jinja2.exceptions.SecurityError as e:
            raise _located(e, template, f"refused by the template sandbox: {e}") from None
        except jinja2.TemplateNotFound as e:
            raise _located(
                e,
                template,
                f"includes {e.name!r}, which is neither in templates/ nor a built-in template "
                "(names are relative to templates/, without ..)",
            ) from None
        except Exception as e:  # a template is the user's code: whatever it raises is theirs
            raise _located(e, template, f"{type(e).__name__}: {e}") from None
        if kind is not None:
            _check_object(text, kind, template.filename or template.name or "?", self.emitted)
        return text


def _located(error: BaseException, template: jinja2.Template, message: str) -> SpecError:
    """Find the template line in the traceback (Jinja2 rewrites frames to template lines)."""
    import traceback  # only for an error: it costs milliseconds of start-up

    filename = template.filename or template.name or "?"
    line = 0
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == template.filename or frame.filename.endswith(str(template.name)):
            line = frame.lineno or 0
    name = _display(filename)
    return SpecError(
        [
            Problem(
                name,
                line,
                1 if line else 0,
                "",
                message.rstrip(".") + "; fix the template or the spec",
            )
        ]
    )


def _display(filename: str) -> str:
    """Template file names as the user knows them: templates/... relative, built-in marked."""
    marker = "/templates/"
    if marker in filename:
        return "templates/" + filename.rsplit(marker, 1)[1]
    return filename


_NOT_EMITTED = object()


def _check_object(
    text: str, kind: str, template: str, emitted: Mapping[str, Any] | None = None
) -> None:
    """Every emitted object must parse and match the schema of its kind before anything is written.

    When the output is comment lines and then exactly one document the yaml_document filter wrote,
    its data is known and the text is not parsed again (the filter's output reads back as its
    input: tests/test_properties.py); everything else is parsed.
    """
    where = _display(template)
    data = _NOT_EMITTED
    if emitted:
        body = text
        while body.startswith("#"):
            body = body.partition("\n")[2]
        data = emitted.get(body, _NOT_EMITTED)
    if data is _NOT_EMITTED:
        try:
            data = yamlio.load(text)
        except yamlio.YAMLLoadError as e:
            raise RenderError(
                f"{where}: produced invalid YAML at line {e.line}: {e.message}"
            ) from None
    if fastschema.checker("kinds", kind)(data):
        return
    errors = sorted(
        fastschema.explainer("kinds", kind).iter_errors(data),
        key=lambda e: list(map(str, e.absolute_path)),
    )
    if errors:
        details = "; ".join(
            f"{yamlio.format_path(list(e.absolute_path)) or '(document)'}: {e.message}"
            for e in errors[:5]
        )
        raise RenderError(f"{where}: produced an invalid {kind}: {details}")
