"""Load and validate environments/ into frozen dataclasses; nothing downstream sees raw files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import Problem, SpecError
from generator.spec import naming
from generator.spec.files import (
    PROJECT_FILE,
    SPEC_DIR,
    SpecFile,
    parse_file,
    read_spec_files,
    spec_schema,
    without_null_settings,
)
from generator.spec.merge import deep_merge, set_path

__all__ = [
    "PROJECT_FILE",
    "SPEC_DIR",
    "AppRelease",
    "Chart",
    "Environment",
    "Project",
    "Scm",
    "Spec",
    "SyncPolicy",
    "load_spec",
    "parse_spec",
    "read_spec_files",
    "spec_schema",
]

DEFAULT_SERVER = "https://kubernetes.default.svc"


@dataclass(frozen=True, slots=True)
class Chart:
    repository: str
    """oci://host/path or https://host/path, as Helm's dependency ``repository`` takes it."""
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class Scm:
    """The SCM as the Promoter's GitRepository and ScmProvider describe it."""

    provider: str
    secret_ref: str
    domain: str | None
    """Host for self-hosted providers; None for github.com and gitlab.com."""
    owner: str
    """Owner (github, forgejo, gitea) or namespace (gitlab) of the repository."""
    repository: str
    app_id: int | None = None
    installation_id: int | None = None
    project_id: int | None = None


@dataclass(frozen=True, slots=True)
class Project:
    name: str
    repo_url: str
    branch_prefix: str
    scm: Scm
    argocd_namespace: str
    argocd_project: str
    promoter_namespace: str
    active_gates: tuple[str, ...]
    """Commit-status keys checked on every environment's active branch."""
    proposed_gates: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SyncPolicy:
    automated: bool
    prune: bool
    self_heal: bool
    allow_empty: bool
    options: tuple[str, ...]
    retry: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class AppRelease:
    """One app as one environment runs it, after every merge."""

    name: str
    release_name: str
    chart: Chart
    image_tag: str | None
    pull_policy: str | None
    """The effective pull policy (explicit, else from the tag); None when the app has no image."""
    values: Mapping[str, Any]
    """The wrapper chart's values.yaml: ``global`` at the top, the rest under the chart's name."""


@dataclass(frozen=True, slots=True)
class Environment:
    name: str
    file: str
    branch: str
    """The active branch; the Promoter's proposed branch is ``branch + "-next"``."""
    namespace: str
    server: str | None
    cluster_name: str | None
    auto_merge: bool
    active_gates: tuple[str, ...]
    proposed_gates: tuple[str, ...]
    sync: SyncPolicy
    ignore_differences: tuple[Mapping[str, Any], ...]
    apps: tuple[AppRelease, ...]
    """Enabled apps, sorted by name."""
    disabled_apps: tuple[str, ...]

    @property
    def next_branch(self) -> str:
        return self.branch + "-next"


@dataclass(frozen=True, slots=True)
class Spec:
    project: Project
    environments: tuple[Environment, ...]
    """In promotion order."""
    files: tuple[str, ...] = field(default=())

    def environment(self, name: str) -> Environment:
        for env in self.environments:
            if env.name == name:
                return env
        raise KeyError(name)


def load_spec(root: Path) -> Spec:
    """Read, validate and merge ``root/environments``; raises SpecError with every problem found."""
    return parse_spec(read_spec_files(root))


def parse_spec(files: Mapping[str, str]) -> Spec:
    """Build the Spec from {path: text} (from disk, or from a git revision)."""
    sources = {name: SpecFile(name, text) for name, text in sorted(files.items())}
    problems: list[Problem] = []
    project_name = f"{SPEC_DIR}/{PROJECT_FILE}"
    if not sources:
        raise SpecError([Problem(SPEC_DIR, 0, 0, "", "the spec is empty: no .yaml files")])
    if project_name not in sources:
        problems.append(
            Problem(
                project_name, 0, 0, "", "missing: it holds the project, apps and promotion order"
            )
        )
    for source in sources.values():
        parse_file(source, project_name, problems)
    if problems:
        raise SpecError(problems)
    builder = _Builder(sources, project_name)
    spec = builder.build()
    if builder.problems:
        raise SpecError(builder.problems)
    return spec


