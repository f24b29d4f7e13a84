"""Every class of bad input, through one table.

Each case arranges a copy of the example (a git repository when the command reads git), runs its
commands, and asserts for each:
- exit code 2, nothing on stdout, no traceback;
- the whole error output, exactly: every problem with its ``file:line:col`` and message;
- the repository byte for byte as it was: the working tree, and for git repositories every ref
  (branches, notes) and HEAD.

Spec and template cases run through both ``render`` and ``check``, which report them the same way.
In an expected output, {root} stands for the repository, {head} for HEAD's short SHA and
{templates} for the built-in templates' folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

import generator
from generator.cli import main
from tests.conftest import EXAMPLE_SPEC, REPO, git, init_dry_repo
from tests.spec.test_limits import alias_bomb
from tests.spec.test_spec import MULTI_APP

Arrange = Callable[[Path], None]
RENDER_AND_CHECK = (("render",), ("check",))
SECRET = "top-secret-outside-the-repository"
SHA = "a" * 40


@dataclass(frozen=True)
class Case:
    arrange: Arrange
    stderr: str
    """The whole error output."""
    commands: tuple[tuple[str, ...], ...] = RENDER_AND_CHECK
    """Each command (after ``-C ROOT``) the case runs; each must give the same output."""
    git: bool = False
    """The example is a git repository with one commit (the dry repository)."""


def problems(*lines: str, where: str = "environments/") -> str:
    """The output of a SpecError: a count, then each problem on its own line."""
    count = f"{len(lines)} problem{'s' if len(lines) != 1 else ''}"
    return f"error: {count} in {where}:\n" + "".join(f"  {line}\n" for line in lines)


# --- arranging a case -----------------------------------------------------------------------------


def edit(name: str, old: str, new: str) -> Arrange:
    def arrange(root: Path) -> None:
        path = root / "environments" / name
        text = path.read_text()
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1))

    return arrange


def append(name: str, text: str) -> Arrange:
    def arrange(root: Path) -> None:
        path = root / "environments" / name
        path.write_text(path.read_text() + text)

    return arrange


def write(rel: str, text: str) -> Arrange:
    def arrange(root: Path) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    return arrange


def both(*steps: Arrange) -> Arrange:
    def arrange(root: Path) -> None:
        for step in steps:
            step(root)

    return arrange


def commit(message: str = "Change the spec") -> Arrange:
    def arrange(root: Path) -> None:
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", message)

    return arrange


def outside(root: Path) -> Path:
    """A directory beside the repository, with files nobody may read through it."""
    directory = root.parent / "outside"
    (directory / "sub").mkdir(parents=True, exist_ok=True)
    (directory / "demo.yaml").write_text(f"namespace: demo\n# {SECRET}\n")
    for rel in ("README.md.j2", "sub/README.md.j2", "secret.txt"):
        (directory / rel).write_text(f"{SECRET}\n")
    return directory


def link_demo_outside(root: Path) -> None:
    link = root / "environments" / "demo.yaml"
    link.unlink()
    link.symlink_to(outside(root) / "demo.yaml")


def link_environments_outside(root: Path) -> None:
    target = outside(root)
    for path in (root / "environments").iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    os.rename(root / "environments", root / "environments.real")
    (root / "environments").symlink_to(target, target_is_directory=True)


def link_template_outside(kind: str) -> Arrange:
    def arrange(root: Path) -> None:
        target = outside(root)
        templates = root / "templates"
        if kind == "templates":
            templates.symlink_to(target, target_is_directory=True)
            return
        (templates / "environment").mkdir(parents=True)
        if kind == "file":
            (templates / "environment" / "README.md.j2").symlink_to(target / "README.md.j2")
        else:
            (templates / "environment" / "extra").symlink_to(
                target / "sub", target_is_directory=True
            )

    return arrange


def include(name: str) -> Arrange:
    def arrange(root: Path) -> None:
        outside(root)
        write("templates/environment/README.md.j2", '{% include "' + name + '" %}\n')(root)

    return arrange


def link_rendered_outside(root: Path) -> None:
    target = outside(root)
    os.rename(root / "rendered", target / "rendered")
    (root / "rendered").symlink_to(target / "rendered", target_is_directory=True)


def remove(rel: str) -> Arrange:
    def arrange(root: Path) -> None:
        path = root / rel
        if path.is_dir():
            for child in path.glob("*.yaml"):
                child.unlink()
        else:
            path.unlink()

    return arrange


def big_file(root: Path) -> None:
    with (root / "environments" / "demo.yaml").open("r+b") as handle:
        handle.truncate(9 * 1024 * 1024)


def order_with(name: str) -> Arrange:
    return edit(
        "_project.yaml", "order: [staging, demo, prod]", f'order: [staging, demo, prod, "{name}"]'
    )


def app_named(name: str) -> Arrange:
    return edit(
        "_project.yaml",
        "\napps:\n",
        f'\napps:\n  "{name}":\n    chart: {{repository: "oci://r/c", name: x, version: 1.0.0}}\n',
    )


def rename_app(name: str) -> Arrange:
    def arrange(root: Path) -> None:
        for path in (root / "environments").glob("*.yaml"):
            path.write_text(path.read_text().replace("\n  serviceradar:\n", f"\n  {name}:\n"))

    return arrange


def spec(files: dict[str, str]) -> Arrange:
    """Replace the example's spec with ``files``."""

    def arrange(root: Path) -> None:
        for path in (root / "environments").glob("*.yaml"):
            path.unlink()
        for rel, text in files.items():
            write(rel, text)(root)

    return arrange


