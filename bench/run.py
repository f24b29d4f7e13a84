"""Benchmark gitops-gen as whole processes on a synthetic repository, beside make-argocd-fly.

    python bench/run.py --envs 300 --apps 10 [--repeat 3] [--format json] [--no-peer]
    python bench/run.py --example            # the bundled example (3 environments)

Each step runs as its own process; the table shows wall time (median, min, max over --repeat
runs) and the peak resident set size of the process (os.wait4's ru_maxrss).  Render from scratch
runs in turn with a floor writer (bench/floor.py: the same files written by a plain loop), each
run in a fresh folder, and the ratio of the two is printed.  Steps whose command
does not exist in this build (publish, diff) print "n/a".  The peer (make-argocd-fly, pinned
below) is installed from PyPI into bench/.venv-peer on first use unless --peer-exe or --no-peer.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import peer  # noqa: E402
import synth  # noqa: E402

PEER_PACKAGE = "make-argocd-fly==0.4.8"
PEER_VENV = HERE / ".venv-peer"


@dataclass
class Step:
    name: str
    walls: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    note: str = ""
    available: bool = True

    def row(self) -> dict[str, object]:
        if not self.available or not self.walls:
            return {"step": self.name, "available": False, "note": self.note}
        return {
            "step": self.name,
            "available": True,
            "runs": len(self.walls),
            "median_s": round(statistics.median(self.walls), 3),
            "min_s": round(min(self.walls), 3),
            "max_s": round(max(self.walls), 3),
            "peak_rss_mib": round(max(self.rss_kib) / 1024, 1),
            "note": self.note,
        }


class Failed(Exception):
    pass


def run_measured(
    argv: Sequence[str], env: dict[str, str], cwd: Path | None = None, ok: Sequence[int] = (0,)
) -> tuple[float, int, int]:
    """Run one process; return (wall seconds, peak RSS KiB, exit code).

    Writes still pending from the run before are flushed first, untimed: render's one syncfs(2)
    would otherwise also flush what the floor writer (which never syncs) left in the page cache
    just before it, and charge render for the floor's files.
    """
    os.sync()
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode not in ok:
        tail = stderr.decode("utf-8", "replace")[-2000:]
        raise Failed(f"{' '.join(argv[:4])}... exited {proc.returncode}:\n{tail}")
    return wall, usage.ru_maxrss, proc.returncode


def measure(
    step: Step,
    repeat: int,
    argv: Callable[[int], Sequence[str]],
    env: dict[str, str],
    prepare: Callable[[int], None] | None = None,
    ok: Sequence[int] = (0,),
) -> Step:
    for i in range(repeat):
        if prepare is not None:
            prepare(i)
        wall, rss, _ = run_measured(argv(i), env, ok=ok)
        step.walls.append(wall)
        step.rss_kib.append(rss)
    return step


def git(root: Path, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def isolated_env(work: Path) -> dict[str, str]:
    """A git identity and config of the benchmark's own, so user settings never skew it."""
    home = work / "home"
    home.mkdir(exist_ok=True)
    config = home / ".gitconfig"
    config.write_text(
        "[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n"
        '[commit]\n\tgpgsign = false\n[protocol "file"]\n\tallow = always\n'
    )
    # Bytecode caching on, as on a user's machine (some sandboxes turn it off for everything).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GIT_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        HOME=str(home), GIT_CONFIG_GLOBAL=str(config), GIT_CONFIG_NOSYSTEM="1", LC_ALL="C.UTF-8"
    )
    return env


def tool_command(exe: str | None) -> list[str]:
    if exe:
        return [exe]
    script = Path(sys.executable).parent / "gitops-gen"
    return [str(script)] if script.exists() else [sys.executable, "-m", "generator"]


def has_command(tool: list[str], name: str, env: dict[str, str]) -> bool:
    done = subprocess.run([*tool, name, "--help"], env=env, capture_output=True)
    return done.returncode == 0