# The repository paths the Promoter's GitRepository accepts, per provider.
_REPOSITORY_NAMES = {
    "github": re.compile(r"[a-zA-Z0-9][a-zA-Z0-9-]{0,38}/[a-zA-Z0-9_.-]{1,100}"),
    "gitlab": re.compile(r"[a-zA-Z0-9_./-]+/[a-zA-Z0-9_.-]+"),
    "forgejo": re.compile(r"[^/\s]+/[^/\s]+"),
    "gitea": re.compile(r"[^/\s]+/[^/\s]+"),
}
_REPO_URL = re.compile(r"https://(?P<host>[^/\s]+)/(?P<path>[^\s]+?)(?:\.git)?/?")


class _Builder:
    """Cross-file checks and merging; collects problems instead of stopping at the first."""

    def __init__(self, sources: dict[str, SpecFile], project_name: str) -> None:
        self.sources = sources
        self.project_source = sources[project_name]
        self.problems: list[Problem] = []
        self.prefix_ok = True

    def fail(self, source: SpecFile, path: tuple[str | int, ...], message: str) -> None:
        self.problems.append(source.where(path, message))

    def build(self) -> Spec:
        raw = self.project_source.data
        # Nothing lies under the project file but defaults.apps, an override layer: elsewhere a
        # null setting only means "not set". Nulls inside values are data for Helm.
        doc = without_null_settings({k: v for k, v in raw.items() if k != "defaults"})
        raw_defaults = raw.get("defaults") or {}
        defaults = without_null_settings({k: v for k, v in raw_defaults.items() if k != "apps"})
        defaults["apps"] = raw_defaults.get("apps") or {}
        project = self._project(doc)
        env_sources = {
            Path(name).stem: source
            for name, source in self.sources.items()
            if source is not self.project_source
        }
        order = self._order(doc["promotion"]["order"], env_sources)
        environments = []
        for name in order:
            env = self._environment(name, env_sources[name], project, doc["apps"], defaults)
            if env is not None:
                environments.append(env)
        self._check_collisions(environments)
        return Spec(project, tuple(environments), tuple(self.sources))

    def _check_collisions(self, environments: list[Environment]) -> None:
        """Two Applications with one name, or two releases of one name in one namespace, fight."""
        names: dict[str, str] = {}
        releases: dict[tuple[str, str, str], str] = {}
        for env in environments:
            source = self.sources[env.file]
            for app in env.apps:
                where = f"app {app.name!r} in environment {env.name!r}"
                name = naming.application_name(app.name, env.name)
                if name in names:
                    self.fail(
                        source,
                        ("apps", app.name) if app.name in (source.data.get("apps") or {}) else (),
                        f"{where} makes the Application {name!r}, as {names[name]} does; "
                        "rename one",
                    )
                names.setdefault(name, where)
                key = (env.server or env.cluster_name or "", env.namespace, app.release_name)
                if key in releases:
                    self.fail(
                        source,
                        ("namespace",) if "namespace" in source.data else (),
                        f"{where} installs release {app.release_name!r} into namespace "
                        f"{env.namespace!r} of the same cluster as {releases[key]}; "
                        "use another namespace or releaseName",
                    )
                releases.setdefault(key, where)

    def _project(self, doc: Mapping[str, Any]) -> Project:
        src = self.project_source
        settings = doc["project"]
        name = settings["name"]
        if problem := naming.dns_label_problem(name):
            self.fail(src, ("project", "name"), problem)
        for app in doc["apps"]:
            if problem := naming.dns_label_problem(app):
                self.fail(src, ("apps", app), "app name " + problem)
        prefix = settings.get("branchPrefix", naming.DEFAULT_BRANCH_PREFIX)
        self.prefix_ok = True
        if prefix and (problem := naming.branch_problem(prefix + "x")):
            self.prefix_ok = False
            self.fail(
                src, ("project", "branchPrefix"), problem.replace(repr(prefix + "x"), repr(prefix))
            )
        gates = doc["promotion"].get("gates") or {}
        return Project(
            name=name,
            repo_url=settings["repoURL"],
            branch_prefix=prefix,
            scm=self._scm(settings),
            argocd_namespace=(settings.get("argocd") or {}).get("namespace", "argocd"),
            argocd_project=(settings.get("argocd") or {}).get("project", "default"),
            promoter_namespace=(settings.get("promoter") or {}).get("namespace", "promoter-system"),
            active_gates=tuple(gates.get("active", ["argocd-health"])),
            proposed_gates=tuple(gates.get("proposed", [])),
        )

    def _scm(self, settings: Mapping[str, Any]) -> Scm:
        src = self.project_source
        scm = settings["scm"]
        provider = scm["provider"]
        match = _REPO_URL.fullmatch(settings["repoURL"])
        host, path = (match["host"], match["path"]) if match else ("", "")
        parts = path.split("/")
        if provider == "gitlab":
            owner, repository = "/".join(parts[:-1]), parts[-1]
        else:
            owner, repository = (parts[0], parts[1]) if len(parts) == 2 else ("", "")
        if not owner or not repository:
            layout = "namespace/name" if provider == "gitlab" else "owner/name"
            self.fail(
                src, ("project", "repoURL"), f"must be https://host/{layout}[.git] for {provider}"
            )
        elif not _REPOSITORY_NAMES[provider].fullmatch(f"{owner}/{repository}"):
            self.fail(
                src,
                ("project", "repoURL"),
                f"{owner}/{repository} is not a valid {provider} repository path for the Promoter",
            )
        public = {"github": "github.com", "gitlab": "gitlab.com"}.get(provider)
        domain = scm.get("domain", host)
        if domain == public:
            domain = None
        required = {"github": "appID", "gitlab": "projectId"}.get(provider)
        if required and required not in scm:
            self.fail(src, ("project", "scm"), f"{required} is required for {provider}")
        for key, only in (
            ("appID", "github"),
            ("installationID", "github"),
            ("projectId", "gitlab"),
        ):
            if key in scm and provider != only:
                self.fail(src, ("project", "scm", key), f"only applies to {only}, not {provider}")
        return Scm(
            provider=provider,
            secret_ref=scm["secretRef"],
            domain=domain or None,
            owner=owner,
            repository=repository,
            app_id=scm.get("appID"),
            installation_id=scm.get("installationID"),
            project_id=scm.get("projectId"),
        )

    def _order(self, order: list[str], env_sources: dict[str, SpecFile]) -> list[str]:
        src = self.project_source
        seen: set[str] = set()
        result = []
        for index, name in enumerate(order):
            where = ("promotion", "order", index)
            if name in seen:
                self.fail(src, where, f"environment {name!r} is listed twice; keep one")
            elif name not in env_sources:
                self.fail(src, where, f"environment {name!r} has no file {SPEC_DIR}/{name}.yaml")
            else:
                result.append(name)
            seen.add(name)
        for name, source in env_sources.items():
            if problem := naming.dns_label_problem(name):
                self.fail(source, (), "environment name (the file name) " + problem)
            elif name not in seen:
                self.fail(
                    source,
                    (),
                    f"environment {name!r} is not in promotion.order of {SPEC_DIR}/{PROJECT_FILE}; "
                    "add it there or remove this file",
                )
        return [name for name in result if not naming.dns_label_problem(name)]

    def _environment(
        self,
        name: str,
        source: SpecFile,
        project: Project,
        app_defs: Mapping[str, Any],
        defaults: Mapping[str, Any],
    ) -> Environment | None:
        doc = deep_merge({k: v for k, v in defaults.items() if k != "apps"}, source.data)
        doc.pop("apps", None)
        branch = project.branch_prefix + name
        if self.prefix_ok and (problem := naming.branch_problem(branch)):
            self.fail(source, (), problem)
        namespace = doc.get("namespace")
        if namespace is None:
            self.fail(source, (), "namespace is required; set it here or in defaults")
            namespace = ""
        elif problem := naming.dns_label_problem(namespace):
            self.fail(source, ("namespace",), "namespace " + problem)
        destination = doc.get("destination") or {}
        server, cluster = destination.get("server"), destination.get("name")
        if server and cluster:
            self.fail(
                source,
                ("destination",),
                "set destination.server or destination.name, not both "
                "(write server: null to drop a server from defaults)",
            )
        if not server and not cluster:
            server = DEFAULT_SERVER
        overrides = (source.data.get("apps") or {}, (defaults.get("apps") or {}))
        for where, layer in zip(((source,), (self.project_source,)), overrides, strict=True):
            for app in layer:
                if app not in app_defs:
                    path = ("apps", app) if where[0] is source else ("defaults", "apps", app)
                    self.fail(
                        where[0], path, f"app {app!r} is not defined in apps of {PROJECT_FILE}"
                    )
        apps, disabled = [], []
        for app_name in sorted(app_defs):
            layers = [
                app_defs[app_name],
                (defaults.get("apps") or {}).get(app_name) or {},
                (source.data.get("apps") or {}).get(app_name) or {},
            ]
            # The base is copied as it is (its null values reach Helm); overrides remove with null.
            merged: dict[str, Any] = deep_merge(layers[0], {})
            for layer in layers[1:]:
                merged = deep_merge(merged, layer)
            if merged.get("enabled", True) is False:
                disabled.append(app_name)
                continue
            release = self._release(app_name, merged, source)
            if release is not None:
                apps.append(release)
        gates = doc.get("gates") or {}
        sync = doc.get("sync") or {}
        return Environment(
            name=name,
            file=source.file,
            branch=branch,
            namespace=namespace,
            server=server,
            cluster_name=cluster,
            auto_merge=doc.get("autoMerge", True),
            active_gates=tuple(gates.get("active", ())),
            proposed_gates=tuple(gates.get("proposed", ())),
            sync=SyncPolicy(
                automated=sync.get("automated", True),
                prune=sync.get("prune", True),
                self_heal=sync.get("selfHeal", True),
                allow_empty=sync.get("allowEmpty", False),
                options=tuple(sync.get("options", ())),
                retry=sync.get("retry"),
            ),
            ignore_differences=tuple(doc.get("ignoreDifferences", ())),
            apps=tuple(apps),
            disabled_apps=tuple(disabled),
        )

    def _release(self, name: str, merged: Mapping[str, Any], source: SpecFile) -> AppRelease | None:
        fields = merged.get("chart") or {}
        missing = [key for key in ("repository", "name", "version") if not fields.get(key)]
        if missing:
            self.fail(
                source, ("apps", name), f"chart.{missing[0]} of app {name!r} was removed by a null"
            )
            return None
        chart = Chart(fields["repository"], fields["name"], fields["version"])
        release_name = merged.get("releaseName") or name
        if len(release_name) > 53:
            self.fail(
                self.project_source,
                ("apps", name),
                f"the release name {release_name!r} is longer than Helm's 53 characters; "
                "set a shorter releaseName",
            )
        values: dict[str, Any] = dict(merged.get("values") or {})
        image = merged.get("image") or {}
        tag = image.get("tag")
        policy = None
        if tag is not None:
            policy = naming.pull_policy(tag, image.get("pullPolicy"))
            for key, default, value in (
                ("tagPath", "image.tag", tag),
                ("pullPolicyPath", "image.pullPolicy", policy),
            ):
                path = image.get(key, default).split(".")
                try:
                    set_path(values, path, value)
                except TypeError as e:
                    self.fail(
                        source,
                        ("apps", name, "image", key),
                        f"cannot set {'.'.join(path)}: values.{e} is not a map",
                    )
                    return None
        global_values = values.pop("global", {})
        if not isinstance(global_values, dict):
            self.fail(source, ("apps", name, "values", "global"), "global must be a map")
            return None
        wrapper: dict[str, Any] = {}
        if global_values:
            wrapper["global"] = global_values
        wrapper[chart.name] = values
        return AppRelease(
            name=name,
            release_name=release_name,
            chart=chart,
            image_tag=tag,
            pull_policy=policy,
            values=wrapper,
        )
