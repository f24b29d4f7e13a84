"""Load and validate environments/ into frozen dataclasses; nothing downstream sees raw files."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
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
    read_spec_dir,
    read_spec_files,
    spec_schema,
    without_null_settings,
)
from generator.spec.merge import NotAMapError, deep_merge, set_path

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
    files, unreadable = read_spec_dir(root)
    return parse_spec(files, unreadable)


def parse_spec(files: Mapping[str, str], unreadable: Sequence[Problem] = ()) -> Spec:
    """Build the Spec from {path: text} (from disk, or from a git revision).

    ``unreadable`` are the problems of spec files that could not be read: they are reported with
    the rest, and each such file still counts as there (it is not "missing").
    """
    sources = {name: SpecFile(name, text) for name, text in sorted(files.items())}
    problems: list[Problem] = list(unreadable)
    unparsed = {p.file for p in unreadable if p.file.endswith(".yaml")}
    project_name = f"{SPEC_DIR}/{PROJECT_FILE}"
    if not sources and not problems:
        raise SpecError([Problem(SPEC_DIR, 0, 0, "", "the spec is empty: no .yaml files")])
    if project_name not in sources and project_name not in unparsed:
        problems.append(
            Problem(
                project_name, 0, 0, "", "missing: it holds the project, apps and promotion order"
            )
        )
    for source in sources.values():
        parse_file(source, project_name, problems)
    sources.update({name: SpecFile(name, "") for name in sorted(unparsed)})
    # The cross-file checks run on whatever parsed, so that one run reports every problem.
    builder = _Builder(sources, project_name)
    spec = builder.build()
    problems += builder.problems
    if problems:
        raise SpecError(problems)
    assert spec is not None
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
        self.project_name = project_name
        self.problems: list[Problem] = []
        self.prefix_ok = True

    @property
    def project_source(self) -> SpecFile:
        return self.sources[self.project_name]

    def fail(
        self, source: SpecFile, path: tuple[str | int, ...], message: str, at_key: bool = False
    ) -> None:
        problem = source.where(path, message, at_key)
        # Each environment repeats the checks of what it shares; say each problem once.
        if problem not in self.problems:
            self.problems.append(problem)

    def build(self) -> Spec | None:
        """The Spec, or None when a file it needs did not parse (its problems are reported)."""
        env_sources = {
            Path(name).stem: source
            for name, source in self.sources.items()
            if name != self.project_name
        }
        for name, source in env_sources.items():
            if problem := naming.dns_label_problem(name):
                self.fail(source, (), "environment name (the file name) " + problem)
        src = self.sources.get(self.project_name)
        if src is None or not isinstance(src.data, dict) or () in src.broken:
            return None
        raw = src.data
        # Nothing lies under the project file but defaults.apps, an override layer: elsewhere a
        # null setting only means "not set". Nulls inside values are data for Helm.
        doc = without_null_settings({k: v for k, v in raw.items() if k != "defaults"})
        app_defs = doc.get("apps") if ("apps",) not in src.broken else None
        for app in app_defs if isinstance(app_defs, dict) else ():
            if isinstance(app, str) and (problem := naming.dns_label_problem(app)):
                self.fail(src, ("apps", app), "app name " + problem)
        project = None
        if src.intact(("project",)) and src.intact(("promotion", "gates")):
            project = self._project(doc)
        order = None
        if src.intact(("promotion", "order")):
            order = self._order(doc["promotion"]["order"], env_sources)
        # Single apps may be broken (they are left out below); anything else the environments
        # are built from must be whole.
        defaults_ok = not any(
            bad[:1] == ("defaults",) and (bad[1:2] != ("apps",) or len(bad) < 3)
            for bad in src.broken
        )
        if project is None or order is None or not defaults_ok or not isinstance(app_defs, dict):
            return None
        raw_defaults = raw.get("defaults") or {}
        defaults = without_null_settings({k: v for k, v in raw_defaults.items() if k != "apps"})
        defaults["apps"] = raw_defaults.get("apps") or {}
        broken_apps = _broken_apps(src, ()) | _broken_apps(src, ("defaults",))
        environments = []
        for name in order:
            source = env_sources[name]
            if not isinstance(source.data, dict) or any(
                bad[:1] != ("apps",) or len(bad) < 2 for bad in source.broken
            ):
                continue  # its own problems are reported; the checks below need all of it
            skip = broken_apps | _broken_apps(source, ())
            env = self._environment(name, source, project, app_defs, defaults, skip)
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
            elif problem := naming.dns_label_problem(name):
                self.fail(src, where, "environment name " + problem)
            elif name not in env_sources:
                self.fail(src, where, f"environment {name!r} has no file {SPEC_DIR}/{name}.yaml")
            else:
                result.append(name)
            seen.add(name)
        for name, source in env_sources.items():
            if naming.dns_label_problem(name):
                continue  # reported as a name
            if name not in seen:
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
        skip: set[str | int],
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
            if app_name in skip:
                continue  # its problems are reported; merging it would only repeat them
            layers = [
                app_defs[app_name],
                (defaults.get("apps") or {}).get(app_name) or {},
                (source.data.get("apps") or {}).get(app_name) or {},
            ]
            origins = list(
                zip(
                    (self.project_source, self.project_source, source),
                    (("apps", app_name), ("defaults", "apps", app_name), ("apps", app_name)),
                    layers,
                    strict=True,
                )
            )
            # The base is taken as it is (its null values reach Helm); overrides remove with null.
            merged: dict[str, Any] = deep_merge(layers[0], {})
            for layer in layers[1:]:
                merged = deep_merge(merged, layer)
            if merged.get("enabled", True) is False:
                disabled.append(app_name)
                continue
            release = self._release(app_name, merged, source, origins)
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

    def _path_through_scalar(
        self,
        origins: Sequence[_Layer],
        key: str,
        default: str,
        path: list[str],
        blocker: tuple[str, ...],
    ) -> None:
        """tagPath (or pullPolicyPath) leads through a value that is not a map.

        Said once, where the path is set, with the values line that blocks it; without a path
        set, the default path is blamed on that values line.
        """
        dotted = ".".join(path)
        through = "values." + ".".join(blocker)
        values_at = _origin(origins, ("values", *blocker))
        path_at = _origin(origins, ("image", key))
        # The tag and the pull policy have places of their own: what blocks the path is in values.
        assert values_at is not None
        if path_at is None:
            self.fail(
                *values_at,
                f"image.{key} is not set, so the {key.removesuffix('Path')} goes to values."
                f"{default}, but {through} is not a map; set image.{key} to where the chart "
                "takes it",
            )
            return
        source, at = values_at
        line, col = source.position(at)
        self.fail(
            *path_at,
            f"cannot set values.{dotted}: {through} is not a map "
            f"({source.file}:{line}:{col} sets it); point {key} elsewhere or make that a map",
        )

    def _release(
        self, name: str, merged: Mapping[str, Any], source: SpecFile, origins: Sequence[_Layer]
    ) -> AppRelease | None:
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
            set_by = _origin(origins, ("releaseName",))
            self.fail(
                *(set_by or (self.project_source, ("apps", name))),
                f"the release name {release_name!r} is longer than Helm's 53 characters; "
                "set a shorter releaseName",
            )
        values: dict[str, Any] = dict(merged.get("values") or {})
        image = merged.get("image") or {}
        tag = image.get("tag")
        policy = None
        if tag is not None:
            policy = naming.pull_policy(tag, image.get("pullPolicy"))
            tag_path = image.get("tagPath", "image.tag").split(".")
            policy_path = image.get("pullPolicyPath", "image.pullPolicy").split(".")
            shorter = min(len(tag_path), len(policy_path))
            if tag_path[:shorter] == policy_path[:shorter]:
                where = (
                    _origin(origins, ("image", "pullPolicyPath"))
                    or _origin(origins, ("image", "tagPath"))
                    or _origin(origins, ("image",))
                )
                assert where is not None  # the tag is set, so some layer sets image
                self.fail(
                    *where,
                    f"the tag goes to values.{'.'.join(tag_path)} and the pull policy to values."
                    f"{'.'.join(policy_path)}: give each a place of its own "
                    "(image.tagPath, image.pullPolicyPath)",
                )
                return None
            for key, default, value in (
                ("tagPath", "image.tag", tag),
                ("pullPolicyPath", "image.pullPolicy", policy),
            ):
                path = image.get(key, default).split(".")
                try:
                    set_path(values, path, value)
                except NotAMapError as e:
                    self._path_through_scalar(origins, key, default, path, e.path)
                    return None
        global_values = values.pop("global", {})
        if not isinstance(global_values, dict):
            set_by = _origin(origins, ("values", "global"))
            self.fail(
                *(set_by or (source, ("apps", name, "values", "global"))),
                "global must be a map (Helm shares it with every subchart)",
            )
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


# One layer of an app's settings: the file, the path of the app in it, and what it sets there.
_Layer = tuple[SpecFile, tuple[str | int, ...], Any]


def _origin(
    layers: Sequence[_Layer], path: tuple[str | int, ...]
) -> tuple[SpecFile, tuple[str | int, ...]] | None:
    """The layer whose setting at ``path`` wins the merge (the last one that sets it), and where."""
    for source, base, data in reversed(layers):
        node = data
        for part in path:
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is not None:
            return source, (*base, *path)
    return None


def _broken_apps(source: SpecFile, base: tuple[str | int, ...]) -> set[str | int]:
    """The apps under ``base + ("apps",)`` that failed the schema check in ``source``."""
    depth = len(base) + 1
    return {
        bad[depth] for bad in source.broken if len(bad) > depth and bad[:depth] == (*base, "apps")
    }
