"""publish against real repositories and bare remotes: bootstrap, metadata, notes, races."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.errors import GitError, PublishError, UsageError
from generator.publish import branches
from generator.publish.branches import Identity, publish
from generator.publish.results import PublishResult
from generator.render.repository import render_repository
from tests.conftest import git, snapshot_tree

ENVS = ("staging", "demo", "prod")
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def set_host(root: Path, env: str, host: str, message: str) -> str:
    """A dry commit that changes one environment's ingress host; returns its sha."""
    path = root / "environments" / f"{env}.yaml"
    text = path.read_text()
    path.write_text(re.sub(r"host: \S+", f"host: {host}", text, count=1))
    render_repository(root)
    git(root, "add", "environments", "rendered")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def refs(repo: Path) -> dict[str, str]:
    out = git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    return dict(line.split() for line in out.splitlines())


def metadata(repo: Path, rev: str) -> dict[str, str]:
    data: dict[str, str] = json.loads(git(repo, "show", f"{rev}:hydrator.metadata"))
    return data


def note(repo: Path, rev: str) -> dict[str, str] | None:
    result = subprocess.run(
        ["git", "-C", str(repo), "notes", "--ref=hydrator.metadata", "show", rev],
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout) if result.returncode == 0 else None


def carried(repo: Path, rev: str) -> str:
    """The dry sha a hydrated commit carries: note first, then the file."""
    return (note(repo, rev) or metadata(repo, rev))["drySha"]


def is_ancestor(repo: Path, a: str, b: str) -> bool:
    result = subprocess.run(["git", "-C", str(repo), "merge-base", "--is-ancestor", a, b])
    return result.returncode == 0


def actions(result: PublishResult) -> dict[str, str]:
    return {e.name: e.action for e in result.environments}


# --- first publish and the contract with the Promoter ---


def test_first_push_bootstraps_branches_with_shared_history(dry_repo: Path, remote: Path) -> None:
    result = publish(dry_repo, push=True)
    assert result.pushed and result.remote == "origin"
    after = refs(remote)
    for env in ENVS:
        active, proposed = (
            after[f"refs/heads/environment/{env}"],
            after[f"refs/heads/environment/{env}-next"],
        )
        assert (
            git(remote, "rev-parse", f"{proposed}^") == active
        )  # -next starts on the active branch
        assert git(remote, "log", "--format=%P", "-1", active) == ""  # a root commit ...
        assert git(remote, "ls-tree", "--name-only", active) == "README.md"  # ... holding a README
        readme = git(remote, "show", f"{active}:README.md")
        assert "managed by gitops-gen" in readme and "GitOps Promoter" in readme
        assert f"environment/{env}-next" in readme
    env_result = result.environments[0]
    assert env_result.created == ("environment/staging", "environment/staging-next")
    assert env_result.action == "committed" and env_result.previous is None


def test_tree_is_the_rendered_subtree_plus_metadata(dry_repo: Path, remote: Path) -> None:
    publish(dry_repo, push=True)
    for env in ENVS:
        diff = git(
            remote,
            "diff-tree",
            "-r",
            "--name-status",
            git(dry_repo, "rev-parse", f"HEAD:rendered/environments/{env}"),
            f"environment/{env}-next^{{tree}}",
        )
        assert diff == "A\thydrator.metadata"


