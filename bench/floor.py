"""The floor for render from scratch: a plain Python loop writing the same files, nothing else.

    python bench/floor.py TREE.pickle DEST

TREE.pickle holds {path inside rendered/: bytes} (bench/run.py writes it from a real render).
Each file is written with os.makedirs and open/write into DEST, which must not exist: no
templates, no YAML, no validation, no comparison, no fsync. Its start-up (an empty interpreter
and pickle) is part of what it measures, as gitops-gen's start-up is part of render's.
"""

from __future__ import annotations

import os
import pickle
import sys


def main() -> None:
    with open(sys.argv[1], "rb") as handle:
        tree: dict[str, bytes] = pickle.load(handle)
    dest = sys.argv[2]
    made: set[str] = set()
    for path, data in tree.items():
        target = os.path.join(dest, path)
        parent = os.path.dirname(target)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        with open(target, "wb") as out:
            out.write(data)


if __name__ == "__main__":
    main()
