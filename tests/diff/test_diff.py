"""gitops-gen diff on real git history: revisions, promotions, drift between environments."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator import yamlemit, yamlio
from generator.cli import main
from generator.diff.compare import Diff, diff_repository
from generator.errors import SpecError, UsageError
from generator.git.revisions import at_revision, default_branch, working_tree
from generator.render.repository import plan_repository
from tests.conftest import EXAMPLE_SPEC, REPO, git, snapshot_tree

FIXED_DATE = "2025-12-01T12:00:00+00:00"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example committed on main, with fixed dates so that commit names are reproducible."""
    monkeypatch.setenv("GIT_AUTHOR_DATE", FIXED_DATE)
    monkeypatch.setenv("GIT_COMMITTER_DATE", FIXED_DATE)
    root = tmp_path / "gitops"
    root.mkdir()
    shutil.copytree(EXAMPLE_SPEC, root / "environments")
    git(root, "init", "-q")
    commit_all(root, "Describe the ServiceRadar environments")
    return root


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new))


def bump(root: Path, old: str = "1.0.75", new: str = "1.0.76") -> None:
    edit(root, "environments/_project.yaml", f"version: {old}", f"version: {new}")
    edit(root, "environments/_project.yaml", f"tag: v{old}", f"tag: v{new}")


def rows(diff: Diff) -> list[tuple[str, str | None, str | None, str | None, tuple[str, ...]]]:
    return [(r.kind, r.subject, r.before, r.after, r.environments) for r in diff.summary_rows()]


def all_paths(diff: Diff) -> dict[str, list[str]]:
    return {s.name: [c.path for o in s.objects for c in o.changes] for s in diff.sections}


def run(root: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["-C", str(root), "diff", *args])


# --- diff BASE HEAD -----------------------------------------------------------------------------


def test_version_bump_is_exactly_that_in_the_summary(repo: Path) -> None:
    bump(repo)
    diff = diff_repository(repo, ["main"])
    assert rows(diff) == [
        ("chart-version", "serviceradar", "1.0.75", "1.0.76", ("staging", "demo", "prod")),
        # staging runs the mutable `latest`, so only demo and prod change their image tag.
        ("image-tag", "serviceradar", "v1.0.75", "v1.0.76", ("demo", "prod")),
    ]
    assert [s.status for s in diff.environments] == ["changed", "changed", "changed"]
    assert diff.bootstrap is not None and diff.bootstrap.status == "unchanged"
    paths = all_paths(diff)
    assert "global.imageTag" in paths["prod"]
    assert "dependencies[name=serviceradar].version" in paths["prod"]
    assert "global.imageTag" not in paths["staging"]