def test_metadata_fields_and_commit_message(dry_repo: Path, remote: Path) -> None:
    head = git(dry_repo, "rev-parse", "HEAD")
    publish(dry_repo, push=True)
    data = metadata(remote, "environment/demo-next")
    assert list(data) == ["repoURL", "drySha", "author", "date", "subject", "body"]
    assert data["drySha"] == head
    assert data["repoURL"] == "https://github.com/carverauto/serviceradar-gitops.git"
    assert data["author"] == "Test Author <author@example.com>"
    assert RFC3339.fullmatch(data["date"]) and data["date"] == git(
        dry_repo, "log", "-1", "--format=%aI"
    )
    assert note(remote, "environment/demo-next") == {"drySha": head}  # the note agrees
    assert data["subject"] == "Add the ServiceRadar environments"
    assert data["body"] == "First body line."
    message = git(remote, "log", "-1", "--format=%B", "environment/demo-next")
    assert message == (
        f"{head[:7]}: Add the ServiceRadar environments\n\nFirst body line.\n\n"
        "Co-authored-by: Test Author <author@example.com>"
    )
    who = git(remote, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%ct", "environment/demo-next")
    dry_date = git(dry_repo, "log", "-1", "--format=%ct")
    assert who == f"{branches.DEFAULT_IDENTITY}|{branches.DEFAULT_IDENTITY}|{dry_date}"


def test_same_dry_commit_gives_identical_commits(
    dry_repo: Path, remote: Path, tmp_path: Path
) -> None:
    publish(dry_repo, push=True)
    other = tmp_path / "other.git"
    git(tmp_path, "init", "-q", "--bare", str(other))
    publish(dry_repo, push=True, remote=str(other))
    assert {k: v for k, v in refs(other).items() if "environment/" in k} == {
        k: v for k, v in refs(remote).items() if "environment/" in k
    }


def test_author_option_sets_author_and_committer(dry_repo: Path, remote: Path) -> None:
    publish(dry_repo, push=True, identity=Identity.parse("Release Bot <bot@example.org>"))
    who = git(remote, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "environment/prod-next")
    assert who == "Release Bot <bot@example.org>|Release Bot <bot@example.org>"


BAD_AUTHORS = [
    "Release Bot",
    "<bot@example.org>",
    "Bot <not-an-email>",
    "",
    "Bot <>",
    "Bot <bot@example.org",
    "Release\nBot <bot@example.org>",
    "Release Bot <bot@example.org>\n",
    "Release Bot <bot@example.org>\ncommitter Mallory <m@example.org> 0 +0000",
    "Release\x00Bot <bot@example.org>",
    "Release\x1bBot <bot@example.org>",
    "Release\tBot <bot@example.org>",
    "Release Bot <bot@exa\x7fmple.org>",
]


@pytest.mark.parametrize("text", BAD_AUTHORS)
def test_bad_author_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="--author"):
        Identity.parse(text)


@pytest.mark.parametrize("text", BAD_AUTHORS[-7:])
def test_cli_bad_author_exits_2_before_anything_runs(
    dry_repo: Path, remote: Path, text: str
) -> None:
    before_local, before_remote = refs(dry_repo), refs(remote)
    result = CliRunner().invoke(main, ["-C", str(dry_repo), "publish", "--push", "--author", text])
    assert result.exit_code == 2 and result.stderr.startswith("error: --author ")
    assert len(result.stderr.splitlines()) == 1
    assert refs(dry_repo) == before_local and refs(remote) == before_remote


# --- repeated publishes: idempotence, notes, --env, dry run ---


def test_publishing_twice_changes_nothing(dry_repo: Path, remote: Path) -> None:
    publish(dry_repo, push=True)
    before = refs(remote)
    result = publish(dry_repo, push=True)
    assert actions(result) == dict.fromkeys(ENVS, "up-to-date")
    assert not result.pushed
    assert refs(remote) == before


def test_noop_dry_commit_adds_notes_only(dry_repo: Path, remote: Path) -> None:
    publish(dry_repo, push=True)
    before = refs(remote)
    git(dry_repo, "commit", "-q", "--allow-empty", "-m", "Touch nothing")
    head = git(dry_repo, "rev-parse", "HEAD")
    result = publish(dry_repo, push=True)
    assert actions(result) == dict.fromkeys(ENVS, "note")
    after = refs(remote)
    assert {k: v for k, v in after.items() if "notes" not in k and "main" not in k} == {
        k: v for k, v in before.items() if "notes" not in k and "main" not in k
    }
    for env in ENVS:
        tip = after[f"refs/heads/environment/{env}-next"]
        assert note(remote, tip) == {"drySha": head}
        assert (
            git(remote, "notes", "--ref=hydrator.metadata", "show", tip) == f'{{"drySha":"{head}"}}'
        )
        assert carried(remote, tip) == head
    # and publishing the same dry commit again is a no-op, notes included
    assert actions(publish(dry_repo, push=True)) == dict.fromkeys(ENVS, "up-to-date")
    assert refs(remote) == after


def test_change_to_one_environment_commits_there_and_notes_elsewhere(
    dry_repo: Path, remote: Path
) -> None:
    publish(dry_repo, push=True)
    head = set_host(dry_repo, "staging", "stg.example.com", "Move staging")
    result = publish(dry_repo, push=True)
    assert actions(result) == {"staging": "committed", "demo": "note", "prod": "note"}
    for env in ENVS:
        assert carried(remote, f"environment/{env}-next") == head


def test_env_filter_publishes_only_the_named_environments(dry_repo: Path, remote: Path) -> None:
    result = publish(dry_repo, push=True, only=["demo"])
    assert [e.name for e in result.environments] == ["demo"]
    assert sorted(k for k in refs(remote) if "environment/" in k) == [
        "refs/heads/environment/demo",
        "refs/heads/environment/demo-next",
    ]


def test_unknown_env_is_a_usage_error(dry_repo: Path) -> None:
    with pytest.raises(
        UsageError, match="--env qa: no such environment; known: staging, demo, prod"
    ):
        publish(dry_repo, only=["qa"])


