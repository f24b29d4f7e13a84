"""The YAML 1.2 resolver table that ``yamlio`` keeps as data is ruamel.yaml's own.

Plain scalars are typed by that table without importing ruamel (start-up time). Should a new
ruamel change an expression, its order or its first characters, this test says which.
"""

from __future__ import annotations

import re
import subprocess
import sys

from generator import yamlio


def test_the_table_is_ruamels_expression_for_expression() -> None:
    from ruamel.yaml.resolver import implicit_resolvers

    theirs = [
        (tag, regexp.pattern, regexp.flags, tuple(first or ()))
        for versions, tag, regexp, first in implicit_resolvers
        if (1, 2) in versions and tag != "tag:yaml.org,2002:timestamp"
    ]
    ours = [
        (tag, pattern, re.compile(pattern, flags).flags, first)
        for tag, pattern, flags, first in yamlio.RESOLVERS_1_2
    ]
    assert ours == theirs


def test_plain_scalars_are_typed_without_importing_ruamel() -> None:
    code = (
        "import sys; from generator import yamlio; "
        "data = yamlio.load('a: 1\\nb: true\\nc: ~\\nd: 1.5\\ne: \\'x\\'\\nf: null\\ng: -7\\n'); "
        "print(data, any(m.startswith('ruamel') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (
        "{'a': 1, 'b': True, 'c': None, 'd': 1.5, 'e': 'x', 'f': None, 'g': -7} False"
    ), out.stdout
