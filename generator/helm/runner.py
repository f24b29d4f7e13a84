"""The helm binary: found once, run with a clean environment, its failures turned into one line."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from generator.errors import HelmError, UsageError

_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True, slots=True)
class Helm:
    """One helm binary and what it is."""

    path: str
    version: str
    """As ``helm version --short`` prints it, without the build suffix: ``v3.17.3``."""
    major: int
    plain_http: bool = False
    """Talk to OCI registries over plain HTTP (a loopback or in-cluster registry)."""

    def run(self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
        """Run helm; its stdout, or a HelmError carrying the last line of what it said."""
        try:
            done = subprocess.run(
                [self.path, *args],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as e:
            raise UsageError(f"cannot run helm at {self.path}: {e.strerror}") from None
        if done.returncode != 0:
            raise HelmError(last_line(done.stderr) or f"helm exited with {done.returncode}")
        return done.stdout


def last_line(text: str) -> str:
    """The line of helm's stderr that says what went wrong (helm ends with ``Error: …``)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("Error:"):
            return line.removeprefix("Error:").strip()
    return lines[-1] if lines else ""


def find_helm(explicit: str | None = None, *, plain_http: bool = False) -> Helm:
    """``--helm PATH``, else ``$GITOPS_GEN_HELM``, else ``helm`` on PATH; exit 2 if none runs."""
    wanted = explicit or os.environ.get("GITOPS_GEN_HELM") or "helm"
    path = shutil.which(wanted)
    if path is None:
        where = "is not an executable file" if os.sep in wanted else "was not found on PATH"
        raise UsageError(
            f"helm {wanted!r} {where}; install Helm 3 or 4, or pass --helm PATH"
            if wanted != "helm"
            else "helm was not found on PATH; install Helm 3 or 4, or pass --helm PATH"
        )
    try:
        done = subprocess.run(
            [path, "version", "--short"], capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise UsageError(f"cannot run helm at {path}: {e}") from None
    match = _VERSION.search(done.stdout)
    if done.returncode != 0 or match is None:
        raise UsageError(
            f"{path} does not answer `helm version` like Helm 3 or 4; pass --helm PATH"
        )
    major = int(match.group(1))
    if major not in (3, 4):
        raise UsageError(f"{path} is Helm {match.group(0)}; gitops-gen needs Helm 3 or 4")
    return Helm(path, "v" + ".".join(match.groups()), major, plain_http)