def test_dry_run_writes_nothing(dry_repo: Path, remote: Path) -> None:
    before_local, before_remote = refs(dry_repo), refs(remote)
    result = publish(dry_repo, push=True, dry_run=True)
    assert result.dry_run and actions(result) == dict.fromkeys(ENVS, "committed")
    assert all(e.commit is None for e in result.environments)
    assert refs(dry_repo) == before_local and refs(remote) == before_remote


# --- bootstrap corner cases ---


def test_missing_next_branch_starts_from_the_active_tip(dry_repo: Path, remote: Path) -> None:
    publish(dry_repo, push=True)
    active = git(remote, "rev-parse", "environment/demo")
    git(remote, "update-ref", "-d", "refs/heads/environment/demo-next")
    result = publish(dry_repo, push=True)
    demo = next(e for e in result.environments if e.name == "demo")
    assert demo.created == ("environment/demo-next",) and demo.action == "committed"
    assert git(remote, "rev-parse", "environment/demo-next^") == active


def test_missing_active_branch_gets_a_root_that_next_also_descends_from(
    dry_repo: Path, remote: Path
) -> None:
    publish(dry_repo, push=True)
    old_next = git(remote, "rev-parse", "environment/prod-next")
    git(remote, "update-ref", "-d", "refs/heads/environment/prod")
    publish(dry_repo, push=True)
    new_next, active = git(remote, "rev-parse", "environment/prod-next", "environment/prod").split()
    assert git(remote, "log", "-1", "--format=%P", new_next) == f"{old_next} {active}"
    assert is_ancestor(remote, active, new_next)


# --- the Promoter's own commits, and history never rewritten ---


def promoter_round(remote: Path, scm: Path, env: str) -> None:
    """What the SCM and the Promoter do: merge -next into the active branch with a merge commit,
    then push an "ours" merge of the active branch onto -next (tree of -next, parents -next and
    active)."""
    git(scm, "fetch", "-q", "origin")
    git(scm, "checkout", "-q", "-B", "active", f"origin/environment/{env}")
    git(scm, "merge", "-q", "--no-ff", "-m", f"Promote {env}", f"origin/environment/{env}-next")
    git(scm, "push", "-q", "origin", f"HEAD:refs/heads/environment/{env}")
    git(scm, "checkout", "-q", "-B", "proposed", f"origin/environment/{env}-next")
    git(scm, "merge", "-q", "-s", "ours", "-m", "Promoter: ours merge", "active")
    git(scm, "push", "-q", "origin", f"HEAD:refs/heads/environment/{env}-next")


def test_publish_builds_on_the_promoters_merge_commits(
    dry_repo: Path, remote: Path, tmp_path: Path
) -> None:
    publish(dry_repo, push=True)
    scm = tmp_path / "scm"
    git(tmp_path, "clone", "-q", str(remote), str(scm))
    promoter_round(remote, scm, "staging")
    ours = git(remote, "rev-parse", "environment/staging-next")
    active = git(remote, "rev-parse", "environment/staging")
    assert git(remote, "log", "-1", "--format=%P", ours).split()[1] == active

    head = set_host(dry_repo, "staging", "stg.example.com", "Move staging")
    result = publish(dry_repo, push=True)
    staging = result.environments[0]
    assert staging.action == "committed" and staging.previous == ours
    tip = git(remote, "rev-parse", "environment/staging-next")
    assert git(remote, "rev-parse", f"{tip}^") == ours  # on top of the Promoter's commit, no reset
    assert is_ancestor(remote, active, tip)  # -next still descends from the active branch
    assert metadata(remote, tip)["drySha"] == head


def test_merge_commit_with_unchanged_tree_gets_a_note(
    dry_repo: Path, remote: Path, tmp_path: Path
) -> None:
    publish(dry_repo, push=True)
    scm = tmp_path / "scm"
    git(tmp_path, "clone", "-q", str(remote), str(scm))
    promoter_round(remote, scm, "demo")
    ours = git(remote, "rev-parse", "environment/demo-next")
    git(dry_repo, "commit", "-q", "--allow-empty", "-m", "No-op")
    result = publish(dry_repo, push=True)
    assert actions(result)["demo"] == "note"
    assert git(remote, "rev-parse", "environment/demo-next") == ours
    assert note(remote, ours) == {"drySha": git(dry_repo, "rev-parse", "HEAD")}


