"""``init``: scaffold a new GitOps repository that renders and passes ``check`` as it is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from generator import __version__, yamlemit
from generator.errors import OutputError, UsageError
from generator.render.output import Changes
from generator.spec import naming
from generator.spec.files import PROJECT_FILE, SPEC_DIR
from generator.spec.model import parse_spec

# Where a scaffolded repository keeps its copy of the spec's JSON Schema; every spec file's first
# line points at it, so editors complete and validate offline, against the schema of the version
# of gitops-gen that wrote it. `gitops-gen schema --output` refreshes it after an upgrade.
SCHEMA_COPY = ".gitops-gen/spec.schema.json"
MODELINE_PREFIX = "# yaml-language-server: $schema="
# The repository that holds gitops-gen's .pre-commit-hooks.yaml, and the tag of this version.
HOOKS_REPO = "https://github.com/carverauto/gitops-gen"
DEFAULT_VERSION = "0.1.0"
_CHART = re.compile(r"oci://(?P<repository>[^/\s]+(?:/[^/\s]+)*)/(?P<name>[^/\s]+)")
_CHART_NAME = re.compile(r"[a-z0-9]([-a-z0-9_.]*[a-z0-9])?")
# The project's name is, by default, its app's and so its Helm release's name: Helm allows 53
# characters. (Its namespaces, up to NAME-staging, would allow 55.)
MAX_NAME = 53


@dataclass(frozen=True, slots=True)
class InitResult:
    root: Path
    files: tuple[str, ...]
    """Every file written, relative to ``root``, sorted (rendered/ included)."""
    rendered: Changes


def schema_text() -> str:
    return resources.files("generator").joinpath("schemas/spec.schema.json").read_text("utf-8")


def modeline(spec_file: str, schema_path: str = SCHEMA_COPY) -> str:
    """The first line of a spec file: the schema, relative to the file (as editors resolve it)."""
    depth = spec_file.count("/")
    return MODELINE_PREFIX + "../" * depth + schema_path + "\n"


def write_schema(root: Path, target: Path) -> bool:
    """Write the schema to ``target`` (relative to ``root``) when it differs; True when written."""
    path = target if target.is_absolute() else root / target
    text = schema_text()
    if path.is_dir():
        raise UsageError(f"--output: {target.as_posix()} is a directory; name a file")
    try:
        if path.is_file() and path.read_bytes() == text.encode("utf-8"):
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    except OSError as e:
        raise OutputError(f"could not write {target.as_posix()}: {e.strerror or e}") from None
    return True


def parse_chart(chart: str) -> tuple[str, str]:
    """``oci://ghcr.io/org/charts/app`` → (``oci://ghcr.io/org/charts``, ``app``)."""
    match = _CHART.fullmatch(chart)
    if match is None:
        raise UsageError(
            f"--chart: {chart!r} is not oci://REGISTRY/PATH/CHART "
            "(for example oci://ghcr.io/carverauto/charts/serviceradar)"
        )
    name = match["name"]
    if not _CHART_NAME.fullmatch(name):
        raise UsageError(
            f"--chart: chart name {name!r} must use lowercase letters, digits, '-', '_' and '.'"
        )
    return "oci://" + match["repository"], name


