"""Pure rendering: a Spec and the templates in, {path inside rendered/: text} out; no file I/O."""

from __future__ import annotations

import json
import traceback
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import jinja2

from generator import yamlio
from generator.errors import Problem, RenderError, SpecError
from generator.spec import AppRelease, Environment, Spec

MANAGED_BY = {"app.kubernetes.io/managed-by": "gitops-gen"}
# Each template and the kind of object it must produce.
BOOTSTRAP = {
    "promotion-strategy.yaml": "PromotionStrategy",
    "git-repository.yaml": "GitRepository",
    "scm-provider.yaml": "ScmProvider",
    "argocd-commit-status.yaml": "ArgoCDCommitStatus",
}


def application_name(env: Environment, app: AppRelease) -> str:
    return f"{app.name}-{env.name}"


def render(spec: Spec, templates: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole rendered/ tree; raises RenderError (template problems) before returning anything."""
    from generator.templating import make_environment

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
    plan: dict[str, str] = {}
    renderer = _Renderer(jinja)
    for name, kind in BOOTSTRAP.items():
        plan[f"bootstrap/{name}"] = renderer.render(f"bootstrap/{name}.j2", common, kind)
    application = jinja.get_template("bootstrap/application.yaml.j2") if spec.environments else None
    chart = renderer.template("environment/Chart.yaml.j2")
    values = renderer.template("environment/values.yaml.j2")
    readme = renderer.template("environment/README.md.j2")
    previous = None
    for env in spec.environments:
        sync_options = ["CreateNamespace=true"]
        sync_options += [o for o in env.sync.options if o not in sync_options]
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
                "application_name": application_name(env, app),
            }
            assert application is not None
            plan[f"bootstrap/applications/{env.name}/{app.name}.yaml"] = renderer.render(
                application, context, "Application"
            )
            plan[f"{base}/{app.name}/Chart.yaml"] = renderer.render(chart, context, "Chart")
            plan[f"{base}/{app.name}/values.yaml"] = renderer.render(values, context, "Values")
    resources_list = sorted(
        path.removeprefix("bootstrap/") for path in plan if path.startswith("bootstrap/")
    )
    plan["bootstrap/kustomization.yaml"] = renderer.render(
        "bootstrap/kustomization.yaml.j2", {**common, "resources": resources_list}, "Kustomization"
    )
    return dict(sorted(plan.items()))


class _Renderer:
    def __init__(self, jinja: jinja2.Environment) -> None:
        self.jinja = jinja

    def template(self, name: str) -> jinja2.Template:
        try:
            return self.jinja.get_template(name)
        except jinja2.TemplateSyntaxError as e:
            raise SpecError([Problem(e.filename or name, e.lineno, 1, "", f"template syntax: {e.message}")]) from None
        except jinja2.TemplateNotFound as e:
            raise RenderError(f"template {e.name} not found") from None

    def render(self, template: jinja2.Template | str, context: Mapping[str, Any], kind: str | None) -> str:
        if isinstance(template, str):
            template = self.template(template)
        try:
            text = template.render(context)
        except jinja2.UndefinedError as e:
            raise _located(e, template, f"undefined variable: {e.message}") from None
        except (TypeError, ValueError, jinja2.TemplateError) as e:
            raise _located(e, template, f"{type(e).__name__}: {e}") from None
        if kind is not None:
            _check_object(text, kind, template.filename or template.name or "?")
        return text


def _located(error: BaseException, template: jinja2.Template, message: str) -> SpecError:
    """Find the template line in the traceback (Jinja2 rewrites frames to template lines)."""
    filename = template.filename or template.name or "?"
    line = 0
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == template.filename or frame.filename.endswith(str(template.name)):
            line = frame.lineno or 0
    name = _display(filename)
    return SpecError([Problem(name, line, 1 if line else 0, "", message + "; fix the template or the spec")])


def _display(filename: str) -> str:
    """Template file names as the user knows them: templates/... relative, built-in marked."""
    marker = "/templates/"
    if marker in filename:
        return "templates/" + filename.rsplit(marker, 1)[1]
    return filename


@cache
def _kind_validator(kind: str) -> Any:
    from jsonschema import Draft202012Validator

    text = resources.files("generator").joinpath("schemas/kinds.schema.json").read_text("utf-8")
    schema = json.loads(text)
    return Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": schema["$defs"]})


def _check_object(text: str, kind: str, template: str) -> None:
    """Every emitted object must parse and match the schema of its kind before anything is written."""
    where = _display(template)
    try:
        data = yamlio.load(text)
    except yamlio.YAMLLoadError as e:
        raise RenderError(f"{where}: produced invalid YAML at line {e.line}: {e.message}") from None
    errors = sorted(_kind_validator(kind).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        details = "; ".join(
            f"{yamlio.format_path(list(e.absolute_path)) or '(document)'}: {e.message}" for e in errors[:5]
        )
        raise RenderError(f"{where}: produced an invalid {kind}: {details}")