def test_older_dry_commit_after_a_newer_one_is_skipped(dry_repo: Path, remote: Path) -> None:
    old = git(dry_repo, "rev-parse", "HEAD")
    new = set_host(dry_repo, "demo", "demo2.example.com", "Move demo")
    publish(dry_repo, push=True)
    before = refs(remote)
    git(dry_repo, "checkout", "-q", "--detach", old)
    result = publish(dry_repo, push=True)
    assert actions(result) == dict.fromkeys(ENVS, "skipped")
    assert {e.newer for e in result.environments} == {new}
    assert refs(remote) == before


def test_older_dry_commit_fetches_the_newer_one_to_compare(
    dry_repo: Path, remote: Path, tmp_path: Path
) -> None:
    """A CI job that checked out an older commit still sees that the branches are newer."""
    old = git(dry_repo, "rev-parse", "HEAD")
    new = set_host(dry_repo, "demo", "demo2.example.com", "Move demo")
    git(dry_repo, "push", "-q", "origin", "main")
    publish(dry_repo, push=True)
    late = tmp_path / "late"
    git(tmp_path, "clone", "-q", "--no-local", "--no-checkout", str(remote), str(late))
    git(late, "checkout", "-q", "--detach", old)
    for ref in refs(late):
        git(late, "update-ref", "-d", ref)
    git(late, "reflog", "expire", "--expire=now", "--all")
    git(late, "gc", "-q", "--prune=now")
    assert subprocess.run(["git", "-C", str(late), "cat-file", "-e", new]).returncode != 0
    assert actions(publish(late, push=True)) == dict.fromkeys(ENVS, "skipped")


def test_concurrent_publishers_end_on_the_newer_commit_without_force(
    dry_repo: Path, remote: Path, tmp_path: Path
) -> None:
    publish(dry_repo, push=True)
    tips_before = {env: git(remote, "rev-parse", f"environment/{env}-next") for env in ENVS}
    first = set_host(dry_repo, "staging", "one.example.com", "First change")
    second = set_host(dry_repo, "demo", "two.example.com", "Second change")
    git(dry_repo, "push", "-q", "origin", "main")
    older = tmp_path / "older"
    git(tmp_path, "clone", "-q", str(remote), str(older))
    git(older, "checkout", "-q", "--detach", first)

    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def run(name: str, root: Path) -> None:
        barrier.wait()
        try:
            outcomes[name] = publish(root, push=True, sleep=lambda s: None)
        except Exception as e:  # reported by the assertion below
            outcomes[name] = e

    threads = [threading.Thread(target=run, args=a) for a in (("old", older), ("new", dry_repo))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(o, PublishResult) for o in outcomes.values()), outcomes
    for env in ENVS:
        tip = git(remote, "rev-parse", f"environment/{env}-next")
        assert carried(remote, tip) == second
        # nothing was force-pushed: every value the ref ever had is an ancestor of its tip
        history = git(remote, "reflog", "show", "--format=%H", f"refs/heads/environment/{env}-next")
        assert tips_before[env] in history.split()
        assert all(is_ancestor(remote, old, tip) for old in history.split())


def test_rejected_push_is_rebuilt_on_the_new_tips(
    dry_repo: Path, remote: Path, tmp_path: Path
) -> None:
    """A publisher that loses the race between its fetch and its push fetches again and retries."""
    publish(dry_repo, push=True)
    mine = set_host(dry_repo, "staging", "mine.example.com", "Mine")
    git(dry_repo, "push", "-q", "origin", "main")
    rival = tmp_path / "rival"
    git(tmp_path, "clone", "-q", str(remote), str(rival))
    newer = set_host(rival, "demo", "rival.example.com", "Rival, on top of mine")
    git(rival, "push", "-q", "origin", "main")
    rival_results: list[PublishResult] = []

    def interfere(message: str) -> None:
        if message.startswith("pushing") and not rival_results:
            rival_results.append(publish(rival, push=True))

    result = publish(dry_repo, push=True, progress=interfere, sleep=lambda s: None)
    assert result.attempts == 2 and not result.pushed
    assert actions(rival_results[0]) == {
        "staging": "committed",
        "demo": "committed",
        "prod": "note",
    }
    assert actions(result) == dict.fromkeys(ENVS, "skipped")
    assert {e.newer for e in result.environments} == {newer}
    for env in ENVS:
        assert carried(remote, f"environment/{env}-next") == newer
    assert mine != newer