def scaffold_files(
    name: str, chart: str | None, version: str, repo_url: str | None
) -> dict[str, str]:
    """The files ``init`` writes, outside rendered/: {relative path: text}."""
    if len(name) > MAX_NAME:
        raise UsageError(
            f"--name: {name!r} has {len(name)} characters; a project name has at most {MAX_NAME}, "
            "Helm's limit for the release name the app takes from it (the directory's name is "
            "the default)"
        )
    if naming.dns_label_problem(name):
        raise UsageError(
            f"--name: {name!r} is not a DNS-1123 label: use lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (the directory's name is the default)"
        )
    version = version[1:] if version[:1] == "v" and version[1:2].isdigit() else version
    if problem := naming.semver_problem(version):
        raise UsageError(f"--version: {problem}")
    tag = "v" + version
    if problem := naming.oci_tag_problem(tag):
        raise UsageError(f"--version: image tag {problem}")
    repository, chart_name = parse_chart(chart or f"oci://registry.example.com/charts/{name}")
    usable = naming.DNS_LABEL.fullmatch(chart_name) and len(chart_name) <= MAX_NAME
    app = chart_name if usable else name
    url = repo_url or f"https://github.com/example/{name}-gitops.git"
    if not re.fullmatch(r"https://[^/\s]+/[^\s]+", url):
        raise UsageError(f"--repo-url: {url!r} must be the repository's https:// URL")
    # Every value that lands in YAML goes through yamlemit.scalar: a name such as 123, true or null
    # must stay a string. README.md and comments take the plain text.
    values = {
        "name": name,
        "app": app,
        "name_yaml": yamlemit.scalar(name),
        "app_yaml": yamlemit.scalar(app),
        "namespace_staging": yamlemit.scalar(f"{name}-staging"),
        "namespace_demo": yamlemit.scalar(f"{name}-demo"),
        "namespace_prod": yamlemit.scalar(name),
        "hooks_repo_yaml": yamlemit.scalar(HOOKS_REPO),
        "hooks_rev_yaml": yamlemit.scalar(f"v{__version__}"),
        "repo_url": yamlemit.scalar(url),
        "chart_repository": yamlemit.scalar(repository),
        "chart_name": yamlemit.scalar(chart_name),
        "version": version if "+" not in version else yamlemit.scalar(version),
        "tag": yamlemit.scalar(tag),
        "hooks_repo": HOOKS_REPO,
        "schema": SCHEMA_COPY,
    }
    files = {
        f"{SPEC_DIR}/{PROJECT_FILE}": _PROJECT,
        f"{SPEC_DIR}/staging.yaml": _STAGING,
        f"{SPEC_DIR}/demo.yaml": _DEMO,
        f"{SPEC_DIR}/prod.yaml": _PROD,
        "README.md": _README,
        ".pre-commit-config.yaml": _PRE_COMMIT,
        ".gitignore": _GITIGNORE,
    }
    out = {path: text.format(**values) for path, text in files.items()}
    for path in files:
        if path.startswith(SPEC_DIR + "/"):
            out[path] = modeline(path) + out[path]
    out[SCHEMA_COPY] = schema_text()
    return out


def init_repository(
    root: Path,
    name: str | None = None,
    chart: str | None = None,
    version: str = DEFAULT_VERSION,
    repo_url: str | None = None,
) -> InitResult:
    """Write a new repository into ``root`` (created when missing), then render it.

    Refuses, writing nothing, when any file it would write already exists, or when environments/
    or rendered/ already hold anything.
    """
    root = root.absolute()
    files = scaffold_files(name or root.name, chart, version, repo_url)
    spec_files = {p: t for p, t in files.items() if p.startswith(SPEC_DIR + "/")}
    from generator.render.plan import render

    planned = render(parse_spec(spec_files), {})  # the scaffold must render before it is written
    taken = [
        directory + "/"
        for directory in (SPEC_DIR, "rendered", "templates")
        if (root / directory).exists()
        and (not (root / directory).is_dir() or any((root / directory).iterdir()))
    ]
    taken += sorted(
        p
        for p in files
        if ((root / p).exists() or (root / p).is_symlink())
        and not any(p.startswith(d) for d in taken)
    )
    if taken:
        raise UsageError(
            f"{root.name or root}: already holds {', '.join(taken)}; init never overwrites. "
            "Move them away or run init in a new directory."
        )
    written: list[str] = []
    try:
        for path, text in sorted(files.items()):
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "xb") as handle:  # "x": never replace a file that appeared meanwhile
                handle.write(text.encode("utf-8"))
            written.append(path)
    except OSError as e:
        for path in written:
            (root / path).unlink(missing_ok=True)
        raise OutputError(
            f"could not write {root / path}: {e.strerror or e}; nothing kept"
        ) from None
    from generator.render.repository import render_repository

    _rendered, changes = render_repository(root)
    rendered = tuple(f"rendered/{p}" for p in planned)
    return InitResult(root, tuple(sorted([*written, *rendered])), changes)


