"""Peer workload for benchmarking against make-argocd-fly (PyPI, verified with 0.4.8).

Equivalent workload: E environments x A apps. Per (env, app) the peer renders
  * one 45-line Jinja2-templated Helm-values-like YAML (values differ per env via env vars)
      -> <root>/output/<env>/<app>/values.yml                      (app_type: generic)
  * one Argo CD Application manifest pointing at output/<env>/<app>
      -> <root>/output/<env>/bootstrap/application_<app>-<env>.yml (app-of-apps feature)
i.e. 2*E*A output files.

Source tree written into `root`:
  config/config.yml            envs/apps/vars/params (single file, plain YAML)
  source/<app>/values.yml.j2   one template per app; same shape for every app

How each output is produced by make-argocd-fly:
  * `<app>` has `app_type: generic`, so its source dir is rendered with Jinja2 and written
    verbatim under its source name (`.j2` stripped).  The default `k8s` type would drop the
    values file: it names outputs `<kind>_<name>.yml` and skips YAML without kind/metadata.name.
  * `bootstrap` is listed in every env but has no source dir.  That makes it an app-of-apps
    app: for every app that says `parent_app: bootstrap` (parent_app_env defaults to the same
    env) it renders the built-in `argocd_application_cr_template` with that child's vars.
    The template needs `argocd.source.repo_url`, which has no default.
  * No kustomization*.yml and no helmfile.yaml anywhere, so the kustomize and helmfile
    binaries are never run.

Stdlib only, deterministic: no randomness, no timestamps, sorted/indexed names.
"""

from __future__ import annotations

import shutil
from pathlib import Path

BOOTSTRAP_APP = "bootstrap"
REPO_URL = "https://git.example.com/platform/gitops-deploy.git"

_REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-1")
_TIERS = ("dev", "staging", "prod")
_LOG_LEVELS = ("debug", "info", "warn")
_INGRESS = ("nginx", "traefik")


def env_name(i: int) -> str:
    return f"env-{i:03d}"


def app_name(j: int) -> str:
    return f"app-{j:02d}"


def _values_template(j: int) -> str:
    # 45 lines (~870 bytes rendered; Jinja drops the final newline). Per-env values: env vars.
    # Per-app values (the port) are fixed in the app's own template.
    return f"""\
# Helm values for {{{{ app_name }}}} in {{{{ env_name }}}}
nameOverride: {{{{ app_name }}}}
fullnameOverride: {{{{ app_name }}}}-{{{{ env_name }}}}
replicaCount: {{{{ replicas }}}}
image:
  repository: registry.example.com/platform/{{{{ app_name }}}}
  tag: "{{{{ image_tag }}}}"
  pullPolicy: IfNotPresent
imagePullSecrets:
  - name: regcred
serviceAccount:
  create: true
  name: {{{{ app_name }}}}
podAnnotations:
  prometheus.io/scrape: "true"
  prometheus.io/port: "9090"
podLabels:
  app.kubernetes.io/part-of: {{{{ app_name }}}}
  environment: {{{{ env_name }}}}
  tier: {{{{ tier }}}}
service:
  type: ClusterIP
  port: {8000 + j}
ingress:
  enabled: true
  className: {{{{ ingress_class }}}}
  hosts:
    - host: {{{{ app_name }}}}.{{{{ domain }}}}
      paths:
        - path: /
          pathType: Prefix
resources:
  requests:
    cpu: {{{{ cpu_request }}}}
    memory: {{{{ memory_request }}}}
  limits:
    cpu: {{{{ cpu_limit }}}}
    memory: {{{{ memory_limit }}}}
autoscaling:
  enabled: {{{{ autoscaling | lower }}}}
  minReplicas: {{{{ replicas }}}}
  maxReplicas: {{{{ max_replicas }}}}
nodeSelector:
  topology.kubernetes.io/region: {{{{ region }}}}
logLevel: {{{{ log_level }}}}
"""


