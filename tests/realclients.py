"""Real clients for tests: Helm 3 and Helm 4, a loopback OCI registry and a classic HTTP chart repository.

Loaded from ``tests/conftest.py`` (``pytest_plugins``). ``.ci/install-clients.sh`` installs the
clients; this module finds them through ``GITOPS_GEN_HELM3``, ``GITOPS_GEN_HELM4`` and
``GITOPS_GEN_REGISTRY``, else in the script's cache (``$GITOPS_GEN_CLIENTS``, else
``${XDG_CACHE_HOME:-~/.cache}/gitops-gen-clients``), else ``docker-registry`` on PATH. A test that
needs a missing client is skipped locally and fails in CI (``CI`` set): see :func:`require_client`.

Fixtures (every one runs the real binaries; servers listen on 127.0.0.1 only and stop at session end):

``helm`` (function, parametrized ``helm3``/``helm4``), ``helm3``, ``helm4`` -> :class:`Helm`
    A Helm binary with its own empty HELM_* homes for this test.
``serviceradar_archives`` (session) -> ``dict[str, Path]``
    ``helm package`` of the real ServiceRadar charts, ``{"1.0.75": .../serviceradar-1.0.75.tgz, ...}``.
``oci_registry`` (session) -> :class:`OciRegistry`
    An empty ``docker-registry`` (distribution) on a free loopback port.
``start_registry(folder)`` (a context manager, not a fixture) -> :class:`OciRegistry`
    A fresh registry of a test's own, in ``folder``; ``stop()`` ends it early.
``oci_charts`` (session) -> ``str``
    ``"oci://127.0.0.1:PORT/charts"`` holding both archives (``helm push --plain-http``).
``http_chart_repo`` (session) -> :class:`ChartRepository`
    Both archives and an ``index.yaml`` served by ``python -m http.server``.
``example_wrapper_chart`` (function) -> factory ``(repository, env="demo", *, app="serviceradar",
version=None) -> Path``
    A copy of the example's rendered wrapper chart whose dependency points at ``repository``.

Tests that use any of these fixtures get the ``clients`` marker automatically.

Plain-HTTP OCI, as measured: Helm 4 needs ``--plain-http`` on ``push``, ``pull``,
``dependency build``/``update`` and ``template oci://...``; Helm 3.17 accepts the same flag but falls
back to plain HTTP for a loopback registry by itself. ``helm template`` of a chart directory whose
dependencies are built needs no network and no flag. Always pass ``--plain-http``.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest

from tests.conftest import REPO, SHARED

INSTALL_HINT = "run .ci/install-clients.sh"
SERVICERADAR_CHARTS = SHARED / "reference" / "serviceradar" / "charts"
SERVICERADAR_VERSIONS = ("1.0.75", "1.2.27")
READY_TIMEOUT = 15.0  # seconds a server gets to answer
HELM_TIMEOUT = 120.0  # seconds one helm command may take


def _clients_cache() -> Path:
    if explicit := os.environ.get("GITOPS_GEN_CLIENTS"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gitops-gen-clients"


def _locate(variable: str, default: Path | None) -> Path | None:
    value = os.environ.get(variable)
    return Path(value) if value else default


# Resolved once, at import: the autouse ``isolated_git`` fixture moves HOME for every test.
CLIENTS_CACHE = _clients_cache()
_which_registry = shutil.which("docker-registry")
CLIENTS: dict[str, Path | None] = {
    "helm3": _locate("GITOPS_GEN_HELM3", CLIENTS_CACHE / "helm3" / "helm"),
    "helm4": _locate("GITOPS_GEN_HELM4", CLIENTS_CACHE / "helm4" / "helm"),
    "registry": _locate("GITOPS_GEN_REGISTRY", Path(_which_registry) if _which_registry else None),
}
CLIENT_FIXTURES = frozenset(
    {
        "helm",
        "helm3",
        "helm4",
        "serviceradar_archives",
        "oci_registry",
        "oci_charts",
        "http_chart_repo",
    }
)


def _unavailable(message: str) -> NoReturn:
    """Skip the test, or fail it when ``CI`` is set: CI must never skip for want of a client."""
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require_client(what: str, path: Path | None) -> Path:
    """Return ``path`` if it is an executable file.

    Otherwise skip the calling test with ``"<what> is missing: run .ci/install-clients.sh"``, or
    fail it with the same message when the ``CI`` environment variable is set (non-empty).
    """
    if path is None or not (path.is_file() and os.access(path, os.X_OK)):
        where = f" (looked for {path})" if path is not None else ""
        _unavailable(f"{what} is missing{where}: {INSTALL_HINT}")
    return path


# --- Helm ---


class HelmError(subprocess.CalledProcessError):
    """A helm command failed; unlike its base class, the message carries helm's stderr."""

    def __str__(self) -> str:
        return f"{super().__str__()}\n{self.stderr}"


