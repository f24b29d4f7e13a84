"""status, wait and commit-status against real branches, with the Promoter's merges simulated."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from generator.cli import main
from generator.errors import GitError, UsageError
from generator.promotion import state as promotion
from generator.publish.branches import publish
from tests.conftest import CRDS, git
from tests.publish.test_branches import promoter_round, set_host

ENVS = ("staging", "demo", "prod")


@pytest.fixture
def scm(remote: Path, tmp_path: Path) -> Path:
    """A clone that plays the SCM and the Promoter."""
    clone = tmp_path / "scm"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    return clone


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


# --- status ---


def test_status_after_first_publish_is_pending_everywhere(dry_repo: Path, remote: Path) -> None:
    publish(dry_repo, push=True)
    head = git(dry_repo, "rev-parse", "HEAD")
    statuses = promotion.read_status(dry_repo, "origin")
    assert [s.name for s in statuses] == list(ENVS)
    for s in statuses:
        assert s.state == "pending" and s.pending
        assert s.active is not None and s.active.dry_sha is None and s.active.apps == ()
        assert s.proposed is not None and s.proposed.dry_sha == head
        assert s.proposed.commit == git(remote, "rev-parse", f"environment/{s.name}-next")
    staging = statuses[0].proposed
    assert staging is not None
    assert [(a.name, a.chart_version, a.image_tag) for a in staging.apps] == [
        ("serviceradar", "1.0.75", "latest")
    ]
    assert not [r for r in git(dry_repo, "for-each-ref").splitlines() if "refs/gitops-gen/" in r]


def test_status_after_promotion_is_in_sync(dry_repo: Path, remote: Path, scm: Path) -> None:
    publish(dry_repo, push=True)
    promoter_round(remote, scm, "staging")
    head = git(dry_repo, "rev-parse", "HEAD")
    staging, demo, _ = promotion.read_status(dry_repo, "origin")
    assert staging.state == "in sync" and not staging.pending
    assert staging.active is not None and staging.active.dry_sha == head
    assert [(a.chart_version, a.image_tag) for a in staging.active.apps] == [("1.0.75", "latest")]
    assert demo.state == "pending"

    code, out, _ = run("-C", str(dry_repo), "status", "--remote", "origin", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["environments"][0]["state"] == "in sync"
    assert data["environments"][0]["active"]["apps"] == {
        "serviceradar": {"chartVersion": "1.0.75", "imageTag": "latest"}
    }
    assert data["environments"][1]["proposed"]["drySha"] == head


def test_status_table_shows_heads_states_and_versions(
    dry_repo: Path, remote: Path, scm: Path
) -> None:
    publish(dry_repo, push=True)
    promoter_round(remote, scm, "staging")
    code, out, _ = run("-C", str(dry_repo), "status", "--remote", "origin")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ENVIRONMENT", "ACTIVE", "PROPOSED", "STATE", "APPS"]
    head7 = git(dry_repo, "rev-parse", "--short=7", "HEAD")
    assert re.fullmatch(
        rf"staging +\w{{7}} \(dry {head7}\) +\w{{7}} \(dry {head7}\) +in sync"
        r" +serviceradar 1\.0\.75 latest",
        lines[1],
    )
    assert re.fullmatch(
        rf"demo +\w{{7}} \(dry \?\) +\w{{7}} \(dry {head7}\) +pending"
        r" +serviceradar - -> 1\.0\.75 v1\.0\.75",
        lines[2],
    )


def test_status_reads_local_branches_and_notes(dry_repo: Path) -> None:
    publish(dry_repo)
    git(dry_repo, "commit", "-q", "--allow-empty", "-m", "No-op")
    publish(dry_repo)
    head = git(dry_repo, "rev-parse", "HEAD")
    statuses = promotion.read_status(dry_repo)
    assert all(s.proposed and s.proposed.dry_sha == head for s in statuses)  # from the notes
    assert all(s.state == "pending" for s in statuses)


def test_status_of_unpublished_repository_reports_missing_branches(dry_repo: Path) -> None:
    code, out, _ = run("-C", str(dry_repo), "status")
    assert code == 0
    assert [line.split()[-1] for line in out.splitlines()[1:]] == ["missing"] * 3


@pytest.mark.parametrize(
    "chart",
    [
        "dependencies: 5\nappVersion: v1\n",
        "dependencies: {name: serviceradar, version: 1.0.75}\nappVersion: v1\n",
        "dependencies: [5]\nappVersion: v1\n",
        "dependencies: [{version: [1, 2]}]\nappVersion: {tag: v1}\n",
        "- not a mapping\n",
        "dependencies: [\n",
    ],
)
def test_status_survives_hand_edited_charts(dry_repo: Path, tmp_path: Path, chart: str) -> None:
    """Branch content is editable by hand: an odd Chart.yaml shows as unknown, never a crash."""
    publish(dry_repo)
    edit = tmp_path / "edit"
    git(dry_repo, "worktree", "add", "-q", str(edit), "environment/staging-next")
    (edit / "serviceradar" / "Chart.yaml").write_text(chart)
    git(edit, "commit", "-q", "-am", "Edit the chart by hand")
    staging = promotion.read_status(dry_repo)[0]
    assert staging.proposed is not None
    app = staging.proposed.apps[0]
    assert (app.name, app.chart_version) == ("serviceradar", None)
    assert app.image_tag in ("v1", None)
    code, out, err = run("-C", str(dry_repo), "status")
    assert code == 0 and err == ""
    assert "serviceradar - -> ? " in out.splitlines()[1]


# --- wait ---


def test_wait_succeeds_once_the_active_branch_carries_the_commit(
    dry_repo: Path, remote: Path, scm: Path
) -> None:
    publish(dry_repo, push=True)
    head = git(dry_repo, "rev-parse", "HEAD")
    promoter_round(remote, scm, "demo")
    code, _, err = run(
        "-C",
        str(dry_repo),
        "wait",
        "--env",
        "demo",
        "--dry-sha",
        head,
        "--remote",
        "origin",
        "--timeout",
        "5s",
        "--interval",
        "100ms",
    )
    assert code == 0, err
    assert f"demo: carries {head[:7]}" in err


def test_wait_times_out_with_exit_1(dry_repo: Path, remote: Path) -> None:
    publish(dry_repo, push=True)
    head = git(dry_repo, "rev-parse", "HEAD")
    code, _, err = run(
        "-C",
        str(dry_repo),
        "wait",
        "--env",
        "prod",
        "--dry-sha",
        head,
        "--remote",
        "origin",
        "--timeout",
        "0.3s",
        "--interval",
        "0.1",
    )
    assert code == 1
    assert (
        f"prod: timed out after 0.3s; the active branch carries no dry commit, not {head[:7]}"
        in err
    )


def test_wait_polls_until_the_promotion_happens(dry_repo: Path, remote: Path, scm: Path) -> None:
    publish(dry_repo, push=True)
    head = git(dry_repo, "rev-parse", "HEAD")
    now = [0.0]
    polls: list[promotion.Arrival] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds
        if len(polls) == 2:
            promoter_round(remote, scm, "staging")

    arrival = promotion.wait_for(
        dry_repo,
        "staging",
        head,
        remote="origin",
        timeout=60,
        interval=15,
        clock=lambda: now[0],
        sleep=sleep,
        on_poll=polls.append,
    )
    assert arrival.reached and arrival.carried == head
    assert [p.reached for p in polls] == [False, False, True] and now[0] == 30


def test_wait_accepts_a_newer_dry_commit(dry_repo: Path, remote: Path, scm: Path) -> None:
    older = git(dry_repo, "rev-parse", "HEAD")
    newer = set_host(dry_repo, "staging", "stg.example.com", "Move staging")
    git(dry_repo, "push", "-q", "origin", "main")
    publish(dry_repo, push=True)
    promoter_round(remote, scm, "staging")
    arrival = promotion.check_arrival(dry_repo, "staging", older, "origin")
    assert arrival.reached and arrival.carried == newer
    # but not an older one for a newer wait
    git(dry_repo, "checkout", "-q", "--detach", older)
    later = set_host(dry_repo, "staging", "later.example.com", "Not yet published")
    assert not promotion.check_arrival(dry_repo, "staging", later, "origin").reached


def test_wait_sees_a_note_on_the_merged_next_commit(
    dry_repo: Path, remote: Path, scm: Path
) -> None:
    """A no-op dry commit reaches -next as a note; after the merge, the active head is a merge
    commit without a note, and its merged parent carries the note."""
    publish(dry_repo, push=True)
    git(scm, "fetch", "-q", "origin")
    git(scm, "checkout", "-q", "-B", "active", "origin/environment/demo")
    git(scm, "merge", "-q", "--no-ff", "-m", "Promote demo", "origin/environment/demo-next")
    git(scm, "push", "-q", "origin", "HEAD:refs/heads/environment/demo")
    git(dry_repo, "commit", "-q", "--allow-empty", "-m", "No-op")
    publish(dry_repo, push=True)
    noop = git(dry_repo, "rev-parse", "HEAD")
    assert promotion.check_arrival(dry_repo, "demo", noop, "origin").reached


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dry-sha", "abc123"], "--dry-sha 'abc123': expected a full commit SHA"),
        (["--dry-sha", "a" * 40, "--timeout", "soon"], "--timeout 'soon': expected a duration"),
        (["--dry-sha", "a" * 40, "--interval", "5 minutes"], "--interval '5 minutes'"),
        (["--dry-sha", "a" * 40, "--interval", "0s"], "--interval must be more than 0"),
        (["--dry-sha", "a" * 40, "--env", "qa"], "--env qa: no such environment"),
    ],
)
def test_wait_bad_input_exits_2(dry_repo: Path, args: list[str], message: str) -> None:
    env = [] if "--env" in args else ["--env", "demo"]
    code, _, err = run("-C", str(dry_repo), "wait", *env, "--timeout", "1s", *args)
    assert code == 2
    assert message in err


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("15s", 15), ("1h30m", 5400), ("500ms", 0.5), ("2", 2), ("0.25s", 0.25)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert promotion.parse_duration(text, "--timeout") == seconds


# --- commit-status ---


def crd_validator(kind_file: str) -> Draft202012Validator:
    crd = yaml.safe_load((CRDS / "gitops-promoter" / kind_file).read_text())
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")
    return Draft202012Validator(version["schema"]["openAPIV3Schema"])


def test_commit_status_matches_the_upstream_crd(dry_repo: Path) -> None:
    publish(dry_repo)
    head = git(dry_repo, "rev-parse", "environment/staging")
    code, out, err = run(
        "-C",
        str(dry_repo),
        "commit-status",
        "--env",
        "staging",
        "--key",
        "e2e",
        "--phase",
        "success",
        "--url",
        "https://ci.example.com/runs/7",
        "--description",
        "e2e passed",
    )
    assert code == 0, err
    doc = yaml.safe_load(out)
    errors = list(crd_validator("promoter.argoproj.io_commitstatuses.yaml").iter_errors(doc))
    assert errors == []
    assert doc["apiVersion"] == "promoter.argoproj.io/v1alpha1" and doc["kind"] == "CommitStatus"
    assert doc["metadata"] == {
        "name": f"e2e-{head[:12]}",
        "namespace": "promoter-system",
        "labels": {
            "app.kubernetes.io/managed-by": "gitops-gen",
            "promoter.argoproj.io/commit-status": "e2e",
        },
    }
    assert doc["spec"] == {
        "gitRepositoryRef": {"name": "serviceradar"},
        "sha": head,
        "name": "e2e",
        "description": "e2e passed",
        "phase": "success",
        "url": "https://ci.example.com/runs/7",
    }
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", doc["metadata"]["name"])


def test_commit_status_name_is_deterministic_per_key_and_sha(dry_repo: Path) -> None:
    sha = "b" * 40
    first = promotion.commit_status(dry_repo, "demo", "e2e", "pending", sha=sha)
    second = promotion.commit_status(dry_repo, "demo", "e2e", "failure", sha=sha)
    other = promotion.commit_status(dry_repo, "demo", "e2e", "pending", sha="c" * 40)
    name = re.compile(r"name: (\S+)")
    assert name.search(first)[1] == name.search(second)[1] == f"e2e-{'b' * 12}"  # type: ignore[index]
    assert name.search(other)[1] != name.search(first)[1]  # type: ignore[index]
    doc = yaml.safe_load(first)
    assert doc["spec"]["description"] == "" and "url" not in doc["spec"]
    assert list(crd_validator("promoter.argoproj.io_commitstatuses.yaml").iter_errors(doc)) == []


def test_commit_status_reads_the_head_from_the_remote(dry_repo: Path, remote: Path) -> None:
    publish(dry_repo, push=True)
    doc = yaml.safe_load(
        promotion.commit_status(dry_repo, "prod", "e2e", "pending", remote="origin")
    )
    assert doc["spec"]["sha"] == git(remote, "rev-parse", "environment/prod")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sha", "1234"], "--sha '1234': expected a full commit SHA"),
        (["--key", "E2E"], "--key 'E2E'"),
        (["--key", "-e2e"], "--key '-e2e'"),
        (["--key", "x" * 64], "--key"),
        (["--url", "ftp://example.com/x"], "--url 'ftp://example.com/x': expected an http(s) URL"),
        (["--env", "qa"], "--env qa: no such environment"),
        (["--phase", "done"], "Invalid value for '--phase'"),
    ],
)
def test_commit_status_bad_input_exits_2(dry_repo: Path, args: list[str], message: str) -> None:
    base = {"--env": "demo", "--key": "e2e", "--phase": "success", "--sha": "a" * 40}
    for option, value in zip(args[::2], args[1::2], strict=True):
        base[option] = value
    code, out, err = run(
        "-C", str(dry_repo), "commit-status", *[x for kv in base.items() for x in kv]
    )
    assert code == 2 and out == ""
    assert message in err


def test_commit_status_without_branch_fails_cleanly(dry_repo: Path) -> None:
    with pytest.raises(GitError, match="no local branch environment/demo"):
        promotion.commit_status(dry_repo, "demo", "e2e", "success")
    with pytest.raises(UsageError):
        promotion.check_sha("HEAD", "--sha")


def test_without_remote_a_clone_reads_origin(
    dry_repo: Path, remote: Path, scm: Path, tmp_path: Path
) -> None:
    """A CI checkout has only origin's branches: status, wait and commit-status read origin."""
    publish(dry_repo, push=True)
    promoter_round(remote, scm, "staging")
    head = git(dry_repo, "rev-parse", "HEAD")
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", str(remote), str(checkout))
    assert promotion.read_status(checkout)[0].state == "in sync"
    assert promotion.wait_for(checkout, "staging", head, timeout=0, interval=1).reached
    doc = yaml.safe_load(promotion.commit_status(checkout, "staging", "e2e", "success"))
    assert doc["spec"]["sha"] == git(remote, "rev-parse", "environment/staging")


def test_wait_on_a_branch_that_does_not_exist_says_so(dry_repo: Path, remote: Path) -> None:
    head = git(dry_repo, "rev-parse", "HEAD")
    code, _, err = run(
        "-C", str(dry_repo), "wait", "--env", "demo", "--dry-sha", head,
        "--remote", "origin", "--timeout", "0.2s", "--interval", "0.1",
    )  # fmt: skip
    assert code == 1
    assert "demo: timed out after 0.2s; the active branch does not exist yet" in err
