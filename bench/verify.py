"""Benchmark gitops-gen verify and diff --manifests with the real Helm and a loopback OCI registry.

    bash .ci/install-clients.sh > /tmp/clients.env && . /tmp/clients.env
    python bench/verify.py [--repeat 5] [--helm 3|4]

Two repositories, both with a warm chart cache (the cold fetch is timed once, separately):
- the bundled example (3 environments x 1 app, the real ServiceRadar chart 1.0.75);
- a synthetic 30 environments x 3 apps, each app the small chart in tests/testdata/charts/hello.
Then diff --manifests on the example (warm cache): a one-line values change in demo, the same
change as a promotion (demo's active branch against demo-next, through a bare origin), and the
chart bump 1.0.75 -> 1.2.27 in every environment.
Each figure is the median wall time of whole processes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SERVICERADAR = SHARED / "reference/serviceradar/charts/serviceradar-1.0.75"
SERVICERADAR_NEXT = SHARED / "reference/serviceradar/charts/serviceradar-1.2.27"
HELLO = REPO / "tests/testdata/charts/hello"
GITOPS_GEN = [sys.executable, "-m", "generator"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_registry(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = os.environ.get("GITOPS_GEN_REGISTRY") or shutil.which("docker-registry")
    if not binary:
        sys.exit("docker-registry is missing: run .ci/install-clients.sh and source its output")
    port = free_port()
    config = work / "registry.yml"
    config.write_text(
        f"version: 0.1\nlog:\n  level: warn\nhttp:\n  addr: 127.0.0.1:{port}\n"
        f"storage:\n  filesystem:\n    rootdirectory: {work / 'storage'}\n"
    )
    proc = subprocess.Popen(
        [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
            return proc, f"oci://127.0.0.1:{port}/charts"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("the registry did not start")


def run(argv: list[str], **kw: object) -> None:
    subprocess.run(argv, check=True, capture_output=True, **kw)  # type: ignore[call-overload]


def example(root: Path, registry: str) -> Path:
    shutil.copytree(REPO / "environments", root / "environments")
    project = root / "environments/_project.yaml"
    project.write_text(project.read_text().replace("oci://ghcr.io/carverauto/charts", registry))
    run([*GITOPS_GEN, "-C", str(root), "render"])
    return root


def synthetic(root: Path, registry: str, envs: int, apps: int) -> Path:
    spec = root / "environments"
    spec.mkdir(parents=True)
    names = [f"env{i:02d}" for i in range(envs)]
    app_lines = "".join(
        f"  app{a}:\n    chart: {{repository: '{registry}', name: hello, version: 0.3.0}}\n"
        f"    image: {{tag: v0.3.0}}\n    values: {{podAnnotations: {{app: app{a}}}}}\n"
        for a in range(apps)
    )
    (spec / "_project.yaml").write_text(
        "project:\n  name: synth\n  repoURL: https://github.com/example/synth.git\n"
        "  scm: {provider: github, secretRef: gh-app, appID: 1}\n"
        f"apps:\n{app_lines}promotion:\n  order: [{', '.join(names)}]\n"
    )
    for name in names:
        (spec / f"{name}.yaml").write_text(f"namespace: {name}\n")
    run([*GITOPS_GEN, "-C", str(root), "render"])
    return root


def git(root: Path, *args: str) -> None:
    run(["git", "-C", str(root), *args])


def diff_cases(root: Path, registry: str, helm: str, env: dict[str, str]) -> dict[str, list[str]]:
    """The example in git, published to a bare origin, then a one-line change in demo published
    too; and a bump to 1.2.27 (the chart is in the registry) as the last commit."""
    ident = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, *ident, "commit", "-q", "-m", "start")
    origin = root.parent / "origin.git"
    run(["git", "init", "-q", "--bare", str(origin)])
    git(root, "remote", "add", "origin", str(origin))
    git(root, "push", "-q", "origin", "main")
    publish = [*GITOPS_GEN, "-C", str(root), "publish", "--push"]
    run(publish, env=env)
    run(
        [
            "git",
            "-C",
            str(origin),
            "update-ref",
            "refs/heads/environment/demo",
            "refs/heads/environment/demo-next",
        ]
    )
    demo = root / "environments/demo.yaml"
    demo.write_text(demo.read_text().replace("demo.serviceradar.cloud", "demo2.serviceradar.cloud"))
    run([*GITOPS_GEN, "-C", str(root), "render"])
    git(root, "add", "-A")
    git(root, *ident, "commit", "-q", "-m", "demo host")
    git(root, "push", "-q", "origin", "main")
    run(publish, env=env)
    run([*GITOPS_GEN, "-C", str(root), "bump", "1.2.27"])
    git(root, "add", "-A")
    git(root, *ident, "commit", "-q", "-m", "1.2.27")
    base = [*GITOPS_GEN, "-C", str(root), "diff"]
    tail = ["--manifests", "--helm", helm, "--plain-http"]
    return {
        "one-line values change (HEAD~2 HEAD~1)": [*base, "HEAD~2", "HEAD~1", *tail],
        "promotion of demo (--promotion demo)": [
            *base,
            "--promotion",
            "demo",
            "--remote",
            "origin",
            *tail,
        ],
        "chart bump 1.0.75 -> 1.2.27 (HEAD~1 HEAD)": [*base, "HEAD~1", "HEAD", *tail],
    }


def timed(argv: list[str], env: dict[str, str], repeat: int) -> list[float]:
    walls = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True)
        walls.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            sys.exit(f"{' '.join(argv)} failed:\n{done.stderr.decode()}")
    return walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--helm", choices=["3", "4"], default="3")
    args = parser.parse_args()
    helm = os.environ.get(f"GITOPS_GEN_HELM{args.helm}") or shutil.which("helm")
    if not helm:
        sys.exit("helm is missing: run .ci/install-clients.sh and source its output")
    with tempfile.TemporaryDirectory(prefix="gitops-gen-bench-verify-") as scratch:
        work = Path(scratch)
        proc, registry = start_registry(work)
        try:
            env = {**os.environ, "GITOPS_GEN_CACHE": str(work / "cache"), "HOME": str(work)}
            for chart in (SERVICERADAR, SERVICERADAR_NEXT, HELLO):
                run([helm, "package", str(chart), "-d", str(work / "pkg")], env=env)
            for archive in sorted((work / "pkg").glob("*.tgz")):
                run([helm, "push", str(archive), registry, "--plain-http"], env=env)
            repos = {
                "example (3 x 1, ServiceRadar 1.0.75)": example(work / "example", registry),
                "synthetic 30 x 3 (hello 0.3.0)": synthetic(work / "synth", registry, 30, 3),
            }
            print(f"verify, Helm {args.helm}, {os.cpu_count()} cores, medians of {args.repeat}")
            print(f"{'repository':<40} {'cold':>7} {'warm':>7} {'warm, --jobs 1':>15}")
            for label, root in repos.items():
                base = [*GITOPS_GEN, "-C", str(root), "verify", "--helm", helm, "--plain-http"]
                shutil.rmtree(work / "cache", ignore_errors=True)
                cold = timed(base, env, 1)[0]
                warm = statistics.median(timed(base, env, args.repeat))
                serial = statistics.median(timed([*base, "--jobs", "1"], env, args.repeat))
                print(f"{label:<40} {cold:>6.2f}s {warm:>6.2f}s {serial:>14.2f}s")
            print(f"\ndiff --manifests on the example, warm cache, medians of {args.repeat}")
            cases = diff_cases(repos["example (3 x 1, ServiceRadar 1.0.75)"], registry, helm, env)
            for label, argv in cases.items():
                timed(argv, env, 1)  # warm the cache for 1.2.27
                print(f"{label:<48} {statistics.median(timed(argv, env, args.repeat)):>6.2f}s")
        finally:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