_PROJECT = """\
# The {name} GitOps project: settings, apps, shared defaults and the promotion order.
# Each environments/<env>.yaml is deep-merged over `defaults` (maps merge, lists are replaced,
# null removes a key). Run `gitops-gen render` after every change and commit rendered/ with it.

project:
  name: {name_yaml}
  # This repository, as Argo CD and the GitOps Promoter reach it.
  repoURL: {repo_url}
  branchPrefix: environment/
  scm:
    provider: github
    # The Secret in the Promoter's namespace that holds the GitHub App's private key.
    secretRef: github-app-promoter
    # Set these to your GitHub App's ID and its installation ID for this repository.
    appID: 0
    installationID: 0
  argocd:
    namespace: argocd
    project: default
  promoter:
    namespace: promoter-system

apps:
  {app_yaml}:
    chart:
      repository: {chart_repository}
      name: {chart_name}
      # `gitops-gen bump VERSION` sets this and image.tag for each release.
      version: {version}
    image:
      tag: {tag}
    # Helm values every environment shares; environment files override them.
    values: {{}}

defaults:
  autoMerge: true

promotion:
  # Changes reach staging first, then demo, then prod.
  order: [staging, demo, prod]
  gates:
    # Argo CD reports each environment's health; an unhealthy environment holds back the next one.
    active: [argocd-health]
"""

_STAGING = """\
# staging: the first environment every change reaches.
namespace: {namespace_staging}
# To run the newest build, follow a mutable tag (pulled on every sync):
# apps:
#   {app_yaml}:
#     image:
#       tag: latest
# To hold demo until an end-to-end job passes on staging, gate it on a commit status that the
# job posts with `gitops-gen commit-status --env staging --key e2e --phase success`:
# gates:
#   active: [e2e]
"""

_DEMO = """\
# demo: promoted automatically once staging is healthy.
namespace: {namespace_demo}
"""

_PROD = """\
# prod: a person approves each promotion pull request.
namespace: {namespace_prod}
autoMerge: false
"""

_PRE_COMMIT = """\
# Keeps rendered/ in step with environments/ and templates/ on every commit.
# Install once per clone: pre-commit install
repos:
  - repo: {hooks_repo_yaml}
    rev: {hooks_rev_yaml}
    hooks:
      - id: gitops-gen-render
"""

_GITIGNORE = """\
# gitops-gen builds rendered/ beside itself before swapping it in.
.gitops-gen-tmp-*
"""

_README = """\
# {name} GitOps

This repository describes where and how `{app}` runs. Its `main` branch is the *dry* source:
`environments/` holds the spec, and `rendered/` holds what [gitops-gen] renders from it.
Nobody edits the environment branches by hand: `gitops-gen publish` writes them and the
[GitOps Promoter] moves each change from one environment to the next.

```
environments/_project.yaml   project settings, the app and its chart, defaults, promotion order
environments/staging.yaml    one file per environment, deep-merged over defaults
environments/demo.yaml
environments/prod.yaml
rendered/bootstrap/          Argo CD Applications and Promoter resources (apply once)
rendered/environments/<env>/ what lands on the branch environment/<env>-next
```

Promotion: staging, then demo, then prod. Staging and demo merge automatically once the
environment before them is healthy; prod waits for a person to approve the pull request.

## First steps

1. Set `project.repoURL` and the GitHub App IDs under `project.scm` in
   `environments/_project.yaml`, and the chart in `apps.{app}.chart`.
2. `gitops-gen render`, then commit `environments/` and `rendered/` together.
3. Apply the bootstrap once, as a cluster admin: `kubectl apply -k rendered/bootstrap`.
4. Publish the environment branches (CI does this on every push to `main`):
   `gitops-gen publish --push`.

## Everyday use

- Change a value: edit `environments/<env>.yaml` (or `_project.yaml` for every environment), run
  `gitops-gen render`, commit both. `gitops-gen check` fails when `rendered/` is stale.
- Release a new version: `gitops-gen bump 1.2.3` sets the chart version and image tag `v1.2.3`
  and renders; commit, push, and the release travels through the environments in order.
- See what is where: `gitops-gen status`.
- `pre-commit install` runs `gitops-gen render` before each commit (see `.pre-commit-config.yaml`).

## Editor support

Each spec file starts with a `yaml-language-server` line that points at `{schema}`, a copy of
the spec's JSON Schema, so editors with the YAML language server complete and validate it.
After upgrading gitops-gen, refresh the copy: `gitops-gen schema --output {schema}`.

[gitops-gen]: {hooks_repo}
[GitOps Promoter]: https://github.com/argoproj-labs/gitops-promoter
"""