@dataclass(frozen=True)
class Helm:
    """A real Helm binary and the environment to run it in.

    ``env`` is a complete environment for ``subprocess``: the caller's, without any HELM_* variable,
    plus HELM_CACHE_HOME, HELM_CONFIG_HOME, HELM_DATA_HOME, HELM_REGISTRY_CONFIG,
    HELM_REPOSITORY_CONFIG, HELM_REPOSITORY_CACHE in a private temporary tree and a KUBECONFIG that
    does not exist (no cluster is ever reachable).
    """

    path: Path
    major: int
    env: dict[str, str]

    def run(
        self, *args: str | os.PathLike[str], cwd: Path | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run ``helm *args`` (text output captured); raise :class:`HelmError` if it fails and ``check``."""
        argv = [str(self.path), *map(str, args)]
        result = subprocess.run(
            argv, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=HELM_TIMEOUT
        )
        if check and result.returncode != 0:
            raise HelmError(result.returncode, argv, result.stdout, result.stderr)
        return result


def helm_environment(root: Path) -> dict[str, str]:
    """The environment :class:`Helm` runs in, with every Helm home under ``root``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_")}
    env.update(
        HELM_CACHE_HOME=str(root / "cache"),
        HELM_CONFIG_HOME=str(root / "config"),
        HELM_DATA_HOME=str(root / "data"),
        HELM_REGISTRY_CONFIG=str(root / "config" / "registry" / "config.json"),
        HELM_REPOSITORY_CONFIG=str(root / "config" / "repositories.yaml"),
        HELM_REPOSITORY_CACHE=str(root / "cache" / "repository"),
        KUBECONFIG=str(root / "no-kubeconfig"),
    )
    return env


_helm_majors: dict[Path, int] = {}


def _helm_major(path: Path, env: dict[str, str]) -> int:
    if path not in _helm_majors:
        out = subprocess.run(
            [str(path), "version", "--short"], capture_output=True, text=True, timeout=30, env=env
        )
        match = re.match(r"v(\d+)\.", out.stdout)
        if out.returncode != 0 or not match:
            pytest.fail(f"{path} version --short: {out.stdout}{out.stderr}", pytrace=False)
        _helm_majors[path] = int(match.group(1))
    return _helm_majors[path]


def make_helm(name: str, root: Path) -> Helm:
    """A :class:`Helm` for ``name`` (``"helm3"`` or ``"helm4"``) with its homes under ``root``."""
    expected = int(name.removeprefix("helm"))
    path = require_client(f"Helm {expected}", CLIENTS[name])
    env = helm_environment(root)
    major = _helm_major(path, env)
    if major != expected:
        pytest.fail(f"{path} is Helm {major}, expected Helm {expected}", pytrace=False)
    return Helm(path=path, major=major, env=env)


@pytest.fixture
def helm3(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    """Helm 3 with fresh, empty Helm homes (no repositories, no registry logins, no cache)."""
    return make_helm("helm3", tmp_path_factory.mktemp("helm3-home"))


@pytest.fixture
def helm4(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    """Helm 4 with fresh, empty Helm homes (no repositories, no registry logins, no cache)."""
    return make_helm("helm4", tmp_path_factory.mktemp("helm4-home"))


@pytest.fixture(params=["helm3", "helm4"])
def helm(request: pytest.FixtureRequest) -> Helm:
    """Each Helm major in turn (test ids ``helm3``, ``helm4``); the homes are fresh per test, so one
    test's downloads never serve another (Helm 4 also caches chart content by digest)."""
    helm: Helm = request.getfixturevalue(request.param)
    return helm


@pytest.fixture(scope="session")
def _session_helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    """Whichever Helm is installed (Helm 3 first), for packaging and pushing, which do not depend on
    the major."""
    for name in ("helm3", "helm4"):
        path = CLIENTS[name]
        if path is not None and path.is_file():
            return make_helm(name, tmp_path_factory.mktemp(f"{name}-session-home"))
    _unavailable(f"Helm (3 or 4) is missing: {INSTALL_HINT}")


# --- servers ---


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _answers(url: str) -> bool:
    try:
        with _direct.open(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@dataclass(frozen=True)
class _Server:
    process: subprocess.Popen[bytes]
    port: int


def static_server(directory: Path, port: int) -> list[str]:
    """The command that serves ``directory`` over HTTP on 127.0.0.1:``port`` (Python's own)."""
    return [
        sys.executable,
        "-m",
        "http.server",
        "--bind",
        "127.0.0.1",
        str(port),
        "--directory",
        str(directory),
    ]


def _serve(
    what: str, start: Callable[[int], list[str]], ready_path: str, log: Path, attempts: int = 3
) -> _Server:
    """Start ``start(port)`` on a free port until ``GET http://127.0.0.1:PORT<ready_path>`` is 200.

    A port taken between choosing and binding makes the server exit: try another. Each attempt
    waits at most READY_TIMEOUT seconds; failure shows the server's output.
    """
    for _ in range(attempts):
        port = free_port()
        argv = start(port)
        with log.open("ab") as out:
            process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while time.monotonic() < deadline and process.poll() is None:
                if _answers(f"http://127.0.0.1:{port}{ready_path}"):
                    return _Server(process, port)
                time.sleep(0.05)
        except BaseException:  # interrupted while waiting: do not leave the server behind
            _stop(process)
            raise
        exited = process.poll() is not None
        _stop(process)
        if not exited:  # running but never answered: another port will not help
            break
    pytest.fail(
        f"{what} did not answer on 127.0.0.1 within {READY_TIMEOUT:.0f}s; its output ({log}):\n"
        + log.read_text(errors="replace")[-4000:],
        pytrace=False,
    )


@dataclass(frozen=True)
class OciRegistry:
    """A running loopback OCI registry: push to and pull from ``url`` with ``--plain-http``."""

    host: str  # "127.0.0.1:PORT"
    url: str  # "oci://127.0.0.1:PORT/charts"
    root: Path  # the registry's storage directory
    log: Path  # the registry's stdout and stderr
    process: subprocess.Popen[bytes] = field(repr=False, compare=False)

    def stop(self) -> None:
        """Stop the registry before its time (a test of what happens when it is gone)."""
        _stop(self.process)


@contextlib.contextmanager
def start_registry(folder: Path) -> Iterator[OciRegistry]:
    """A fresh, empty OCI registry (Debian's ``docker-registry``, distribution 2.8) on a free
    127.0.0.1 port, with its config, storage and log in ``folder`` (made if missing); stopped when
    the ``with`` block ends."""
    binary = require_client("docker-registry (the OCI registry)", CLIENTS["registry"])
    folder.mkdir(parents=True, exist_ok=True)
    config, storage = folder / "config.yml", folder / "storage"

    def start(port: int) -> list[str]:
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: warn\n"
            f"http:\n  addr: 127.0.0.1:{port}\n"
            f"storage:\n  filesystem:\n    rootdirectory: {storage}\n"
        )
        return [str(binary), "serve", str(config)]

    log = folder / "registry.log"
    server = _serve("docker-registry", start, "/v2/", log)
    host = f"127.0.0.1:{server.port}"
    try:
        yield OciRegistry(
            host=host, url=f"oci://{host}/charts", root=storage, log=log, process=server.process
        )
    finally:
        _stop(server.process)


@dataclass(frozen=True)
class ChartRepository:
    """A running classic Helm chart repository: ``url`` serves ``directory`` (``index.yaml``, .tgz)."""

    url: str  # "http://127.0.0.1:PORT"
    directory: Path


@pytest.fixture(scope="session")
def oci_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OciRegistry]:
    """An empty OCI registry (:func:`start_registry`) under pytest's tmp, for the whole session."""
    with start_registry(tmp_path_factory.mktemp("oci-registry")) as registry:
        yield registry


@pytest.fixture(scope="session")
def serviceradar_archives(
    _session_helm: Helm, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """``{version: archive}``: ``helm package`` of the real ServiceRadar charts 1.0.75 and 1.2.27.

    Packaged once per session. ``helm package`` is not reproducible (the archive's timestamps), so
    compare digests against these files, never against a second packaging.
    """
    out = tmp_path_factory.mktemp("serviceradar-archives")
    archives = {}
    for version in SERVICERADAR_VERSIONS:
        chart = SERVICERADAR_CHARTS / f"serviceradar-{version}"
        if not (chart / "Chart.yaml").is_file():
            _unavailable(f"the ServiceRadar chart {version} is missing at {chart}")
        _session_helm.run("package", chart, "--destination", out)
        archives[version] = out / f"serviceradar-{version}.tgz"
        assert archives[version].is_file(), archives[version]
    return archives


@pytest.fixture(scope="session")
def oci_charts(
    oci_registry: OciRegistry, serviceradar_archives: dict[str, Path], _session_helm: Helm
) -> str:
    """The OCI repository ``oci://127.0.0.1:PORT/charts``, holding ``serviceradar`` 1.0.75 and
    1.2.27 (``helm push --plain-http``). Use it as a dependency's ``repository:``."""
    for archive in serviceradar_archives.values():
        _session_helm.run("push", archive, oci_registry.url, "--plain-http")
    return oci_registry.url


@pytest.fixture(scope="session")
def http_chart_repo(
    serviceradar_archives: dict[str, Path],
    _session_helm: Helm,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ChartRepository]:
    """A classic chart repository holding ``serviceradar`` 1.0.75 and 1.2.27: the archives and an
    ``index.yaml`` (``helm repo index --url``) served by ``python -m http.server`` on a free
    127.0.0.1 port; stopped at the end of the session."""
    root = tmp_path_factory.mktemp("http-chart-repo")
    directory = root / "charts"
    directory.mkdir()
    for archive in serviceradar_archives.values():
        shutil.copy2(archive, directory)

    def start(port: int) -> list[str]:  # the index names the port, so it is rebuilt per attempt
        (directory / "index.yaml").unlink(missing_ok=True)
        _session_helm.run("repo", "index", directory, "--url", f"http://127.0.0.1:{port}")
        return static_server(directory, port)

    server = _serve("python -m http.server", start, "/index.yaml", root / "http.log")
    try:
        yield ChartRepository(url=f"http://127.0.0.1:{server.port}", directory=directory)
    finally:
        _stop(server.process)


# --- the example's wrapper charts, pointed elsewhere ---

_DEPENDENCY_FIELD = re.compile(
    r"^(?P<lead>[ \t]*-[ \t]+|[ \t]+(?:-[ \t]+)?)(?P<key>repository|version):[^\n]*$", re.M
)


def point_at(chart_yaml_text: str, repository: str, *, version: str | None = None) -> str:
    """A wrapper chart's ``Chart.yaml`` text with every dependency's ``repository:`` set to
    ``repository`` (and its ``version:`` to ``version`` when given).

    Every other byte is kept (the header comment, the chart's own ``version``), so a diff against
    the rendered file shows only the move. Raises ValueError when no dependency has a repository.
    """
    head, sep, rest = chart_yaml_text.partition("\ndependencies:\n")
    if not sep:
        raise ValueError("the chart declares no dependencies")
    # The block ends at the next top-level key.
    end = re.search(r"^[^\s#-]", rest, re.M)
    block, tail = (rest[: end.start()], rest[end.start() :]) if end else (rest, "")
    values = {"repository": repository, "version": version}
    found = []

    def replace(match: re.Match[str]) -> str:
        found.append(match["key"])
        value = values[match["key"]]
        if value is None:
            return match[0]
        return f"{match['lead']}{match['key']}: {json.dumps(value)}"

    block = _DEPENDENCY_FIELD.sub(replace, block)
    if "repository" not in found:
        raise ValueError("no dependency declares a repository")
    return head + sep + block + tail


@pytest.fixture
def example_wrapper_chart(tmp_path: Path) -> Callable[..., Path]:
    """``example_wrapper_chart(repository, env="demo", *, app="serviceradar", version=None)``: a
    copy (under tmp_path) of the example's ``rendered/environments/<env>/<app>`` wrapper chart whose
    dependency now comes from ``repository`` (e.g. ``oci_charts`` or ``http_chart_repo.url``), at
    ``version`` if given. Returns a new chart directory per call (``<env>-<app>``, then
    ``<env>-<app>-2``, ...), ready for ``helm dependency build``."""

    def make(
        repository: str, env: str = "demo", *, app: str = "serviceradar", version: str | None = None
    ) -> Path:
        source = REPO / "rendered" / "environments" / env / app
        target = tmp_path / f"{env}-{app}"
        for n in itertools.count(2):  # a test may want the same chart twice (e.g. before/after)
            if not target.exists():
                break
            target = tmp_path / f"{env}-{app}-{n}"
        shutil.copytree(source, target)
        chart_yaml = target / "Chart.yaml"
        chart_yaml.write_text(point_at(chart_yaml.read_text(), repository, version=version))
        return target

    return make


@pytest.fixture(scope="session")
def hello_chart(
    oci_registry: OciRegistry, _session_helm: Helm, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """Our own small chart (tests/testdata/charts/hello, 0.3.0), packaged and pushed next to
    ServiceRadar's: the second project that verify and diff --manifests are tested on. Returns the
    repository URL, ``oci://127.0.0.1:PORT/charts``."""
    helm = _session_helm
    out = tmp_path_factory.mktemp("hello-package")
    helm.run("package", str(REPO / "tests/testdata/charts/hello"), "--destination", str(out))
    helm.run("push", str(out / "hello-0.3.0.tgz"), oci_registry.url, "--plain-http")
    return str(oci_registry.url)


def sha256(path: Path) -> str:
    """The hex sha256 of a file (for comparing pulled archives)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the marker follows the fixtures ---


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if CLIENT_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.clients)