def tree_stats(directory: Path) -> tuple[int, int]:
    files = [p for p in directory.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def peer_executable(args: argparse.Namespace) -> str | None:
    if args.no_peer:
        return None
    if args.peer_exe:
        return str(args.peer_exe)
    exe = PEER_VENV / "bin" / "make-argocd-fly"
    if not exe.exists():
        print(f"installing {PEER_PACKAGE} into {PEER_VENV} (benchmark only)...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run(
            [str(PEER_VENV / "bin" / "pip"), "install", "--quiet", PEER_PACKAGE], check=True
        )
    return str(exe)


def bench_ours(
    args: argparse.Namespace, work: Path, env: dict[str, str]
) -> tuple[list[Step], dict]:
    tool = tool_command(args.exe)
    repo = work / "repo"
    repo.mkdir()
    if args.example:
        shutil.copytree(REPO / "environments", repo / "environments")
        if (REPO / "templates").is_dir():
            shutil.copytree(REPO / "templates", repo / "templates")
    else:
        synth.generate(repo, args.envs, args.apps)
    run = [*tool, "-C", str(repo)]
    rendered = repo / "rendered"
    steps: list[Step] = []
    run_measured([*run, "render"], env)  # warm-up (bytecode, page cache); not counted
    files, size = tree_stats(rendered)
    info: dict[str, object] = {"rendered_files": files, "rendered_bytes": size}
    scratch, floor = render_and_floor(args, work, repo, tool, env)
    steps += [scratch, floor]
    info["floor_ratio"] = floor_ratio(scratch, floor)
    steps.append(measure(Step("render (no change)"), args.repeat, lambda _: [*run, "render"], env))
    steps.append(measure(Step("check"), args.repeat, lambda _: [*run, "check"], env))

    git(repo, "init", "-q", "-b", "main", env=env)
    git(repo, "add", "environments", "rendered", env=env)
    if (repo / "templates").is_dir():
        git(repo, "add", "templates", env=env)
    git(repo, "commit", "-q", "-m", "Benchmark spec and rendered output", env=env)

    first, noop = Step("publish (first, bare remote)"), Step("publish (no-op)")
    if has_command(tool, "publish", env):
        clones: list[Path] = []

        def fresh(i: int) -> None:
            clone, remote = work / f"publish-{i}", work / f"remote-{i}.git"
            subprocess.run(["git", "clone", "-q", str(repo), str(clone)], env=env, check=True)
            subprocess.run(["git", "init", "-q", "--bare", str(remote)], env=env, check=True)
            clones.append(clone)

        def publish(i: int) -> list[str]:
            remote = work / f"remote-{i}.git"
            return [
                *tool,
                "-C",
                str(work / f"publish-{i}"),
                "publish",
                "--push",
                "--remote",
                str(remote),
            ]

        try:
            measure(first, args.repeat, publish, env, fresh)
            measure(noop, args.repeat, lambda _: publish(0), env)
        except Failed as e:
            first.note = noop.note = f"failed: {str(e).splitlines()[0]}"
            print(e, file=sys.stderr)
    else:
        first.available = noop.available = False
        first.note = noop.note = "no publish command in this build"
    steps += [first, noop]

    diff = Step("diff (one-line spec change)")
    if has_command(tool, "diff", env):
        synth.one_line_change(repo) if not args.example else _example_change(repo)
        try:
            measure(diff, args.repeat, lambda _: [*run, "diff", "HEAD"], env, ok=(0, 1))
        except Failed as e:
            diff.note = f"failed: {str(e).splitlines()[0]}"
            print(e, file=sys.stderr)
    else:
        diff.available = False
        diff.note = "no diff command in this build"
    steps.append(diff)
    return steps, info


def render_and_floor(
    args: argparse.Namespace, work: Path, repo: Path, tool: list[str], env: dict[str, str]
) -> tuple[Step, Step]:
    """Render from scratch against the floor writer (bench/floor.py), in turn, each run in a
    folder of its own that nothing was ever deleted from.

    On some disks, creating files just after a large delete is several times slower for a
    while, whoever writes; so nothing is removed between runs (the work folder goes at the end).
    """
    import pickle

    tree = {
        p.relative_to(repo / "rendered").as_posix(): p.read_bytes()
        for p in sorted((repo / "rendered").rglob("*"))
        if p.is_file()
    }
    pickled = work / "floor-input.pickle"
    pickled.write_bytes(pickle.dumps(tree, protocol=pickle.HIGHEST_PROTOCOL))
    floor_argv = [sys.executable, str(HERE / "floor.py"), str(pickled)]
    scratch, floor = Step("render (from scratch)"), Step("floor writer (same files)")
    for i in range(args.repeat):
        fresh = work / f"scratch-{i}"
        fresh.mkdir()
        for name in ("environments", "templates"):
            if (repo / name).is_dir():
                shutil.copytree(repo / name, fresh / name)
        pair = [
            (scratch, [*tool, "-C", str(fresh), "render"]),
            (floor, [*floor_argv, str(work / f"floor-{i}")]),
        ]
        for step, argv in pair if i % 2 == 0 else reversed(pair):
            wall, rss, _ = run_measured(argv, env)
            step.walls.append(wall)
            step.rss_kib.append(rss)
    return scratch, floor


def floor_ratio(scratch: Step, floor: Step) -> dict[str, float]:
    """render / floor: of the medians, and the median of the ratios run by run."""
    pairs = [a / b for a, b in zip(scratch.walls, floor.walls, strict=True)]
    return {
        "of_medians": round(statistics.median(scratch.walls) / statistics.median(floor.walls), 2),
        "median_of_pairs": round(statistics.median(pairs), 2),
    }


def _example_change(repo: Path) -> None:
    path = repo / "environments" / "demo.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("host: demo.serviceradar.cloud", "host: demo2.serviceradar.cloud", 1)
    )


