"""Check that an optimisation leaves the rendered output byte-identical.

    python bench/identical.py save  MANIFEST   # before the change
    python bench/identical.py check MANIFEST   # after it: exit 1 on any difference

Renders the example and the synthetic repositories 30x10, 300x10 and 1000x1 with this checkout's
gitops-gen and records the SHA-256 of every rendered file. The trees are removed at the end; on a
disk mounted with `discard`, that mass delete slows file creation for minutes, so do not time
anything right after.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

WORKLOADS = {"example": None, "30x10": (30, 10), "300x10": (300, 10), "1000x1": (1000, 1)}


def render(root: Path) -> dict[str, str]:
    subprocess.run(
        [sys.executable, "-m", "generator", "-C", str(root), "render"],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    out = root / "rendered"
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def manifest() -> dict[str, dict[str, str]]:
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, size in WORKLOADS.items():
            root = Path(tmp) / name
            root.mkdir()
            if size is None:
                shutil.copytree(REPO / "environments", root / "environments")
            else:
                synth.generate(root, *size)
            result[name] = render(root)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["save", "check"])
    parser.add_argument("manifest", type=Path)
    args = parser.parse_args()
    mode, path = args.mode, args.manifest
    if mode == "check" and not path.is_file():
        parser.error(f"{path}: no such manifest; make one with `save` before the change")
    current = manifest()
    if mode == "save":
        path.write_text(json.dumps(current, indent=1, sort_keys=True))
        print(f"saved {sum(map(len, current.values()))} file hashes to {path}")
        return 0
    saved = json.loads(path.read_text())
    bad = 0
    for name in saved:
        a, b = saved[name], current.get(name, {})
        differ = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        bad += len(differ)
        print(
            f"{name}: {len(b)} files, {len(differ)} differ"
            + (f" (e.g. {differ[:3]})" if differ else "")
        )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
