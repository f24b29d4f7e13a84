"""The built wheel carries its templates and schemas: it renders a repository that has only environments/."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import REPO, write_tree

SMALL_SPEC = {
    "environments/_project.yaml": """\
project:
  name: hello
  repoURL: https://github.com/example/hello-gitops.git
  scm: {provider: github, secretRef: gh-app, appID: 1}
apps:
  hello:
    chart:
      repository: oci://ghcr.io/example/charts
      name: hello
      version: 0.1.0
    image: {tag: v0.1.0}
promotion:
  order: [dev, prod]
""",
    "environments/dev.yaml": "namespace: hello-dev\n",
    "environments/prod.yaml": "namespace: hello\nautoMerge: false\n",
}


@pytest.mark.slow
def test_wheel_installs_in_a_fresh_venv_and_renders_elsewhere(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("gitops_gen-*.whl"))
    listing = subprocess.run(
        [sys.executable, "-m", "zipfile", "-l", str(wheel)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "generator/render/templates/bootstrap/application.yaml.j2" in listing
    assert "generator/schemas/spec.schema.json" in listing

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    subprocess.run(
        [env_dir / "bin/pip", "install", "-q", str(wheel)], check=True, capture_output=True
    )

    repo = write_tree(tmp_path / "elsewhere", SMALL_SPEC)
    exe = env_dir / "bin/gitops-gen"
    result = subprocess.run(
        [exe, "-C", str(repo), "render"], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert (repo / "rendered/environments/prod/hello/Chart.yaml").is_file()
    assert (
        "targetRevision: environment/dev"
        in (repo / "rendered/bootstrap/applications/dev/hello.yaml").read_text()
    )
    check = subprocess.run([exe, "-C", str(repo), "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    module = subprocess.run(
        [env_dir / "bin/python", "-m", "generator", "-C", str(repo), "check"],
        capture_output=True,
        text=True,
    )
    assert module.returncode == 0, module.stderr