def bench_peer(
    args: argparse.Namespace, work: Path, env: dict[str, str], exe: str
) -> tuple[Step, dict]:
    root = work / "peer"
    argv = peer.generate_peer_workload(root, args.envs, args.apps, exe=exe)

    def wipe(_: int) -> None:
        for sub in ("output", ".tmp", ".tmp.output", "output.old"):
            shutil.rmtree(root / sub, ignore_errors=True)

    step = measure(Step("make-argocd-fly (from scratch)"), args.repeat, lambda _: argv, env, wipe)
    expected = set(peer.expected_outputs(root, args.envs, args.apps))
    produced = {p for p in (root / "output").rglob("*") if p.is_file()}
    if expected != produced:
        step.note = f"unexpected output: {len(produced)} files, {len(expected)} expected"
    files, size = tree_stats(root / "output")
    return step, {"peer_files": files, "peer_bytes": size}


def fmt_table(result: dict) -> str:
    lines = [
        f"gitops-gen benchmark: {result['workload']}  (repeat {result['repeat']}; "
        f"{result['machine']})",
        f"rendered/: {result['info']['rendered_files']} files, "
        f"{result['info']['rendered_bytes'] / 1e6:.2f} MB",
    ]
    if "peer_files" in result["info"]:
        lines.append(
            f"peer output: {result['info']['peer_files']} files, "
            f"{result['info']['peer_bytes'] / 1e6:.2f} MB"
        )
    header = (
        f"| {'step':<32} | {'median s':>8} | {'min s':>7} | {'max s':>7} | {'peak RSS MiB':>12} |"
    )
    lines += [
        "",
        header,
        "|" + "-" * 34 + "|" + "-" * 10 + "|" + "-" * 9 + "|" + "-" * 9 + "|" + "-" * 14 + "|",
    ]
    for row in result["steps"]:
        if row["available"]:
            lines.append(
                f"| {row['step']:<32} | {row['median_s']:>8.3f} | {row['min_s']:>7.3f} | "
                f"{row['max_s']:>7.3f} | {row['peak_rss_mib']:>12.1f} |"
                + (f" {row['note']}" if row["note"] else "")
            )
        else:
            lines.append(
                f"| {row['step']:<32} | {'n/a':>8} | {'n/a':>7} | {'n/a':>7} | {'n/a':>12} |"
                + (f" {row['note']}" if row["note"] else "")
            )
    ratio = result["info"].get("floor_ratio")
    if ratio is not None:
        lines.append("")
        lines.append(
            f"render (from scratch) / floor writer: {ratio['of_medians']:.2f}x of the medians, "
            f"{ratio['median_of_pairs']:.2f}x the median of run-by-run ratios"
        )
    if result.get("peer_ratio") is not None:
        lines.append("")
        lines.append(
            "make-argocd-fly / gitops-gen render (from scratch), medians: "
            f"{result['peer_ratio']:.1f}x"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, default=300)
    parser.add_argument("--apps", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument(
        "--example", action="store_true", help="benchmark the bundled example instead"
    )
    parser.add_argument("--exe", help="the gitops-gen executable (default: this Python's)")
    parser.add_argument("--peer-exe", type=Path, help="a make-argocd-fly executable to use")
    parser.add_argument("--no-peer", action="store_true", help="skip the make-argocd-fly run")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = parser.parse_args(argv)
    if args.example:
        args.no_peer = True
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    work = Path(tempfile.mkdtemp(prefix="gitops-gen-bench-")) if args.keep is None else args.keep
    if args.keep is not None:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
    try:
        env = isolated_env(work)
        peer_exe = peer_executable(args)
        steps, info = bench_ours(args, work, env)
        ratio = None
        if peer_exe is not None:
            peer_step, peer_info = bench_peer(args, work, env, peer_exe)
            steps.append(peer_step)
            info.update(peer_info)
            scratch = next(s for s in steps if s.name == "render (from scratch)")
            ratio = statistics.median(peer_step.walls) / statistics.median(scratch.walls)
    except Failed as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        return 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    result = {
        "workload": "example (environments/)"
        if args.example
        else f"{args.envs} environments x {args.apps} apps",
        "envs": None if args.example else args.envs,
        "apps": None if args.example else args.apps,
        "repeat": args.repeat,
        "machine": (
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}"
        ),
        "info": info,
        "steps": [s.row() for s in steps],
        "peer_ratio": None if ratio is None else round(ratio, 2),
    }
    if args.format == "json":
        print(json.dumps(result, indent=2))
    else:
        print(fmt_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