def test_retry_builds_on_what_the_rival_pushed(
    dry_repo: Path, remote: Path, tmp_path: Path
) -> None:
    """The rival publishes an older dry commit between our fetch and push: we retry on its tips."""
    publish(dry_repo, push=True)
    older = set_host(dry_repo, "staging", "older.example.com", "Older")
    git(dry_repo, "push", "-q", "origin", "main")
    rival = tmp_path / "rival"
    git(tmp_path, "clone", "-q", str(remote), str(rival))
    newer = set_host(dry_repo, "demo", "newer.example.com", "Newer")
    rival_tips: dict[str, str] = {}

    def interfere(message: str) -> None:
        if message.startswith("pushing") and not rival_tips:
            publish(rival, push=True)
            rival_tips.update(
                {env: git(remote, "rev-parse", f"environment/{env}-next") for env in ENVS}
            )

    result = publish(dry_repo, push=True, progress=interfere, sleep=lambda s: None)
    assert result.attempts == 2 and result.pushed
    assert actions(result) == {"staging": "note", "demo": "committed", "prod": "note"}
    for env in ENVS:
        tip = git(remote, "rev-parse", f"environment/{env}-next")
        assert is_ancestor(remote, rival_tips[env], tip)
        assert carried(remote, tip) == newer
    assert carried(remote, rival_tips["staging"]) == newer  # noted, since the tree did not change
    assert metadata(remote, rival_tips["staging"])["drySha"] == older


# --- refusals: stale or dirty rendered/, and nothing changes ---


def test_stale_rendered_is_refused(dry_repo: Path, remote: Path) -> None:
    path = dry_repo / "environments" / "demo.yaml"
    path.write_text(path.read_text().replace("host:", "host: stale.example.com #", 1))
    git(dry_repo, "commit", "-q", "-am", "Change demo without rendering")
    before = refs(remote)
    with pytest.raises(PublishError, match=r"rendered/ is stale for HEAD .*gitops-gen render"):
        publish(dry_repo, push=True)
    assert refs(remote) == before


def test_freshness_is_judged_on_heads_objects_not_the_working_tree(
    dry_repo: Path, remote: Path
) -> None:
    """A stale committed file hidden by skip-worktree (the disk copy is right) is still stale."""
    readme = dry_repo / "rendered" / "environments" / "demo" / "README.md"
    good = readme.read_text()
    readme.write_text(good + "stale line\n")
    git(dry_repo, "commit", "-q", "-am", "Commit a stale rendered file")
    readme.write_text(good)
    git(dry_repo, "update-index", "--skip-worktree", "rendered/environments/demo/README.md")
    assert git(dry_repo, "status", "--porcelain") == ""
    before = refs(remote)
    with pytest.raises(PublishError, match=r"rendered/environments/demo/README.md"):
        publish(dry_repo, push=True)
    assert refs(remote) == before


def test_ignored_files_in_rendered_do_not_make_it_stale(dry_repo: Path, remote: Path) -> None:
    (dry_repo / ".gitignore").write_text("*.bak\n")
    git(dry_repo, "add", ".gitignore")
    git(dry_repo, "commit", "-q", "-m", "Ignore backups")
    (dry_repo / "rendered" / "environments" / "demo" / "values.yaml.bak").write_text("old\n")
    assert actions(publish(dry_repo, push=True)) == dict.fromkeys(ENVS, "committed")


def test_spec_is_read_from_head_in_a_subdirectory(dry_repo: Path, tmp_path: Path) -> None:
    """The spec and rendered/ may live in a subdirectory of the repository."""
    top = tmp_path / "top"
    (top / "gitops").mkdir(parents=True)
    for name in ("environments", "rendered"):
        (dry_repo / name).rename(top / "gitops" / name)
    git(top, "init", "-q")
    git(top, "add", ".")
    git(top, "commit", "-q", "-m", "GitOps in a subdirectory")
    result = publish(top / "gitops")
    assert actions(result) == dict.fromkeys(ENVS, "committed")
    assert metadata(top, "environment/demo-next")["drySha"] == git(top, "rev-parse", "HEAD")


@pytest.mark.parametrize(
    "change",
    [
        "modify rendered/environments/demo/README.md",
        "add rendered/environments/demo/extra.yaml",
        "modify environments/demo.yaml",
        "add templates/environment/README.md.j2",
    ],
)
def test_uncommitted_changes_are_refused(dry_repo: Path, change: str) -> None:
    verb, rel = change.split()
    path = dry_repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((path.read_text() if verb == "modify" else "") + "# local edit\n")
    before = refs(dry_repo)
    with pytest.raises(PublishError, match=f"uncommitted changes in {rel.split('/')[0]}/"):
        publish(dry_repo)
    assert refs(dry_repo) == before