TWO_APPLICATIONS_WITH_ONE_NAME = {
    "environments/_project.yaml": MULTI_APP["environments/_project.yaml"]
    .replace("  worker:\n", "  web-stage:\n")
    .replace("order: [dev, live]", "order: [dev, live, prod, stage-prod]"),
    "environments/dev.yaml": "namespace: shop-dev\napps:\n  web-stage: {enabled: false}\n",
    "environments/live.yaml": "namespace: shop\napps:\n  web-stage: {enabled: false}\n",
    "environments/prod.yaml": "namespace: shop-prod\napps:\n  web: {enabled: false}\n",
    "environments/stage-prod.yaml": "namespace: shop-stage-prod\napps:\n  web-stage: {enabled: false}\n",
}
GITLAB_WITH_A_GITHUB_SETTING = {
    **MULTI_APP,
    "environments/_project.yaml": MULTI_APP["environments/_project.yaml"].replace(
        "projectId: 42}", "projectId: 42, appID: 5}"
    ),
}


def deep_lists(depth: int) -> str:
    return (
        "namespace: demo\napps:\n  serviceradar:\n    values:\n      deep: "
        + "[" * depth
        + "]" * depth
        + "\n"
    )


CASES: dict[str, Case] = {
    # --- YAML and files ---
    "malformed-yaml": Case(
        append("staging.yaml", "broken: [unclosed\n"),
        problems(
            "environments/staging.yaml:25:1: invalid YAML: expected ',' or ']', but got '<stream end>'"
        ),
    ),
    "duplicate-key": Case(
        append("demo.yaml", "namespace: other\n"),
        problems(
            'environments/demo.yaml:18:1: invalid YAML: duplicate key "namespace"; remove one of them'
        ),
    ),
    "not-utf-8": Case(
        lambda root: (root / "environments/demo.yaml").write_bytes(
            b"# d\xc3\xa9mo\nnamespace: d\xe9mo\n"
        ),
        problems(
            "environments/demo.yaml:2:13: is not UTF-8 text (byte 0xe9); save the file as UTF-8"
        ),
    ),
    "unreadable-and-invalid-files-at-once": Case(
        both(
            lambda root: (root / "environments/demo.yaml").write_bytes(b"namespace: d\xe9mo\n"),
            edit("prod.yaml", "autoMerge: false", "autoMerge: nope"),
        ),
        problems(
            "environments/demo.yaml:1:13: is not UTF-8 text (byte 0xe9); save the file as UTF-8",
            "environments/prod.yaml:4:12: autoMerge: must be a boolean, not a string; write true or false",
        ),
    ),
    "not-a-regular-file": Case(
        lambda root: (root / "environments/qa.yaml").mkdir(),
        problems(
            "environments/qa.yaml: is not a regular file",
            "environments/qa.yaml:1:1: environment 'qa' is not in promotion.order of environments/_project.yaml; add it there or remove this file",
        ),
    ),
    "two-documents": Case(
        append("demo.yaml", "---\nnamespace: other\n"),
        problems(
            "environments/demo.yaml:18:1: invalid YAML: a second document starts here; a file holds one document"
        ),
    ),
    "control-character": Case(
        append("demo.yaml", 'extra: "a\x01"\n'),
        problems(
            "environments/demo.yaml:18:10: invalid YAML: the character U+0001 is not allowed in YAML text; remove it, or write it as an escape (\\u....) inside a double-quoted string"
        ),
    ),
    "file-larger-than-8-mib": Case(
        big_file, problems("environments/demo.yaml: is larger than 8 MiB; refused")
    ),
    "yml-extension": Case(
        write("environments/qa.yml", "namespace: qa\n"),
        problems("environments/qa.yml: spec files end in .yaml; rename it"),
    ),
    "empty-project-file": Case(
        write("environments/_project.yaml", "# nothing here\n"),
        problems(
            "environments/_project.yaml:1:1: the project file is empty: it holds the project, apps and promotion order"
        ),
    ),
    "empty-environment-file": Case(
        write("environments/demo.yaml", ""),
        problems(
            "environments/demo.yaml:1:1: the environment is empty; write {} for an empty environment"
        ),
    ),
    "missing-project-file": Case(
        remove("environments/_project.yaml"),
        problems(
            "environments/_project.yaml: missing: it holds the project, apps and promotion order"
        ),
    ),
    "no-spec-files": Case(
        remove("environments"), problems("environments: the spec is empty: no .yaml files")
    ),
    "no-environments-directory": Case(
        lambda root: shutil.rmtree(root / "environments"),
        problems("environments: not found; create it (gitops-gen init) or pass -C DIR"),
    ),
    "binary-value": Case(
        append("demo.yaml", "extra: !!binary aGVsbG8=\n"),
        problems(
            "environments/demo.yaml:18:8: extra: unsupported YAML type (bytes); values are strings, numbers, booleans, null, maps and lists"
        ),
    ),
    "set-value": Case(
        edit(
            "demo.yaml",
            "      namespace: demo\n",
            "      namespace: demo\n      tags: !!set {a, b}\n",
        ),
        problems(
            "environments/demo.yaml:8:7: apps.serviceradar.values.tags: unsupported YAML type (set); values are strings, numbers, booleans, null, maps and lists"
        ),
    ),
    "non-string-key-in-values": Case(
        edit("demo.yaml", "      namespace: demo\n", "      namespace: demo\n      1: one\n"),
        problems(
            "environments/demo.yaml:8:7: apps.serviceradar.values[1]: keys must be strings; quote the key"
        ),
    ),
    # --- hostile files: refused at once, at the problem ---
    "alias-bomb": Case(
        write("environments/demo.yaml", alias_bomb()),
        problems(
            "environments/demo.yaml:11:7: apps.serviceradar.values.l6: document expands to more than 2000000 nodes (aliases repeated too often?)"
        ),
    ),
    "10000-nested-lists": Case(
        write("environments/demo.yaml", deep_lists(10_000)),
        problems(
            f"environments/demo.yaml:5:74: apps.serviceradar.values.deep{'[0]' * 61}: nested more than 64 levels deep"
        ),
    ),
    "string-longer-than-the-limit": Case(
        write(
            "environments/demo.yaml",
            'namespace: demo\napps:\n  serviceradar:\n    values:\n      big: "'
            + "x" * 300_000
            + '"\n',
        ),
        problems(
            "environments/demo.yaml:5:12: apps.serviceradar.values.big: string of 300000 characters is longer than the limit of 262144"
        ),
    ),
    # --- the schema ---
    "unknown-key-typo": Case(
        edit("prod.yaml", "autoMerge: false", "autoMerg: false"),
        problems(
            "environments/prod.yaml:4:1: autoMerg: unknown key; did you mean 'autoMerge'? (allowed here: apps, autoMerge, destination, gates, ignoreDifferences, namespace, sync)"
        ),
    ),
    "unknown-key-in-project": Case(
        edit("_project.yaml", "  branchPrefix:", "  branchPrefx:"),
        problems(
            "environments/_project.yaml:9:3: project.branchPrefx: unknown key; did you mean 'branchPrefix'? (allowed here: argocd, branchPrefix, name, promoter, repoURL, scm)"
        ),
    ),
    "wrong-type-bool": Case(
        edit("prod.yaml", "autoMerge: false", "autoMerge: nope"),
        problems(
            "environments/prod.yaml:4:12: autoMerge: must be a boolean, not a string; write true or false"
        ),
    ),
    "wrong-type-number-for-string": Case(
        edit("_project.yaml", "version: 1.0.75", "version: 1.0"),
        problems(
            "environments/_project.yaml:26:16: apps.serviceradar.chart.version: must be a string, not a number; quote it to make it a string"
        ),
    ),
    "wrong-type-values": Case(
        edit("demo.yaml", "    values:\n", "    values: [1]\n    valuesx:\n"),
        problems(
            "environments/demo.yaml:6:5: apps.serviceradar.values: must be a map, not a list",
            "environments/demo.yaml:7:5: apps.serviceradar.valuesx: unknown key; did you mean 'values'? (allowed here: chart, enabled, image, releaseName, values)",
        ),
    ),
    "gate-key-invalid": Case(
        edit("staging.yaml", "active: [e2e]", "active: [E2E_tests]"),
        problems(
            "environments/staging.yaml:6:12: gates.active[0]: 'E2E_tests' gate keys are 1 to 63 characters of a-z, 0-9 and -"
        ),
    ),
    "gate-key-too-long": Case(
        edit("staging.yaml", "active: [e2e]", "active: [" + "e" * 64 + "]"),
        problems(
            "environments/staging.yaml:6:12: gates.active[0]: 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee' gate keys are 1 to 63 characters of a-z, 0-9 and -"
        ),
    ),
    "chart-version-not-semver": Case(
        edit("_project.yaml", "version: 1.0.75", 'version: "^1.0"'),
        problems(
            "environments/_project.yaml:26:16: apps.serviceradar.chart.version: '^1.0' must be an exact semver version such as 1.0.70 (no ranges, no leading v)"
        ),
    ),
    "image-tag-invalid": Case(
        edit("staging.yaml", "tag: latest", 'tag: "latest build"'),
        problems(
            "environments/staging.yaml:10:12: apps.serviceradar.image.tag: 'latest build' must be an OCI tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}) or a digest @sha256:<64 hex>"
        ),
    ),
    "secret-ref": Case(
        edit("_project.yaml", "secretRef: github-app-promoter", 'secretRef: "GH Secret"'),
        problems(
            "environments/_project.yaml:12:16: project.scm.secretRef: 'GH Secret' is not a DNS-1123 subdomain (lowercase letters, digits, - and .)"
        ),
    ),
    "argocd-namespace": Case(
        edit("_project.yaml", "namespace: argocd", 'namespace: "Argo CD"'),
        problems(
            "environments/_project.yaml:16:16: project.argocd.namespace: 'Argo CD' is not a DNS-1123 label (1 to 63 lowercase letters, digits and -)"
        ),
    ),
    "argocd-project": Case(
        edit("_project.yaml", "project: default", 'project: "x y"'),
        problems(
            "environments/_project.yaml:17:14: project.argocd.project: 'x y' is not a DNS-1123 subdomain (lowercase letters, digits, - and .)"
        ),
    ),
    "release-name-invalid": Case(
        edit(
            "_project.yaml",
            "  serviceradar:\n    chart:",
            "  serviceradar:\n    releaseName: Not-Valid\n    chart:",
        ),
        problems(
            "environments/_project.yaml:23:18: apps.serviceradar.releaseName: 'Not-Valid' is not a Helm release name (lowercase letters, digits and -, at most 53 characters)"
        ),
    ),
    "destination-server": Case(
        append("demo.yaml", "destination: {server: not a url}\n"),
        problems(
            "environments/demo.yaml:18:23: destination.server: 'not a url' must be the cluster's API server URL (https://...)"
        ),
    ),
    "ignore-differences-typo": Case(
        edit("_project.yaml", "        - /status", "        - /status\n      jsonPointer: [/spec]"),
        problems(
            "environments/_project.yaml:111:7: defaults.ignoreDifferences[0].jsonPointer: unknown key; did you mean 'jsonPointers'? (allowed here: group, jqPathExpressions, jsonPointers, kind, managedFieldsManagers, name, namespace)"
        ),
    ),
    "every-schema-problem-at-once": Case(
        both(
            edit("prod.yaml", "autoMerge: false", "autoMerg: false"),
            edit("staging.yaml", "active: [e2e]", "active: [E2E]"),
            edit("_project.yaml", "version: 1.0.75", 'version: "1.x"'),
        ),
        problems(
            "environments/_project.yaml:26:16: apps.serviceradar.chart.version: '1.x' must be an exact semver version such as 1.0.70 (no ranges, no leading v)",
            "environments/prod.yaml:4:1: autoMerg: unknown key; did you mean 'autoMerge'? (allowed here: apps, autoMerge, destination, gates, ignoreDifferences, namespace, sync)",
            "environments/staging.yaml:6:12: gates.active[0]: 'E2E' gate keys are 1 to 63 characters of a-z, 0-9 and -",
        ),
    ),
    # --- names ---
    "env-name-not-dns-label": Case(
        write("environments/Demo_2.yaml", "namespace: demo2\n"),
        problems(
            "environments/Demo_2.yaml:1:1: environment name (the file name) 'Demo_2' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
    ),
    "env-file-named-dot-dot": Case(
        write("environments/...yaml", "namespace: demo\n"),
        problems(
            "environments/...yaml:1:1: environment name (the file name) '..' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
    ),
    "env-file-hidden": Case(
        write("environments/.hidden.yaml", "namespace: demo\n"),
        problems(
            "environments/.hidden.yaml:1:1: environment name (the file name) '.hidden' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
    ),
    "env-file-upper-case": Case(
        write("environments/UPPER.yaml", "namespace: demo\n"),
        problems(
            "environments/UPPER.yaml:1:1: environment name (the file name) 'UPPER' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
    ),
    "env-file-with-space": Case(
        write("environments/has space.yaml", "namespace: demo\n"),
        problems(
            "environments/has space.yaml:1:1: environment name (the file name) 'has space' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
    ),
    "app-name-not-dns-label": Case(
        edit("_project.yaml", "apps:\n  serviceradar:", "apps:\n  Service_Radar:"),
        problems(
            "environments/_project.yaml:22:3: apps.Service_Radar: app name 'Service_Radar' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
            "environments/demo.yaml:5:3: apps.serviceradar: app 'serviceradar' is not defined in apps of _project.yaml",
            "environments/prod.yaml:6:3: apps.serviceradar: app 'serviceradar' is not defined in apps of _project.yaml",
            "environments/staging.yaml:8:3: apps.serviceradar: app 'serviceradar' is not defined in apps of _project.yaml",
        ),
    ),
    "app-name-with-a-path": Case(
        app_named("../evil"),
        problems(
            "environments/_project.yaml:22:3: apps[\"../evil\"]: app name '../evil' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
    ),
    "app-name-dot-dot": Case(
        app_named(".."),
        problems(
            "environments/_project.yaml:22:3: apps[\"..\"]: app name '..' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
    ),
    "app-name-climbing-out": Case(
        app_named("evil/../../x"),
        problems(
            "environments/_project.yaml:22:3: apps[\"evil/../../x\"]: app name 'evil/../../x' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
    ),
    "app-name-with-a-slash": Case(
        app_named("a/b"),
        problems(
            "environments/_project.yaml:22:3: apps[\"a/b\"]: app name 'a/b' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
    ),
    "namespace-not-dns-label": Case(
        edit("demo.yaml", "namespace: demo\n", "namespace: Demo\n"),
        problems(
            "environments/demo.yaml:3:12: namespace: namespace 'Demo' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
    ),
    "namespace-missing": Case(
        edit("demo.yaml", "namespace: demo\n", ""),
        problems("environments/demo.yaml:1:1: namespace is required; set it here or in defaults"),
    ),
    "namespace-missing-in-two-environments": Case(
        both(
            edit("demo.yaml", "namespace: demo\n", ""),
            edit("prod.yaml", "namespace: serviceradar\n", ""),
        ),
        problems(
            "environments/demo.yaml:1:1: namespace is required; set it here or in defaults",
            "environments/prod.yaml:1:1: namespace is required; set it here or in defaults",
        ),
    ),
    "one-release-twice-in-the-namespace-of-the-defaults": Case(
        both(
            edit("demo.yaml", "namespace: demo\n", ""),
            edit("prod.yaml", "namespace: serviceradar\n", ""),
            edit("_project.yaml", "defaults:\n", "defaults:\n  namespace: shared\n"),
        ),
        problems(
            "environments/_project.yaml:90:14: defaults.namespace: app 'serviceradar' in environment 'prod' installs release 'serviceradar' into namespace 'shared' of the same cluster as app 'serviceradar' in environment 'demo'; use another namespace or releaseName"
        ),
    ),
    "branch-leading-dash": Case(
        edit("_project.yaml", "branchPrefix: environment/", "branchPrefix: -env/"),
        problems(
            "environments/_project.yaml:9:17: project.branchPrefix: branch '-env/' must not start with '-'"
        ),
    ),
    "branch-colon": Case(
        edit("_project.yaml", "branchPrefix: environment/", 'branchPrefix: "env:"'),
        problems(
            "environments/_project.yaml:9:17: project.branchPrefix: branch 'env:' must not contain ':'"
        ),
    ),
    "branch-dot-dot": Case(
        edit("_project.yaml", "branchPrefix: environment/", "branchPrefix: env..x/"),
        problems(
            "environments/_project.yaml:9:17: project.branchPrefix: branch 'env..x/' must not contain '..'"
        ),
    ),
    "branch-prefix-with-no-room-for-a-name": Case(
        edit("_project.yaml", "branchPrefix: environment/", "branchPrefix: " + "p" * 94 + "/"),
        problems(
            "environments/_project.yaml:9:17: project.branchPrefix: branchPrefix 'pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp/' is 95 characters, so every branch (the prefix and an environment name) is longer than 95; keep it at 94 or fewer (the Promoter adds -next and allows 100)"
        ),
    ),
    "branch-too-long": Case(
        edit("_project.yaml", "branchPrefix: environment/", "branchPrefix: " + "p" * 90 + "/"),
        problems(
            "environments/staging.yaml:1:1: branch 'pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp/staging' is 98 characters; keep it at 95 or fewer (the Promoter adds -next and allows 100)"
        ),
    ),
    "github-owner": Case(
        edit("_project.yaml", "carverauto/serviceradar-gitops.git", "my_org/repo.git"),
        problems(
            "environments/_project.yaml:8:12: project.repoURL: my_org/repo is not a valid github repository path for the Promoter"
        ),
    ),
    "scm-setting-for-another-provider": Case(
        edit(
            "_project.yaml",
            "    installationID: 99273302\n",
            "    installationID: 99273302\n    projectId: 7\n",
        ),
        problems(
            "environments/_project.yaml:15:16: project.scm.projectId: only applies to gitlab, not github"
        ),
    ),
    "scm-setting-of-github-for-gitlab": Case(
        spec(GITLAB_WITH_A_GITHUB_SETTING),
        problems(
            "environments/_project.yaml:4:74: project.scm.appID: only applies to github, not gitlab"
        ),
    ),
    "two-applications-with-one-name": Case(
        spec(TWO_APPLICATIONS_WITH_ONE_NAME),
        problems(
            "environments/stage-prod.yaml:1:1: app 'web' in environment 'stage-prod' makes the Application 'web-stage-prod', as app 'web-stage' in environment 'prod' does; rename one"
        ),
    ),
    # --- the promotion order ---
    "order-names-missing-env": Case(
        edit("_project.yaml", "order: [staging, demo, prod]", "order: [staging, demo, qa, prod]"),
        problems(
            "environments/_project.yaml:114:26: promotion.order[2]: environment 'qa' has no file environments/qa.yaml"
        ),
    ),
    "order-names-env-twice": Case(
        edit(
            "_project.yaml", "order: [staging, demo, prod]", "order: [staging, demo, staging, prod]"
        ),
        problems(
            "environments/_project.yaml:114:26: promotion.order[2]: environment 'staging' is listed twice; keep one"
        ),
    ),
    "order-leaves-env-out": Case(
        edit("_project.yaml", "order: [staging, demo, prod]", "order: [staging, demo]"),
        problems(
            "environments/prod.yaml:1:1: environment 'prod' is not in promotion.order of environments/_project.yaml; add it there or remove this file"
        ),
    ),
    "order-names-a-path": Case(
        order_with("../evil"),
        problems(
            "environments/_project.yaml:114:32: promotion.order[3]: environment name '../evil' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
    ),
    "order-names-an-absolute-path": Case(
        order_with("/etc"),
        problems(
            "environments/_project.yaml:114:32: promotion.order[3]: environment name '/etc' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
    ),
    "order-names-dot-dot": Case(
        order_with(".."),
        problems(
            "environments/_project.yaml:114:32: promotion.order[3]: environment name '..' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
    ),
    "order-names-a-path-inside": Case(
        order_with("a/../../b"),
        problems(
            "environments/_project.yaml:114:32: promotion.order[3]: environment name 'a/../../b' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
    ),
    "order-names-dots": Case(
        order_with("a..b"),
        problems(
            "environments/_project.yaml:114:32: promotion.order[3]: environment name 'a..b' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
    ),
    "order-names-upper-case": Case(
        order_with("UPPER"),
        problems(
            "environments/_project.yaml:114:32: promotion.order[3]: environment name 'UPPER' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
    ),
    # --- merging apps into environments ---
    "app-override-for-undefined-app": Case(
        append("prod.yaml", "  grafana:\n    enabled: false\n"),
        problems(
            "environments/prod.yaml:16:3: apps.grafana: app 'grafana' is not defined in apps of _project.yaml"
        ),
    ),
    "tag-path-through-a-scalar": Case(
        edit("_project.yaml", "tagPath: global.imageTag", "tagPath: kv.enabled.tag"),
        problems(
            "environments/_project.yaml:30:16: apps.serviceradar.image.tagPath: cannot set values.kv.enabled.tag: values.kv.enabled is not a map (environments/_project.yaml:36:18 sets it); point tagPath elsewhere or make that a map"
        ),
    ),
    "tag-path-through-a-value-of-one-environment": Case(
        both(
            edit("_project.yaml", "tagPath: global.imageTag", "tagPath: foo.tag"),
            edit("demo.yaml", "      namespace: demo\n", "      namespace: demo\n      foo: 1\n"),
        ),
        problems(
            "environments/_project.yaml:30:16: apps.serviceradar.image.tagPath: cannot set values.foo.tag: values.foo is not a map (environments/demo.yaml:8:12 sets it); point tagPath elsewhere or make that a map"
        ),
    ),
    "tag-and-pull-policy-paths-overlap": Case(
        edit(
            "_project.yaml",
            "pullPolicyPath: global.imagePullPolicy",
            "pullPolicyPath: global.imageTag.policy",
        ),
        problems(
            "environments/_project.yaml:31:23: apps.serviceradar.image.pullPolicyPath: the tag goes to values.global.imageTag and the pull policy to values.global.imageTag.policy: give each a place of its own (image.tagPath, image.pullPolicyPath)"
        ),
    ),
    "default-tag-path-through-a-scalar": Case(
        both(
            edit("_project.yaml", "      tagPath: global.imageTag\n", ""),
            edit(
                "demo.yaml",
                "      namespace: demo\n",
                "      namespace: demo\n      image: nginx\n",
            ),
        ),
        problems(
            "environments/demo.yaml:8:14: apps.serviceradar.values.image: image.tagPath is not set, so the tag goes to values.image.tag, but values.image is not a map; set image.tagPath to where the chart takes it"
        ),
    ),
    "global-not-a-map": Case(
        both(
            edit("_project.yaml", "tagPath: global.imageTag", "tagPath: image.tag"),
            edit(
                "_project.yaml",
                "pullPolicyPath: global.imagePullPolicy",
                "pullPolicyPath: image.pullPolicy",
            ),
            edit(
                "demo.yaml", "      namespace: demo\n", "      namespace: demo\n      global: [1]\n"
            ),
        ),
        problems(
            "environments/demo.yaml:8:7: apps.serviceradar.values.global: global must be a map (Helm shares it with every subchart)"
        ),
    ),
    "tag-path-global": Case(
        both(
            edit("_project.yaml", "tagPath: global.imageTag", "tagPath: global"),
            edit("_project.yaml", "pullPolicyPath: global.imagePullPolicy", "pullPolicyPath: pp"),
        ),
        problems(
            "environments/_project.yaml:30:16: apps.serviceradar.image.tagPath: the tag would replace values.global, the map Helm shares with every subchart; set tagPath to a path under it (global.<name>) or to another key"
        ),
    ),
    "pull-policy-path-global": Case(
        both(
            edit("_project.yaml", "tagPath: global.imageTag", "tagPath: image.tag"),
            edit(
                "_project.yaml", "pullPolicyPath: global.imagePullPolicy", "pullPolicyPath: global"
            ),
        ),
        problems(
            "environments/_project.yaml:31:23: apps.serviceradar.image.pullPolicyPath: the pull policy would replace values.global, the map Helm shares with every subchart; set pullPolicyPath to a path under it (global.<name>) or to another key"
        ),
    ),
    "release-name-longer-than-helm-allows": Case(
        rename_app("s" * 54),
        problems(
            "environments/_project.yaml:22:3: apps.ssssssssssssssssssssssssssssssssssssssssssssssssssssss: the release name 'ssssssssssssssssssssssssssssssssssssssssssssssssssssss' is longer than Helm's 53 characters; set a shorter releaseName"
        ),
    ),
    "one-release-twice-in-one-namespace": Case(
        edit("prod.yaml", "namespace: serviceradar\n", "namespace: demo\n"),
        problems(
            "environments/prod.yaml:3:12: namespace: app 'serviceradar' in environment 'prod' installs release 'serviceradar' into namespace 'demo' of the same cluster as app 'serviceradar' in environment 'demo'; use another namespace or releaseName"
        ),
    ),
    "chart-removed-by-a-null": Case(
        append("demo.yaml", "    chart: {version: null}\n"),
        problems(
            "environments/demo.yaml:5:3: apps.serviceradar: chart.version of app 'serviceradar' was removed by a null"
        ),
    ),
    # --- integers that Helm and Argo CD would change ---
    "integer-2^53-in-an-environment": Case(
        edit(
            "demo.yaml",
            "      namespace: demo\n",
            "      namespace: demo\n      big: 9007199254740992\n",
        ),
        problems(
            'environments/demo.yaml:8:12: apps.serviceradar.values.big: 9007199254740992 is outside ±(2^53-1): Helm and Argo CD read values as float64 and would change it; quote it to pass it exactly, as a string: "9007199254740992"'
        ),
    ),
    "integer--2^53-in-the-project": Case(
        edit("_project.yaml", "        port: 5432\n", "        port: -9007199254740992\n"),
        problems(
            'environments/_project.yaml:50:15: apps.serviceradar.values.cnpg.port: -9007199254740992 is outside ±(2^53-1): Helm and Argo CD read values as float64 and would change it; quote it to pass it exactly, as a string: "-9007199254740992"'
        ),
    ),
    "integer-beyond-2^53-in-defaults": Case(
        edit(
            "_project.yaml",
            "defaults:\n",
            "defaults:\n  apps:\n    serviceradar:\n      values: {ids: [1, 18446744073709551615]}\n",
        ),
        problems(
            'environments/_project.yaml:92:25: defaults.apps.serviceradar.values.ids[1]: 18446744073709551615 is outside ±(2^53-1): Helm and Argo CD read values as float64 and would change it; quote it to pass it exactly, as a string: "18446744073709551615"'
        ),
    ),
    # --- one run reports every problem: the schema's and the cross-file checks' ---
    "schema-and-cross-file-problems-at-once": Case(
        both(
            edit(
                "staging.yaml",
                "namespace: demo-staging\n",
                'namespace: demo-staging\nautoMerge: "yes"\n',
            ),
            edit(
                "_project.yaml",
                "order: [staging, demo, prod]",
                "order: [staging, demo, prod, prod]",
            ),
        ),
        problems(
            "environments/_project.yaml:114:32: promotion.order[3]: environment 'prod' is listed twice; keep one",
            "environments/staging.yaml:4:12: autoMerge: must be a boolean, not a string; write true or false",
        ),
    ),
    # --- paths out of the repository ---
    "spec-file-linked-outside": Case(
        link_demo_outside,
        problems("environments/demo.yaml: is a link to outside the repository; refused"),
    ),
    "spec-file-link-loop": Case(
        lambda root: (root / "environments" / "qa.yaml").symlink_to("qa.yaml"),
        problems(
            "environments/qa.yaml: is a link that loops; point it at a file",
            "environments/qa.yaml:1:1: environment 'qa' is not in promotion.order of environments/_project.yaml; add it there or remove this file",
        ),
    ),
    "environments-linked-outside": Case(
        link_environments_outside,
        problems(
            "environments/_project.yaml: is a link to outside the repository; refused",
            "environments/demo.yaml: is a link to outside the repository; refused",
            "environments/prod.yaml: is a link to outside the repository; refused",
            "environments/staging.yaml: is a link to outside the repository; refused",
        ),
    ),
    "template-linked-outside": Case(
        link_template_outside("file"),
        problems(
            "templates/environment/README.md.j2: is a link to outside the repository; refused",
            where="templates/",
        ),
    ),
    "template-directory-linked-outside": Case(
        link_template_outside("directory"),
        problems(
            "templates/environment/extra: is a link to outside the repository; refused",
            where="templates/",
        ),
    ),
    "templates-linked-outside": Case(
        link_template_outside("templates"),
        problems(
            "templates/README.md.j2: is a link to outside the repository; refused",
            "templates/demo.yaml: is a link to outside the repository; refused",
            "templates/secret.txt: is a link to outside the repository; refused",
            "templates/sub/README.md.j2: is a link to outside the repository; refused",
            where="templates/",
        ),
    ),
    "rendered-linked-outside": Case(
        link_rendered_outside,
        "error: rendered is not a plain directory (a link or a file); gitops-gen replaces rendered/ as a whole, so remove it or make it a directory\n",
    ),
    "include-escaping-up": Case(
        include("../../outside/secret.txt"),
        problems(
            "templates/environment/README.md.j2:1:1: includes '../../outside/secret.txt', which is neither in templates/ nor a built-in template (names are relative to templates/, without ..); fix the template or the spec",
            where="templates/",
        ),
    ),
    "include-escaping-one-up": Case(
        include("../outside/secret.txt"),
        problems(
            "templates/environment/README.md.j2:1:1: includes '../outside/secret.txt', which is neither in templates/ nor a built-in template (names are relative to templates/, without ..); fix the template or the spec",
            where="templates/",
        ),
    ),
    "include-absolute": Case(
        include("/etc/passwd"),
        problems(
            "templates/environment/README.md.j2:1:1: includes 'etc/passwd', which is neither in templates/ nor a built-in template (names are relative to templates/, without ..); fix the template or the spec",
            where="templates/",
        ),
    ),
    "include-through-a-name": Case(
        include("environment/../../../outside/secret.txt"),
        problems(
            "templates/environment/README.md.j2:1:1: includes 'environment/../../../outside/secret.txt', which is neither in templates/ nor a built-in template (names are relative to templates/, without ..); fix the template or the spec",
            where="templates/",
        ),
    ),
    "include-with-backslashes": Case(
        include("..\\\\outside\\\\secret.txt"),
        problems(
            "templates/environment/README.md.j2:1:1: includes '..\\\\outside\\\\secret.txt', which is neither in templates/ nor a built-in template (names are relative to templates/, without ..); fix the template or the spec",
            where="templates/",
        ),
    ),
    # --- templates ---
    "template-undefined-variable": Case(
        write("templates/environment/README.md.j2", "# {{ env.name }}\n\nOwner: {{ env.owner }}\n"),
        problems(
            "templates/environment/README.md.j2:3:1: undefined variable: 'generator.spec.model.Environment object' has no attribute 'owner'; fix the template or the spec",
            where="templates/",
        ),
    ),
    "template-syntax-error": Case(
        write("templates/environment/README.md.j2", "# {{ env.name }}\n{% if %}\n"),
        problems(
            "templates/environment/README.md.j2:2:1: template syntax: Expected an expression, got 'end of statement block'",
            where="templates/",
        ),
    ),
    "template-raises": Case(
        write("templates/environment/README.md.j2", "# {{ env.name }}\n{{ 1 // 0 }}\n"),
        problems(
            "templates/environment/README.md.j2:2:1: ZeroDivisionError: integer division or modulo by zero; fix the template or the spec",
            where="templates/",
        ),
    ),
    "template-escapes-the-sandbox": Case(
        write(
            "templates/environment/README.md.j2",
            "# {{ env.name }}\n\n{{ env.__class__.__mro__ }}\n",
        ),
        problems(
            "templates/environment/README.md.j2:3:1: refused by the template sandbox: access to attribute '__class__' of 'Environment' object is unsafe; fix the template or the spec",
            where="templates/",
        ),
    ),
    "template-makes-an-invalid-object": Case(
        write(
            "templates/bootstrap/git-repository.yaml.j2",
            "apiVersion: promoter.argoproj.io/v1alpha1\nkind: GitRepository\nmetadata:\n  name: {{ project.name }}\n  namespace: x\nspec:\n  github: {owner: a, name: b}\n",
        ),
        "error: templates/bootstrap/git-repository.yaml.j2: produced an invalid GitRepository: spec: 'scmProviderRef' is a required property; spec: {'github': {'owner': 'a', 'name': 'b'}} does not have enough properties\n",
    ),
    # --- the other commands ---
    "init-name-longer-than-53": Case(
        lambda root: None,
        "error: --name: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' has 54 characters; a project name has at most 53, Helm's limit for the release name the app takes from it (the directory's name is the default)\n",
        commands=(("init", "new", "--name", "a" * 54),),
    ),
    "init-name-not-a-label": Case(
        lambda root: None,
        "error: --name: '-x' is not a DNS-1123 label: use lowercase letters, digits and '-', starting and ending with a letter or digit (the directory's name is the default)\n",
        commands=(("init", "new", "--name", "-x"),),
    ),
    "init-chart-not-oci": Case(
        lambda root: None,
        "error: --chart: 'https://charts.example.com/web' is not oci://REGISTRY/PATH/CHART (for example oci://ghcr.io/carverauto/charts/serviceradar)\n",
        commands=(("init", "new", "--chart", "https://charts.example.com/web"),),
    ),
    "init-version-not-semver": Case(
        lambda root: None,
        "error: --version: '1.2' is not an exact semver version such as 1.0.70\n",
        commands=(("init", "new", "--version", "1.2"),),
    ),
    "init-into-an-existing-spec": Case(
        lambda root: None,
        "error: example: already holds environments/, rendered/; init never overwrites. Move them away or run init in a new directory.\n",
        commands=(("init", "."),),
    ),
    "schema-output-to-a-directory": Case(
        lambda root: None,
        "Usage: gitops-gen schema [OPTIONS]\nTry 'gitops-gen schema --help' for help.\n\nError: Invalid value for '-o' / '--output': File 'environments' is a directory.\n",
        commands=(("schema", "--output", "environments"),),
    ),
    "tags-every-bad-option": Case(
        lambda root: None,
        "error: --version: '1.0' is not an exact semver version such as 1.0.70\nerror: --commit: 'abc123' is not a full commit name (40 hex digits, or 64 for SHA-256); pass the output of `git rev-parse HEAD`\nerror: --extra: 'a/b' is not a valid OCI tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})\n",
        commands=(("tags", "--version", "1.0", "--commit", "abc123", "--extra", "a/b"),),
    ),
    "bump-not-semver": Case(
        lambda root: None,
        "error: VERSION: '1.0' is not an exact semver version such as 1.0.70\n",
        commands=(("bump", "1.0"),),
    ),
    "bump-on-a-bad-spec": Case(
        edit("demo.yaml", "namespace: demo\n", "namespace: Demo\n"),
        problems(
            "environments/demo.yaml:3:12: namespace: namespace 'Demo' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
        commands=(("bump", "1.0.76"),),
    ),
    "publish-stale-rendered": Case(
        both(edit("demo.yaml", "demo.serviceradar.cloud", "demo.example.org"), commit()),
        "error: rendered/ is stale for HEAD ({head}): 1 file differs (first: rendered/environments/demo/serviceradar/values.yaml); run `gitops-gen render`, commit the result, then publish\n",
        commands=(("publish",),),
        git=True,
    ),
    "publish-bad-spec-at-head": Case(
        both(edit("demo.yaml", "namespace: demo\n", "namespace: [demo]\n"), commit()),
        problems("environments/demo.yaml:3:1: namespace: must be a string, not a list"),
        commands=(("publish",),),
        git=True,
    ),
    "publish-uncommitted-spec": Case(
        edit("demo.yaml", "demo.serviceradar.cloud", "demo.example.org"),
        "error: uncommitted changes in environments/: publish takes HEAD ({head}) as the dry commit; commit or stash them first\n",
        commands=(("publish",),),
        git=True,
    ),
    "publish-unknown-env": Case(
        lambda root: None,
        "error: --env qa: no such environment; known: staging, demo, prod\n",
        commands=(("publish", "--env", "qa"),),
        git=True,
    ),
    "publish-bad-author": Case(
        lambda root: None,
        "error: --author 'nobody': expected 'Name <email>'\n",
        commands=(("publish", "--author", "nobody"),),
        git=True,
    ),
    "publish-outside-git": Case(
        lambda root: None, "error: {root} is not a git repository\n", commands=(("publish",),)
    ),
    "status-bad-spec": Case(
        both(edit("demo.yaml", "namespace: demo\n", "namespace: Demo\n"), commit()),
        problems(
            "environments/demo.yaml:3:12: namespace: namespace 'Demo' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ),
        commands=(("status",),),
        git=True,
    ),
    "wait-timeout-without-unit": Case(
        lambda root: None,
        "error: --timeout 'soon': expected a duration in h, m, s or ms, such as 30m or 1h30m\n",
        commands=(("wait", "--env", "demo", "--dry-sha", SHA, "--timeout", "soon"),),
        git=True,
    ),
    "wait-short-sha": Case(
        lambda root: None,
        "error: --dry-sha 'abc123': expected a full commit SHA (40 or 64 hex digits)\n",
        commands=(("wait", "--env", "demo", "--dry-sha", "abc123"),),
        git=True,
    ),
    "wait-unknown-env": Case(
        lambda root: None,
        "error: --env qa: no such environment; known: staging, demo, prod\n",
        commands=(("wait", "--env", "qa", "--dry-sha", SHA),),
        git=True,
    ),
    "commit-status-bad-url": Case(
        lambda root: None,
        "error: --url 'ftp://example.com/x': expected an http(s) URL\n",
        commands=(
            (
                "commit-status",
                "--env",
                "demo",
                "--key",
                "e2e",
                "--phase",
                "success",
                "--sha",
                SHA,
                "--url",
                "ftp://example.com/x",
            ),
        ),
        git=True,
    ),
    "commit-status-bad-key": Case(
        lambda root: None,
        "error: --key 'E2E': use 1 to 63 characters of a-z, 0-9 and '-' (not at the ends)\n",
        commands=(
            ("commit-status", "--env", "demo", "--key", "E2E", "--phase", "success", "--sha", SHA),
        ),
        git=True,
    ),
    "diff-unknown-revision": Case(
        lambda root: None,
        "error: 'no-such-rev' is not a commit in this repository; pass a branch, tag or commit\n",
        commands=(("diff", "no-such-rev"),),
        git=True,
    ),
    "diff-bad-spec-at-a-revision": Case(
        both(edit("demo.yaml", "namespace: demo\n", "namespace: [demo]\n"), commit("Break demo")),
        problems("HEAD:environments/demo.yaml:3:1: namespace: must be a string, not a list"),
        commands=(("diff", "HEAD~1", "HEAD"),),
        git=True,
    ),
}


# --- the tests ------------------------------------------------------------------------------------


def repository_state(root: Path) -> dict[str, object]:
    """Everything a command must leave alone: files (outside .git), refs, notes and HEAD."""
    files = {
        path.relative_to(root).as_posix(): (
            ("link", os.readlink(path)) if path.is_symlink() else path.read_bytes()
        )
        for path in sorted(root.rglob("*"))
        if ".git" not in path.relative_to(root).parts and (path.is_file() or path.is_symlink())
    }
    state: dict[str, object] = {"files": files}
    if (root / ".git").exists():
        state["refs"] = git(root, "for-each-ref", "--format=%(refname) %(objectname)")
        state["HEAD"] = (root / ".git" / "HEAD").read_text()
    return state


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A copy of the example, with room beside it for what must stay outside it."""
    root = tmp_path / "example"
    root.mkdir()
    shutil.copytree(EXAMPLE_SPEC, root / "environments")
    shutil.copytree(REPO / "rendered", root / "rendered")
    return root


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(repository: Path, name: str) -> None:
    case = CASES[name]
    if case.git:
        init_dry_repo(repository)
    case.arrange(repository)
    before = repository_state(repository)
    beside = repository.parent / "outside"
    beside_before = repository_state(beside) if beside.exists() else None
    templates = Path(generator.__file__).parent / "render" / "templates"
    expected = case.stderr.replace("{root}", str(repository)).replace("{templates}", str(templates))
    if case.git:
        expected = expected.replace("{head}", git(repository, "rev-parse", "--short=7", "HEAD"))
    for command in case.commands:
        result = CliRunner().invoke(main, ["-C", str(repository), *command], prog_name="gitops-gen")
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert "Traceback" not in result.output
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        assert result.stderr == expected, command
        assert SECRET not in result.output
        assert repository_state(repository) == before, f"{command[0]} changed the repository"
        if beside_before is not None:
            assert repository_state(beside) == beside_before