def test_between_two_commits_never_touches_the_working_tree_or_index(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "release")
    bump(repo)
    commit_all(repo, "Release 1.0.76")
    git(repo, "checkout", "-q", "main")
    edit(repo, "environments/prod.yaml", "storageSize: 200Gi", "storageSize: 300Gi")  # uncommitted
    before = snapshot_tree(repo)
    result = run(repo, "main", "release", "--format", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["base"]["label"] == "main" and data["head"]["label"] == "release"
    assert data["head"]["commit"] == git(repo, "rev-parse", "release")
    assert [(r["kind"], r["before"], r["after"]) for r in data["summary"]] == [
        ("chart-version", "1.0.75", "1.0.76"),
        ("image-tag", "v1.0.75", "v1.0.76"),
    ]
    # The uncommitted storage change is in neither revision.
    assert "300Gi" not in result.stdout
    assert snapshot_tree(repo) == before


def test_default_base_is_the_merge_base_with_the_default_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    bump(repo)
    commit_all(repo, "Release 1.0.76")
    git(repo, "checkout", "-q", "main")
    edit(repo, "environments/demo.yaml", "demo.serviceradar.cloud", "demo.example.com")
    commit_all(repo, "Move demo")
    git(repo, "checkout", "-q", "feature")
    diff = diff_repository(repo)
    # main moved on after the branch point; its change must not show as a revert on the branch.
    assert "demo.example.com" not in json.dumps(all_paths(diff))
    assert all("ingress.host" not in p for ps in all_paths(diff).values() for p in ps)
    assert [r[0] for r in rows(diff)] == ["chart-version", "image-tag"]
    assert diff.base.commit == git(repo, "merge-base", "HEAD", "main")
    assert diff.head.commit is None  # the working tree
    assert "merge-base of HEAD and main" in diff.notes[0]


def test_default_branch_follows_origin_head(repo: Path) -> None:
    assert default_branch(repo) == "main"
    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "update-ref", "refs/remotes/origin/trunk", sha)
    git(repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk")
    assert default_branch(repo) == "origin/trunk"


def test_default_branch_falls_back_to_origin_main_then_origin_master(repo: Path) -> None:
    """Without origin/HEAD (as in many CI checkouts): origin/main, origin/master, main, master."""
    first = git(repo, "rev-parse", "HEAD")
    git(repo, "update-ref", "refs/remotes/origin/master", first)
    assert default_branch(repo) == "origin/master"
    git(repo, "update-ref", "refs/remotes/origin/main", first)
    assert default_branch(repo) == "origin/main"
    # The base is the merge-base with origin/main, not with the local main that moved on.
    bump(repo)
    commit_all(repo, "Release 1.0.76 on main")
    git(repo, "checkout", "-q", "-b", "feature")
    diff = diff_repository(repo)
    assert diff.base.commit == first
    assert "merge-base of HEAD and origin/main" in diff.notes[0]
    assert [r[0] for r in rows(diff)] == ["chart-version", "image-tag"]
    git(repo, "update-ref", "-d", "refs/remotes/origin/main")
    git(repo, "update-ref", "-d", "refs/remotes/origin/master")
    assert default_branch(repo) == "main"
    git(repo, "branch", "-q", "-m", "main", "master")
    assert default_branch(repo) == "master"
    git(repo, "branch", "-q", "-m", "master", "trunk")
    result = run(repo)
    assert result.exit_code == 2
    assert "origin/HEAD, origin/main, origin/master, main or master" in result.output


def test_no_differences_exit_zero(repo: Path) -> None:
    result = run(repo)
    assert result.exit_code == 0, result.output
    assert "No environment changes." in result.stdout
    result = run(repo, "HEAD", "HEAD", "--format", "markdown")
    assert result.exit_code == 0
    assert "<details>" not in result.stdout


def _reorder(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _reorder(data[k]) for k in sorted(data, reverse=True)}
    if isinstance(data, list):
        return [_reorder(v) for v in data]
    return data


def test_reordering_keys_in_the_spec_shows_no_difference(repo: Path) -> None:
    for path in sorted((repo / "environments").glob("*.yaml")):
        data = yamlio.load(path.read_text())
        reordered = yamlemit.dump_document(_reorder(data), sort_keys=False)
        assert reordered.splitlines() != path.read_text().splitlines()
        path.write_text(reordered)
    commit_all(repo, "Reorder keys")
    diff = diff_repository(repo, ["HEAD~1", "HEAD"])
    assert not diff.changed
    assert rows(diff) == []
    assert run(repo, "HEAD~1", "HEAD").exit_code == 0


def test_value_change_shows_the_path(repo: Path) -> None:
    edit(repo, "environments/staging.yaml", "staging.serviceradar.cloud", "stg.example.com")
    result = run(repo)
    assert result.exit_code == 1
    assert (
        "~ serviceradar.ingress.host: staging.serviceradar.cloud → stg.example.com" in result.stdout
    )
    diff = diff_repository(repo)
    assert [s.status for s in diff.environments] == ["changed", "unchanged", "unchanged"]
    assert rows(diff) == []  # not a headline change
    assert all_paths(diff)["staging"] == ["serviceradar.ingress.host"]


def test_added_and_removed_environment(repo: Path) -> None:
    (repo / "environments/qa.yaml").write_text("namespace: qa\n")
    edit(
        repo,
        "environments/_project.yaml",
        "order: [staging, demo, prod]",
        "order: [qa, staging, prod]",
    )
    (repo / "environments/demo.yaml").unlink()
    diff = diff_repository(repo)
    # staging and prod deploy nothing new, but their READMEs name other gates before them.
    assert [(s.name, s.status, s.readme) for s in diff.environments] == [
        ("qa", "added", False),
        ("staging", "changed", True),
        ("prod", "changed", True),
        ("demo", "removed", False),
    ]
    assert diff.environments[1].objects == diff.environments[2].objects == ()
    assert ("environment-added", None, None, None, ("qa",)) in rows(diff)
    assert ("environment-removed", None, None, None, ("demo",)) in rows(diff)
    qa = diff.environments[0]
    assert {o.id: o.status for o in qa.objects} == {
        "serviceradar/Chart.yaml": "added",
        "serviceradar/values.yaml": "added",
        "Application argocd/serviceradar-qa": "added",
    }
    added = {c.path: c.after for o in qa.objects for c in o.changes if c.op == "added"}
    assert added["spec.destination.namespace"] == "qa"
    demo = diff.environments[3]
    assert all(o.status == "removed" for o in demo.objects)
    assert diff.bootstrap is not None
    bootstrap = {o.id: [c.path for c in o.changes] for o in diff.bootstrap.objects}
    assert (
        "spec.environments[branch=environment/qa].autoMerge"
        in bootstrap["PromotionStrategy promoter-system/serviceradar"]
    )
    assert "resources" in bootstrap["Kustomization"]


def test_added_and_removed_app(repo: Path) -> None:
    edit(
        repo,
        "environments/_project.yaml",
        "\ndefaults:\n",
        "  web:\n    chart:\n      repository: oci://ghcr.io/carverauto/charts\n"
        "      name: web\n      version: 2.0.0\n    image:\n      tag: v2.0.0\n\ndefaults:\n",
    )
    edit(repo, "environments/prod.yaml", "apps:\n", "apps:\n  web:\n    enabled: false\n")
    diff = diff_repository(repo)
    assert rows(diff) == [
        ("app-added", "web", None, "chart 2.0.0, image v2.0.0", ("staging", "demo")),
        # The new Applications join the bootstrap kustomization.
        ("object-changed", "Kustomization", None, None, ("bootstrap",)),
    ]
    prod = diff.environments[2]  # deploys nothing new; its README says web is disabled there
    assert (prod.status, prod.readme, prod.summary, prod.objects) == ("changed", True, (), ())
    staging = {o.id: o.status for o in diff.environments[0].objects}
    assert staging["web/Chart.yaml"] == "added"
    assert staging["Application argocd/web-staging"] == "added"
    # Disabling an app that was running removes it.
    commit_all(repo, "Add web")
    edit(repo, "environments/demo.yaml", "apps:\n", "apps:\n  web:\n    enabled: false\n")
    diff = diff_repository(repo, ["HEAD"])
    assert rows(diff) == [
        ("app-removed", "web", "chart 2.0.0, image v2.0.0", None, ("demo",)),
        ("object-changed", "Kustomization", None, None, ("bootstrap",)),
    ]


def test_gates_auto_merge_and_pull_policy_in_the_summary(repo: Path) -> None:
    edit(repo, "environments/staging.yaml", "active: [e2e]", "active: [e2e, smoke]")
    edit(repo, "environments/prod.yaml", "autoMerge: false", "autoMerge: true")
    edit(
        repo,
        "environments/demo.yaml",
        "    values:\n",
        "    image:\n      pullPolicy: Always\n    values:\n",
    )
    diff = diff_repository(repo)
    assert rows(diff) == [
        ("active-gates", None, "argocd-health, e2e", "argocd-health, e2e, smoke", ("staging",)),
        ("pull-policy", "serviceradar", "IfNotPresent", "Always", ("demo",)),
        ("auto-merge", None, "false", "true", ("prod",)),
        (
            "object-changed",
            "PromotionStrategy promoter-system/serviceradar",
            None,
            None,
            ("bootstrap",),
        ),
    ]


def test_env_filter(repo: Path) -> None:
    bump(repo)
    diff = diff_repository(repo, envs=["prod", "prod"])
    assert [s.name for s in diff.environments] == ["prod"]
    assert diff.bootstrap is None
    result = run(repo, "--env", "nope")
    assert result.exit_code == 2
    assert "no environment 'nope'" in result.stderr


# --- diff --between -----------------------------------------------------------------------------


def test_between_environments_reports_drift_not_names(repo: Path) -> None:
    diff = diff_repository(repo, between=("demo", "prod"))
    assert diff.mode == "between"
    (section,) = diff.environments
    paths = [c.path for o in section.objects for c in o.changes]
    # Fields that only carry the environment's name are expected to differ.
    for ignored in ("metadata.name", "metadata.labels", "targetRevision", "description"):
        assert not any(ignored in p for p in paths), (ignored, paths)
    assert "serviceradar.ingress.host" in paths
    assert "serviceradar.spire.postgres.storageSize" in paths
    assert rows(diff) == [
        ("namespace", None, "demo", "serviceradar", ("prod",)),
        ("auto-merge", None, "true", "false", ("prod",)),
    ]
    result = run(repo, "--between", "demo", "prod", "--format", "markdown")
    assert result.exit_code == 1
    assert "`demo` → `prod`" in result.stdout


def test_between_at_a_revision(repo: Path) -> None:
    edit(repo, "environments/prod.yaml", "storageSize: 200Gi", "storageSize: 10Gi")
    edit(repo, "environments/prod.yaml", "serviceradar.cloud", "staging.serviceradar.cloud")
    commit_all(repo, "Align prod")
    # At HEAD~1 prod still differs; the working tree (= HEAD) only differs where expected.
    old = diff_repository(repo, ["HEAD~1"], between=("staging", "prod"))
    new = diff_repository(repo, between=("staging", "prod"))
    old_paths = {c.path for o in old.environments[0].objects for c in o.changes}
    new_paths = {c.path for o in new.environments[0].objects for c in o.changes}
    assert "serviceradar.spire.postgres.storageSize" in old_paths
    assert "serviceradar.spire.postgres.storageSize" not in new_paths
    assert "serviceradar.ingress.host" not in new_paths
    assert old.base.commit == git(repo, "rev-parse", "HEAD~1")


def test_between_identical_environments_is_clean(repo: Path) -> None:
    # A second prod on another cluster (one namespace of one cluster holds one release).
    shutil.copy(repo / "environments/prod.yaml", repo / "environments/prod2.yaml")
    for name, cluster in (("prod.yaml", "east"), ("prod2.yaml", "west")):
        path = repo / "environments" / name
        path.write_text(path.read_text() + f"destination: {{server: null, name: {cluster}}}\n")
    edit(
        repo,
        "environments/_project.yaml",
        "order: [staging, demo, prod]",
        "order: [staging, demo, prod, prod2]",
    )
    result = run(repo, "--between", "prod", "prod2")
    assert result.exit_code == 1, result.output
    assert "cluster: east → west" in result.stdout
    assert "destination.name: east → west" in result.stdout


# --- diff --promotion ---------------------------------------------------------------------------


def _git_input(root: Path, args: list[str], data: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), *args], input=data, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def _mktree(root: Path, files: Mapping[str, str]) -> str:
    """A tree object for {path: text}, built bottom-up with hash-object and mktree."""
    children: dict[str, dict[str, str]] = {}
    lines = []
    for path, text in sorted(files.items()):
        head, _, rest = path.partition("/")
        if rest:
            children.setdefault(head, {})[rest] = text
        else:
            blob = _git_input(root, ["hash-object", "-w", "--stdin"], text)
            lines.append(f"100644 blob {blob}\t{head}")
    for name, sub in children.items():
        lines.append(f"040000 tree {_mktree(root, sub)}\t{name}")
    return _git_input(root, ["mktree"], "\n".join(lines) + "\n")


