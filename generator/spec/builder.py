"""The cross-file half of loading the spec: the project, the promotion order and each
environment built from the parsed files (layers merged), and the checks that span files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from generator.errors import Problem
from generator.spec import naming
from generator.spec.apps import app_layers, app_release, merge_layers
from generator.spec.files import PROJECT_FILE, SPEC_DIR, SpecFile, without_null_settings
from generator.spec.merge import deep_merge
from generator.spec.model import Environment, Project, Scm, Spec, SyncPolicy

DEFAULT_SERVER = "https://kubernetes.default.svc"


# The repository paths the Promoter's GitRepository accepts, per provider.
_REPOSITORY_NAMES = {
    "github": re.compile(r"[a-zA-Z0-9][a-zA-Z0-9-]{0,38}/[a-zA-Z0-9_.-]{1,100}"),
    "gitlab": re.compile(r"[a-zA-Z0-9_./-]+/[a-zA-Z0-9_.-]+"),
    "forgejo": re.compile(r"[^/\s]+/[^/\s]+"),
    "gitea": re.compile(r"[^/\s]+/[^/\s]+"),
}
_REPO_URL = re.compile(r"https://(?P<host>[^/\s]+)/(?P<path>[^\s]+?)(?:\.git)?/?")


class Builder:
    """Cross-file checks and merging; collects problems instead of stopping at the first."""

    def __init__(self, sources: dict[str, SpecFile], project_name: str) -> None:
        self.sources = sources
        self.project_name = project_name
        self.problems: list[Problem] = []
        self.prefix_ok = True

    @property
    def project_source(self) -> SpecFile:
        return self.sources[self.project_name]

    def fail(self, source: SpecFile, path: tuple[str | int, ...], message: str) -> None:
        problem = source.where(path, message)
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
                if not env.namespace:
                    continue  # reported as missing; a clash "into namespace ''" would repeat it
                key = (env.server or env.cluster_name or "", env.namespace, app.release_name)
                if key in releases:
                    # Where the environment's namespace is set: its file, or the defaults.
                    set_in, set_at = (
                        (source, ("namespace",))
                        if "namespace" in source.data
                        else (self.project_source, ("defaults", "namespace"))
                    )
                    self.fail(
                        set_in,
                        set_at,
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
        if len(prefix) >= naming.MAX_BRANCH:
            # Every branch is the prefix and a name of one character or more.
            self.prefix_ok = False
            self.fail(
                src,
                ("project", "branchPrefix"),
                f"branchPrefix {prefix!r} is {len(prefix)} characters, so every branch (the prefix "
                f"and an environment name) is longer than {naming.MAX_BRANCH}; keep it at "
                f"{naming.MAX_BRANCH - 1} or fewer (the Promoter adds -next and allows 100)",
            )
        elif prefix and (problem := naming.branch_problem(prefix + "x")):
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
        # The apps are merged one by one below: leave them out here (merging them would walk all
        # of their values for nulls, only to drop the result).
        doc = deep_merge(
            {k: v for k, v in defaults.items() if k != "apps"},
            {k: v for k, v in source.data.items() if k != "apps"},
        )
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
            origins = app_layers(app_name, self.project_source, source, app_defs, defaults)
            merged = merge_layers(origins)
            if merged.get("enabled", True) is False:
                disabled.append(app_name)
                continue
            release = app_release(app_name, merged, source, origins, self.fail)
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


def _broken_apps(source: SpecFile, base: tuple[str | int, ...]) -> set[str | int]:
    """The apps under ``base + ("apps",)`` that failed the schema check in ``source``."""
    depth = len(base) + 1
    return {
        bad[depth] for bad in source.broken if len(bad) > depth and bad[:depth] == (*base, "apps")
    }