def _env_block(i: int, apps: int) -> list[str]:
    tier = _TIERS[i % len(_TIERS)]
    replicas = 1 + i % 5
    cpu = 100 + 50 * (i % 8)
    mem = 128 * (1 + i % 6)
    lines = [
        f"  {env_name(i)}:",
        "    vars:",
        f"      region: {_REGIONS[i % len(_REGIONS)]}",
        f"      tier: {tier}",
        f"      domain: {env_name(i)}.apps.example.com",
        f"      replicas: {replicas}",
        f"      max_replicas: {replicas * 4}",
        f"      autoscaling: {'true' if tier == 'prod' else 'false'}",
        f'      image_tag: "1.{i % 20}.{i}"',
        f"      cpu_request: {cpu}m",
        f"      cpu_limit: {cpu * 2}m",
        f"      memory_request: {mem}Mi",
        f"      memory_limit: {mem * 2}Mi",
        f"      log_level: {_LOG_LEVELS[i % len(_LOG_LEVELS)]}",
        f"      ingress_class: {_INGRESS[i % len(_INGRESS)]}",
        "      argocd:",
        "        destination:",
        f"          server: https://k8s-{env_name(i)}.example.com:6443",
        "    apps:",
        f"      {BOOTSTRAP_APP}: {{}}",
    ]
    for j in range(apps):
        lines.append(
            f"      {app_name(j)}: {{params: {{parent_app: {BOOTSTRAP_APP}, app_type: generic}}}}"
        )
    return lines


def _config_yaml(envs: int, apps: int) -> str:
    lines = [
        "# make-argocd-fly peer benchmark config (generated)",
        "vars:",
        "  argocd:",
        "    namespace: argocd",
        "    project: default",
        "    source:",
        f"      repo_url: {REPO_URL}",
        "      target_revision: main",
        "    destination:",
        "      namespace: ${app_name}",
        "    sync_policy:",
        "      automated:",
        "        prune: true",
        "        selfHeal: true",
        "      syncOptions:",
        "        - CreateNamespace=true",
        "envs:",
    ]
    for i in range(envs):
        lines.extend(_env_block(i, apps))
    return "\n".join(lines) + "\n"


def generate_peer_workload(
    root: Path, envs: int, apps: int, exe: str | Path = "make-argocd-fly"
) -> list[str]:
    """Write a make-argocd-fly source tree for `envs` x `apps` into `root`.

    Returns the argv that renders it into <root>/output
    (2 * envs * apps files). `exe` is the path to the venv's `make-argocd-fly` script.
    Clears root/{config,source,output,.tmp,.tmp.output,output.old} first, so
    re-running gives the same tree.
    """
    if envs < 1 or apps < 1:
        raise ValueError("envs and apps must be >= 1")
    root = Path(root).resolve()
    for sub in ("config", "source", "output", ".tmp", ".tmp.output", "output.old"):
        shutil.rmtree(root / sub, ignore_errors=True)
    (root / "config").mkdir(parents=True)
    (root / "config" / "config.yml").write_text(_config_yaml(envs, apps), encoding="utf-8")
    for j in range(apps):
        d = root / "source" / app_name(j)
        d.mkdir(parents=True)
        (d / "values.yml.j2").write_text(_values_template(j), encoding="utf-8")

    return [
        str(exe),
        "--root-dir",
        str(root),
        "--config-dir",
        "config",
        "--source-dir",
        "source",
        "--output-dir",
        "output",
        "--tmp-dir",
        ".tmp",
        # Required offline: without it, make-argocd-fly fetches https://pypi.org/pypi/make_argocd_fly/json
        # at startup. If that fails it calls input() ("Are you sure you want to continue?"),
        # which hangs on a TTY or crashes with EOFError when stdin is not a TTY.
        "--skip-latest-version-check",
        # Without this, INFO logging prints one "[k/N] Rendered application" line per (env, app).
        "--loglevel",
        "WARNING",
    ]


def expected_outputs(root: Path, envs: int, apps: int) -> list[Path]:
    """Every file the run must produce (for verification)."""
    out = Path(root).resolve() / "output"
    paths = []
    for i in range(envs):
        e = env_name(i)
        for j in range(apps):
            a = app_name(j)
            paths.append(out / e / a / "values.yml")
            paths.append(out / e / BOOTSTRAP_APP / f"application_{a}-{e}.yml")
    return paths


if __name__ == "__main__":  # python peer.py ROOT ENVS APPS EXE  -> prints argv
    import sys

    print(
        " ".join(
            generate_peer_workload(
                Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
            )
        )
    )