def _hydrate(root: Path, env: str, dry_sha: str, parent: str | None) -> str:
    """A commit holding the environment's rendered tree, as a hydrator would publish it."""
    prefix = f"environments/{env}/"
    files = {
        p[len(prefix) :]: t for p, t in plan_repository(root).files.items() if p.startswith(prefix)
    }
    files["hydrator.metadata"] = json.dumps({"drySha": dry_sha}) + "\n"
    args = ["commit-tree", _mktree(root, files), "-m", f"Hydrate {dry_sha[:7]}"]
    if parent:
        args += ["-p", parent]
    return _git_input(root, args, "")


@pytest.fixture
def promoted(repo: Path) -> Path:
    """environment/prod at the first dry commit, environment/prod-next at the version bump."""
    first = git(repo, "rev-parse", "HEAD")
    active = _hydrate(repo, "prod", first, None)
    git(repo, "update-ref", "refs/heads/environment/prod", active)
    bump(repo)
    second = commit_all(repo, "Release 1.0.76")
    proposed = _hydrate(repo, "prod", second, active)
    git(repo, "update-ref", "refs/heads/environment/prod-next", proposed)
    return repo


def test_promotion_compares_the_two_branches(promoted: Path) -> None:
    diff = diff_repository(promoted, promotion="prod")
    assert diff.mode == "promotion"
    assert diff.base.label == "environment/prod"
    assert diff.head.label == "environment/prod-next"
    assert diff.base.dry_sha == git(promoted, "rev-parse", "HEAD~1")
    assert diff.head.dry_sha == git(promoted, "rev-parse", "HEAD")
    assert rows(diff) == [
        ("chart-version", "serviceradar", "1.0.75", "1.0.76", ("prod",)),
        ("image-tag", "serviceradar", "v1.0.75", "v1.0.76", ("prod",)),
    ]
    assert diff.bootstrap is None
    # hydrator.metadata and README.md differ too, but describe the tree rather than deploy it.
    ids = [o.id for o in diff.environments[0].objects]
    assert ids == ["serviceradar/Chart.yaml", "serviceradar/values.yaml"]