def test_working_tree_index_and_head_are_untouched(dry_repo: Path, remote: Path) -> None:
    (dry_repo / "notes.txt").write_text("unrelated local work\n")
    index = (dry_repo / ".git" / "index").read_bytes()
    files = {k: v for k, v in snapshot_tree(dry_repo).items() if not k.startswith(".git/")}
    head = (dry_repo / ".git" / "HEAD").read_text()
    main_ref = git(dry_repo, "rev-parse", "refs/heads/main")
    publish(dry_repo)
    publish(dry_repo, push=True)
    assert (dry_repo / ".git" / "index").read_bytes() == index
    assert {k: v for k, v in snapshot_tree(dry_repo).items() if not k.startswith(".git/")} == files
    assert (dry_repo / ".git" / "HEAD").read_text() == head
    assert git(dry_repo, "rev-parse", "refs/heads/main") == main_ref
    assert not [r for r in refs(dry_repo) if r.startswith("refs/gitops-gen/")]


def test_local_publish_and_bare_repository(dry_repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "dry.git"
    git(tmp_path, "clone", "-q", "--bare", str(dry_repo), str(bare))
    result = publish(bare)
    assert actions(result) == dict.fromkeys(ENVS, "committed")
    local = refs(bare)
    assert metadata(bare, local["refs/heads/environment/prod-next"])["drySha"] == git(
        bare, "rev-parse", "HEAD"
    )
    # the same dry commit gives the same commits as a publish from the working repository
    publish(dry_repo)
    assert {k: v for k, v in refs(dry_repo).items() if "environment/" in k} == {
        k: v for k, v in local.items() if "environment/" in k
    }


def test_bare_repository_with_stale_rendered_is_refused(dry_repo: Path, tmp_path: Path) -> None:
    path = dry_repo / "environments" / "prod.yaml"
    path.write_text(path.read_text().replace("namespace: serviceradar", "namespace: sr-prod", 1))
    git(dry_repo, "commit", "-q", "-am", "Rename prod's namespace without rendering")
    bare = tmp_path / "dry.git"
    git(tmp_path, "clone", "-q", "--bare", str(dry_repo), str(bare))
    with pytest.raises(PublishError, match="rendered/ is stale"):
        publish(bare)


def test_remote_without_push_is_a_usage_error(dry_repo: Path) -> None:
    with pytest.raises(UsageError, match="--remote is only used with --push"):
        publish(dry_repo, remote="origin")


def test_push_without_origin_is_a_usage_error(dry_repo: Path) -> None:
    with pytest.raises(UsageError, match="no remote named origin"):
        publish(dry_repo, push=True)


# --- failures of the remote ---


def test_unreachable_remote_fails_with_one_line_naming_it(dry_repo: Path, tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.git")
    before = refs(dry_repo)
    with pytest.raises(GitError, match=f"cannot fetch from {re.escape(missing)}"):
        publish(dry_repo, push=True, remote=missing)
    assert refs(dry_repo) == before


def test_remote_dying_mid_push_leaves_local_and_remote_refs_alone(
    dry_repo: Path, remote: Path
) -> None:
    publish(dry_repo, push=True)
    set_host(dry_repo, "staging", "stg.example.com", "Move staging")
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\ncat >/dev/null\nkill -9 $PPID\nsleep 5\n")
    hook.chmod(0o755)
    local_before, remote_before = refs(dry_repo), refs(remote)
    with pytest.raises(GitError, match="push to origin failed"):
        publish(dry_repo, push=True)
    assert refs(dry_repo) == local_before  # no branch, note, tracking or scratch ref moved
    assert refs(remote) == remote_before


def test_hook_rejection_is_not_retried_and_names_the_cause(dry_repo: Path, remote: Path) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\necho 'error: GH006: Protected branch update failed for environment/demo.' >&2\n"
        "exit 1\n"
    )
    hook.chmod(0o755)
    with pytest.raises(GitError) as caught:
        publish(dry_repo, push=True, sleep=lambda s: pytest.fail("retried a hook rejection"))
    message = str(caught.value)
    assert message.startswith("push to origin failed: ")
    assert "GH006: Protected branch update failed for environment/demo." in message
    assert "pre-receive hook declined" in message and "\n" not in message


def test_unknown_remote_name_reports_gits_reason(dry_repo: Path) -> None:
    result = CliRunner().invoke(
        main, ["-C", str(dry_repo), "publish", "--push", "--remote", "nosuch"]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "error: cannot fetch from nosuch: 'nosuch' does not appear to be a git repository\n"
    )


# --- the command line ---


def test_cli_publish_reports_on_stderr_and_json_on_stdout(dry_repo: Path, remote: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["-C", str(dry_repo), "publish", "--push", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["drySha"] == git(dry_repo, "rev-parse", "HEAD") and data["pushed"] is True
    assert [e["action"] for e in data["environments"]] == ["committed"] * 3
    tip = git(remote, "rev-parse", "environment/staging-next")
    assert f"staging: committed {tip[:7]}" in result.stderr
    assert "staging: created branch environment/staging-next" in result.stderr
    again = runner.invoke(main, ["-C", str(dry_repo), "publish", "--push"])
    assert again.exit_code == 0 and "demo: up to date" in again.stderr and again.stdout == ""


def test_cli_refusal_exits_2(dry_repo: Path) -> None:
    (dry_repo / "rendered" / "environments" / "demo" / "README.md").write_text("edited\n")
    result = CliRunner().invoke(main, ["-C", str(dry_repo), "publish"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: uncommitted changes in rendered/")
    bad_author = CliRunner().invoke(main, ["-C", str(dry_repo), "publish", "--author", "nobody"])
    assert bad_author.exit_code == 2 and "--author" in bad_author.stderr


# --- a note-only publish racing an older publisher (the tip must still be the noted commit) ---


def revert_staging(root: Path, message: str) -> tuple[str, str, str]:
    """C1 (HEAD now), C2 changing staging, C3 restoring C1's staging tree: returns the three."""
    c1 = git(root, "rev-parse", "HEAD")
    c2 = set_host(root, "staging", "c2.example.com", "Move staging")
    git(root, "checkout", "-q", c1, "--", "environments", "rendered")
    git(root, "commit", "-q", "-m", message)
    return c1, c2, git(root, "rev-parse", "HEAD")


def older_clone(dry_repo: Path, remote: Path, tmp_path: Path) -> tuple[Path, str]:
    """Staging moved back on main (pushed), and a clone of the remote at the commit before:
    (the clone, main's new HEAD)."""
    _, c2, c3 = revert_staging(dry_repo, "Move staging back")
    git(dry_repo, "push", "-q", "origin", "main")
    older = tmp_path / "older"
    git(tmp_path, "clone", "-q", str(remote), str(older))
    git(older, "checkout", "-q", "--detach", c2)
    return older, c3


def test_note_only_push_is_retried_when_an_older_commit_lands_first(
    dry_repo: Path, remote: Path, tmp_path: Path
) -> None:
    publish(dry_repo, push=True, only=["staging"])
    older, c3 = older_clone(dry_repo, remote, tmp_path)
    rival: list[PublishResult] = []

    def interfere(message: str) -> None:
        if message.startswith("pushing") and not rival:
            rival.append(publish(older, push=True, only=["staging"]))

    result = publish(dry_repo, push=True, only=["staging"], progress=interfere, sleep=lambda s: 0)
    assert actions(rival[0]) == {"staging": "committed"}
    assert result.attempts == 2 and actions(result) == {"staging": "committed"}
    tip = git(remote, "rev-parse", "environment/staging-next")
    assert carried(remote, tip) == c3
    assert git(remote, "rev-parse", f"{tip}^") == rival[0].environments[0].commit


def test_older_commit_cannot_land_after_a_note_it_did_not_see(
    dry_repo: Path, remote: Path, tmp_path: Path
) -> None:
    """The older publisher fetched before our note was pushed and pushes after it."""
    publish(dry_repo, push=True, only=["staging"])
    noted_tip = git(remote, "rev-parse", "environment/staging-next")
    older, c3 = older_clone(dry_repo, remote, tmp_path)
    ours: list[PublishResult] = []

    def interfere(message: str) -> None:
        if message.startswith("pushing") and not ours:
            ours.append(publish(dry_repo, push=True, only=["staging"]))

    result = publish(older, push=True, only=["staging"], progress=interfere, sleep=lambda s: 0)
    assert actions(ours[0]) == {"staging": "note"}
    assert result.attempts == 2 and actions(result) == {"staging": "skipped"}
    assert result.environments[0].newer == c3
    assert git(remote, "rev-parse", "environment/staging-next") == noted_tip
    assert carried(remote, noted_tip) == c3


@pytest.mark.parametrize("ours_first", [False, True])
def test_local_note_and_older_commit_race(dry_repo: Path, tmp_path: Path, ours_first: bool) -> None:
    """The same two races on local branches, with the older publisher in a second worktree."""
    publish(dry_repo, only=["staging"])
    _, c2, c3 = revert_staging(dry_repo, "Move staging back")
    older = tmp_path / "older-worktree"
    git(dry_repo, "worktree", "add", "-q", "--detach", str(older), c2)
    first, second = (dry_repo, older) if ours_first else (older, dry_repo)
    inner: list[PublishResult] = []

    def interfere(message: str) -> None:
        if message.startswith("building") and not inner:
            inner.append(publish(first, only=["staging"]))

    publish(second, only=["staging"], progress=interfere, sleep=lambda s: 0)
    assert inner
    assert carried(dry_repo, "environment/staging-next") == c3


def test_missing_active_branch_does_not_let_an_older_commit_onto_next(
    dry_repo: Path, remote: Path
) -> None:
    old = git(dry_repo, "rev-parse", "HEAD")
    new = set_host(dry_repo, "prod", "prod2.example.com", "Move prod")
    publish(dry_repo, push=True)
    old_next = git(remote, "rev-parse", "environment/prod-next")
    git(remote, "update-ref", "-d", "refs/heads/environment/prod")
    git(dry_repo, "checkout", "-q", "--detach", old)
    result = publish(dry_repo, push=True, only=["prod"])
    prod = result.environments[0]
    assert prod.action == "skipped" and prod.newer == new
    assert prod.created == ("environment/prod",)
    new_next, active = git(remote, "rev-parse", "environment/prod-next", "environment/prod").split()
    # -next keeps the newer tree and dry commit, and descends from the new active root
    assert git(remote, "rev-parse", f"{new_next}^{{tree}}") == git(
        remote, "rev-parse", f"{old_next}^{{tree}}"
    )
    assert git(remote, "log", "-1", "--format=%P", new_next) == f"{old_next} {active}"
    assert carried(remote, new_next) == new
    # and the next publish of the older commit is a plain skip
    assert actions(publish(dry_repo, push=True, only=["prod"])) == {"prod": "skipped"}


@pytest.mark.parametrize(
    "command",
    [
        ["publish"],
        ["publish", "--push"],
        ["status"],
        ["wait", "--env", "staging", "--dry-sha", "a" * 40, "--timeout", "0"],
        ["commit-status", "--env", "staging", "--key", "e2e", "--phase", "success"],
    ],
)
def test_outside_a_git_repository_is_a_usage_error(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(example_repo.parent))
    result = CliRunner().invoke(main, ["-C", str(example_repo), *command])
    assert result.exit_code == 2
    assert result.stderr == f"error: {example_repo} is not a git repository\n"


def test_local_publish_refuses_when_origin_has_the_branches(dry_repo: Path, remote: Path) -> None:
    """Bootstrapping local roots beside origin's branches would make unrelated histories."""
    publish(dry_repo, push=True)
    git(dry_repo, "fetch", "-q", "origin")
    for branch in ("environment/demo", "environment/demo-next"):
        git(dry_repo, "branch", "-q", branch, f"origin/{branch}")
    before = refs(dry_repo)
    result = CliRunner().invoke(main, ["-C", str(dry_repo), "publish"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: origin has environment/staging but there is no local branch of that name"
    )
    assert "--push" in result.stderr
    assert refs(dry_repo) == before
    # with the local branches all there (or --env naming those), the local publish goes ahead
    assert actions(publish(dry_repo, only=["demo"])) == {"demo": "up-to-date"}


def test_documented_recovery_from_a_dry_commit_that_cannot_be_fetched(
    dry_repo: Path, remote: Path, tmp_path: Path
) -> None:
    """-next names a dry commit that exists nowhere any more; the manual recovery in the docs."""
    git(dry_repo, "push", "-q", "origin", "main")
    lost = tmp_path / "lost"
    git(tmp_path, "clone", "-q", str(remote), str(lost))
    gone = set_host(lost, "staging", "lost.example.com", "Never pushed to the dry branch")
    publish(lost, push=True, only=["staging"])
    head = set_host(dry_repo, "staging", "real.example.com", "Move staging")
    with pytest.raises(GitError, match=f"carry dry commit {gone}"):
        publish(dry_repo, push=True, only=["staging"])
    # the recovery, as in docs/publish.md
    notes = "refs/notes/hydrator.metadata"
    git(dry_repo, "fetch", "-q", "origin", f"+{notes}:{notes}")
    tip = git(dry_repo, "ls-remote", "origin", "refs/heads/environment/staging-next").split()[0]
    git(dry_repo, "fetch", "-q", "origin", tip)
    parent = git(dry_repo, "rev-parse", "HEAD~1")
    message = f'{{"drySha":"{parent}"}}'
    git(dry_repo, "notes", "--ref=hydrator.metadata", "add", "-f", "-m", message, tip)
    git(dry_repo, "push", "-q", "origin", notes)
    assert actions(publish(dry_repo, push=True, only=["staging"])) == {"staging": "committed"}
    assert carried(remote, "environment/staging-next") == head


def test_publish_from_inside_environments_points_at_the_right_folder(dry_repo: Path) -> None:
    from click.testing import CliRunner

    from generator.cli import main

    result = CliRunner().invoke(main, ["-C", str(dry_repo / "environments"), "publish"])
    assert result.exit_code == 2, result.output
    assert (
        "has no environments/environments/; run gitops-gen in the folder that holds"
        in result.stderr
    )
