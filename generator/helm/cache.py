"""Charts pulled once and kept: keyed by repository, name and version, checked by digest on use.

A wrapper chart's dependency is fetched the way Argo CD fetches it, by ``helm dependency build``
(in a scratch chart that holds only that dependency), and the archive it produced is kept under
``$XDG_CACHE_HOME/gitops-gen/charts``. A warm run copies the archive into the wrapper chart's
``charts/`` and never contacts the registry. An archive whose digest no longer matches, or that does
not open as the chart it claims to be, is removed and fetched again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from generator.errors import HelmError
from generator.helm.runner import Helm


@dataclass(frozen=True, slots=True, order=True)
class ChartRef:
    """A published chart at one exact version: what a wrapper chart's dependency names."""

    repository: str
    """``oci://host/path`` or an ``http(s)://`` classic repository."""
    name: str
    version: str

    @property
    def where(self) -> str:
        """How a person names it: ``oci://ghcr.io/carverauto/charts/serviceradar:1.0.75``."""
        if self.repository.startswith("oci://"):
            return f"{self.repository.rstrip('/')}/{self.name}:{self.version}"
        return f"{self.name} {self.version} from {self.repository}"

    @property
    def archive_name(self) -> str:
        return f"{self.name}-{self.version}.tgz"


def cache_root() -> Path:
    """``$GITOPS_GEN_CACHE``, else ``$XDG_CACHE_HOME/gitops-gen``, else ``~/.cache/gitops-gen``."""
    explicit = os.environ.get("GITOPS_GEN_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gitops-gen"


class ChartCache:
    """Archives under ``<root>/charts/<key>/``: the archive and its sha256 beside it."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or cache_root()) / "charts"
        self.fetched: list[ChartRef] = []
        """What this run had to fetch (empty on a warm run)."""
        self.refetched: list[ChartRef] = []
        """Entries that were corrupt and fetched again."""

    def _slot(self, ref: ChartRef) -> Path:
        key = hashlib.sha256(f"{ref.repository}\n{ref.name}\n{ref.version}".encode()).hexdigest()
        return self.root / key[:32]

    def lookup(self, ref: ChartRef) -> Path | None:
        """The cached archive if it is whole; a damaged entry is removed (and None returned)."""
        slot = self._slot(ref)
        archive, digest = slot / ref.archive_name, slot / "sha256"
        if not archive.is_file():
            return None
        try:
            data = archive.read_bytes()
            expected = digest.read_text("ascii").strip()
        except OSError:
            expected, data = "", b""
        if hashlib.sha256(data).hexdigest() == expected and _is_chart(data, ref):
            return archive
        shutil.rmtree(slot, ignore_errors=True)
        self.refetched.append(ref)
        return None

    def get(self, ref: ChartRef, helm: Helm) -> Path:
        """The archive of ``ref``: from the cache, else fetched with helm and kept."""
        cached = self.lookup(ref)
        if cached is not None:
            return cached
        data = fetch(ref, helm)
        slot = self._slot(ref)
        slot.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the slot and renamed in, so a concurrent or killed run never sees half.
        scratch = Path(tempfile.mkdtemp(prefix=".tmp-", dir=slot.parent))
        try:
            (scratch / ref.archive_name).write_bytes(data)
            (scratch / "sha256").write_text(hashlib.sha256(data).hexdigest() + "\n", "ascii")
            # If another run stored it first, theirs is the same archive: keep it.
            with contextlib.suppress(OSError):
                os.rename(scratch, slot)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self.fetched.append(ref)
        return slot / ref.archive_name


def _is_chart(data: bytes, ref: ChartRef) -> bool:
    """The archive opens, and its Chart.yaml names this chart at this version."""
    from generator import yamlio

    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            member = tar.extractfile(f"{ref.name}/Chart.yaml")
            if member is None:
                return False
            chart = yamlio.load(member.read().decode("utf-8"))
    except (tarfile.TarError, KeyError, OSError, UnicodeDecodeError, EOFError, ValueError):
        return False
    except yamlio.YAMLLoadError:
        return False
    return (
        isinstance(chart, dict)
        and chart.get("name") == ref.name
        and str(chart.get("version")) == ref.version
    )


def fetch(ref: ChartRef, helm: Helm) -> bytes:
    """Fetch ``ref`` as Argo CD does: ``helm dependency build`` of a chart that depends on it."""
    with tempfile.TemporaryDirectory(prefix="gitops-gen-fetch-") as scratch:
        base = Path(scratch)
        chart = base / "chart"
        chart.mkdir()
        (chart / "Chart.yaml").write_text(
            "apiVersion: v2\nname: gitops-gen-fetch\nversion: 0.0.0\ndependencies:\n"
            f"  - name: {ref.name}\n    version: {ref.version!r}\n"
            f"    repository: {ref.repository!r}\n",
            "utf-8",
        )
        env = helm_env(base)
        args = ["dependency", "build", str(chart)]
        if ref.repository.startswith("oci://"):
            if helm.plain_http:
                args.append("--plain-http")
        else:
            # A classic repository must be known to helm first; Argo CD adds it the same way.
            try:
                helm.run("repo", "add", "gitops-gen-fetch", ref.repository, env=env)
            except HelmError as e:
                raise HelmError(f"{ref.where}: cannot read the repository: {e}") from None
        try:
            helm.run(*args, env=env)
        except HelmError as e:
            raise HelmError(f"{ref.where}: {e}") from None
        archive = chart / "charts" / ref.archive_name
        if not archive.is_file():
            raise HelmError(f"{ref.where}: helm dependency build did not produce {archive.name}")
        data = archive.read_bytes()
        if not _is_chart(data, ref):
            raise HelmError(f"{ref.where}: the archive is not {ref.name} {ref.version}")
        return data


def helm_env(scratch: Path) -> dict[str, str]:
    """The user's environment, with helm's repository list and caches private to this run.

    Registry credentials (``helm registry login``) stay the user's own.
    """
    env = dict(os.environ)
    env["HELM_REPOSITORY_CONFIG"] = str(scratch / "repositories.yaml")
    env["HELM_REPOSITORY_CACHE"] = str(scratch / "repository-cache")
    env["HELM_CACHE_HOME"] = str(scratch / "helm-cache")
    return env