def test_promotion_reads_pull_policy_from_the_readme(promoted: Path) -> None:
    edit(
        promoted,
        "environments/prod.yaml",
        "    values:\n",
        "    image:\n      pullPolicy: Always\n    values:\n",
    )
    dry = commit_all(promoted, "Always pull in prod")
    proposed = _hydrate(promoted, "prod", dry, git(promoted, "rev-parse", "environment/prod-next"))
    git(promoted, "update-ref", "refs/heads/environment/prod-next", proposed)
    diff = diff_repository(promoted, promotion="prod")
    assert ("pull-policy", "serviceradar", "IfNotPresent", "Always", ("prod",)) in rows(diff)


def test_promotion_git_note_wins_over_the_metadata_file(promoted: Path) -> None:
    note_sha = "ab" * 20
    git(
        promoted,
        "notes",
        "--ref=hydrator.metadata",
        "add",
        "-m",
        json.dumps({"drySha": note_sha}),
        "environment/prod-next",
    )
    diff = diff_repository(promoted, promotion="prod")
    assert diff.head.dry_sha == note_sha


def test_promotion_from_a_remote(promoted: Path, tmp_path: Path) -> None:
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(promoted, "push", "-q", str(bare), "main", "environment/prod", "environment/prod-next")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(bare), str(clone))
    # A clone has no local environment branches: like status, diff reads origin by default.
    default = run(clone, "--promotion", "prod", "--format", "json")
    result = run(clone, "--promotion", "prod", "--remote", "origin", "--format", "json")
    assert result.exit_code == default.exit_code == 1, result.output
    assert result.stdout == default.stdout
    data = json.loads(result.stdout)
    assert data["base"]["label"] == "origin/environment/prod"
    assert [(r["kind"], r["after"]) for r in data["summary"]] == [
        ("chart-version", "1.0.76"),
        ("image-tag", "v1.0.76"),
    ]
    by_url = run(clone, "--promotion", "prod", "--remote", str(bare), "--format", "json")
    assert json.loads(by_url.stdout)["base"]["label"] == f"environment/prod ({bare})"
    assert json.loads(by_url.stdout)["summary"] == data["summary"]
    # Without a remote, the local branches are read, and they are not there.
    git(clone, "remote", "remove", "origin")
    result = run(clone, "--promotion", "prod")
    assert result.exit_code == 2
    assert "branch 'environment/prod' not found (refs/heads/environment/prod)" in result.stderr


def test_promotion_from_a_remote_that_lacks_the_branch(promoted: Path, tmp_path: Path) -> None:
    """The message names the remote without the password a URL may carry."""
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(promoted, "push", "-q", str(bare), "main")
    result = run(promoted, "--promotion", "prod", "--remote", f"file://user:secret@localhost{bare}")
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"error: branch 'environment/prod' not found on file://localhost{bare}; "
        "publish the environment first (gitops-gen publish --push)\n"
    )


def test_promotion_without_changes(promoted: Path) -> None:
    active = git(promoted, "rev-parse", "environment/prod")
    git(promoted, "update-ref", "refs/heads/environment/demo", active)
    git(promoted, "update-ref", "refs/heads/environment/demo-next", active)
    result = run(promoted, "--promotion", "demo")
    assert result.exit_code == 0, result.output


# --- invalid input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-rev"], "'no-such-rev' is not a commit"),
        (["main", "no-such-rev"], "'no-such-rev' is not a commit"),
        (["a", "b", "c"], "at most two revisions"),
        (["--promotion", "prod", "main"], "drop BASE/HEAD"),
        (["--promotion", "prod", "--between", "demo", "prod"], "cannot be combined"),
        (["--promotion", "Prod!"], "--promotion: environment name"),
        (["--promotion", "qa"], "branch 'environment/qa' not found"),
        (["--remote", "origin"], "--remote only applies to --promotion"),
        (["--between", "demo", "demo"], "two different environments"),
        (["--between", "demo", "qa"], "no environment 'qa'"),
        (["--between", "demo", "prod", "--env", "prod"], "--env does not apply"),
        (["--format", "yaml"], "Invalid value for '--format'"),
        (["--format", "markdown", "--max-chars", "10"], "--max-chars"),
    ],
)
def test_invalid_input_exits_2(repo: Path, args: list[str], message: str) -> None:
    result = run(repo, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_outside_a_git_repository(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE_SPEC, tmp_path / "environments")
    result = run(tmp_path)
    assert result.exit_code == 2
    assert "not inside a git repository" in result.stderr


def test_invalid_spec_at_a_revision_is_located(repo: Path) -> None:
    edit(repo, "environments/demo.yaml", "namespace: demo", "namespace: [demo]")
    bad = commit_all(repo, "Break demo")
    git(repo, "revert", "--no-edit", "HEAD")
    with pytest.raises(SpecError) as excinfo:
        diff_repository(repo, [bad])
    assert f"{bad}:environments/demo.yaml:3:" in str(excinfo.value)
    result = run(repo, bad)
    assert result.exit_code == 2
    assert f"{bad}:environments/demo.yaml:3:" in result.stderr


def test_a_revision_without_a_spec_is_empty(repo: Path) -> None:
    git(repo, "checkout", "-q", "--orphan", "bare")
    git(repo, "rm", "-rq", "--cached", ".")
    (repo / "README.md").write_text("new repository\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "Start")
    git(repo, "checkout", "-q", "-f", "main")
    diff = diff_repository(repo, ["bare", "main"])
    assert [s.status for s in diff.environments] == ["added", "added", "added"]
    with pytest.raises(UsageError):
        diff_repository(repo, ["bare", "main"], envs=["qa"])


# --- the markdown a reviewer sees ---------------------------------------------------------------


def without_commits(text: str) -> str:
    """Commit names change with any edit to the example; the snapshots are about the rest."""
    return re.sub(r"\b[0-9a-f]{12}\b", "<commit>", text)


def test_markdown_of_the_example_bump(repo: Path, snapshot: Any) -> None:
    git(repo, "checkout", "-q", "-b", "release-1.0.76")
    bump(repo)
    commit_all(repo, "Release 1.0.76")
    result = run(repo, "main", "release-1.0.76", "--format", "markdown")
    assert result.exit_code == 1
    assert without_commits(result.stdout) == snapshot


def test_markdown_of_the_example_promotion(promoted: Path, snapshot: Any) -> None:
    result = run(promoted, "--promotion", "prod", "--format", "markdown")
    assert result.exit_code == 1
    assert without_commits(result.stdout) == snapshot


def test_text_of_the_example_bump(repo: Path, snapshot: Any) -> None:
    bump(repo)
    result = run(repo, "HEAD")
    assert result.exit_code == 1
    assert "\x1b[" not in result.stdout  # no colour when not on a terminal
    assert without_commits(result.stdout) == snapshot


def test_a_readme_change_is_said_in_one_line(repo: Path) -> None:
    """README.md is not compared object by object, but a change to it is never silent."""
    source = (REPO / "generator/render/templates/environment/README.md.j2").read_text()
    override = repo / "templates/environment/README.md.j2"
    override.parent.mkdir(parents=True)
    override.write_text(source + "\nAsk #platform before changing this environment.\n")
    commit_all(repo, "Say whom to ask")

    result = run(repo, "HEAD~1", "HEAD")
    assert result.exit_code == 1, result.output
    assert "No environment changes." not in result.stdout
    assert "3 of 3 environments change: staging, demo, prod." in result.stdout
    lines = result.stdout.splitlines()
    assert lines.count("  README.md changed (documentation, not deployed)") == 3
    assert "staging (changed: README.md only)" in lines

    result = run(repo, "HEAD~1", "HEAD", "--format", "markdown")
    assert result.exit_code == 1
    assert result.stdout.count("_`README.md` changed (documentation, not deployed)._") == 3

    result = run(repo, "HEAD~1", "HEAD", "--format", "json")
    data = json.loads(result.stdout)
    assert [
        (e["name"], e["status"], e["readmeChanged"], e["objects"]) for e in data["environments"]
    ] == [(name, "changed", True, []) for name in ("staging", "demo", "prod")]
    assert data["changed"] is True

    result = run(repo, "HEAD", "HEAD", "--format", "json")
    assert result.exit_code == 0
    assert not any(e["readmeChanged"] for e in json.loads(result.stdout)["environments"])


def test_readme_in_a_promotion(promoted: Path) -> None:
    diff = diff_repository(promoted, promotion="prod")
    assert diff.environments[0].readme  # the README's table names the new version
    result = run(promoted, "--promotion", "prod")
    assert "  README.md changed (documentation, not deployed)" in result.stdout


def test_templates_are_read_at_each_revision(repo: Path) -> None:
    source = (REPO / "generator/render/templates/bootstrap/application.yaml.j2").read_text()
    assert "  finalizers:\n" in source
    override = source.replace(
        "  finalizers:\n", "  annotations:\n    example.com/owner: platform\n  finalizers:\n", 1
    )
    (repo / "templates/bootstrap").mkdir(parents=True)
    (repo / "templates/bootstrap/application.yaml.j2").write_text(override)
    commit_all(repo, "Annotate the Applications")
    (repo / "templates/bootstrap/application.yaml.j2").write_text(source)  # uncommitted revert
    diff = diff_repository(repo, ["HEAD~1", "HEAD"])
    assert all_paths(diff) == {
        "staging": ['metadata.annotations["example.com/owner"]'],
        "demo": ['metadata.annotations["example.com/owner"]'],
        "prod": ['metadata.annotations["example.com/owner"]'],
        "bootstrap": [],
    }
    assert not diff_repository(repo, ["HEAD~1"]).changed  # the working tree reverted it


def test_unchanged_sources_are_rendered_once(repo: Path) -> None:
    (repo / "NOTES.md").write_text("not part of the spec\n")
    commit_all(repo, "Add notes")
    base = at_revision(repo, "HEAD~1")
    head = at_revision(repo, "HEAD", reuse=base)
    assert head.files is base.files and head.commit != base.commit
    assert working_tree(repo, reuse=base).files is base.files
    bump(repo)
    changed = working_tree(repo, reuse=base)
    assert changed.files is not base.files
    assert changed.files != base.files
