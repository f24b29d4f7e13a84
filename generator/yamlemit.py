"""Writing YAML: deterministic text that every reader (YAML 1.1 and 1.2) takes back as the data.

Strings are plain only from a conservative alphabet and when no reader could take them for
something else; otherwise double-quoted, or a literal block for readable multi-line text. Keys are
sorted unless asked otherwise. ``tests/spec/test_properties.py`` reads the output back with PyYAML
(YAML 1.1), ruamel and ``yamlio.load``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

# --- dumping -----------------------------------------------------------------------------------

# Plain (unquoted) scalars are allowed only from this conservative alphabet; everything else is
# double-quoted.  The checks below then exclude what a YAML 1.1 reader (go-yaml in Helm and
# Argo CD) or a YAML 1.2 reader could take for something other than a string.
_PLAIN = re.compile(r"[A-Za-z_./][A-Za-z0-9_./@%+=:,()~ -]*")
_NUMBERISH = re.compile(r"[-+.]?[0-9][0-9A-Za-z_.:+-]*")
_SPECIAL_WORDS = frozenset(
    {"y", "yes", "n", "no", "true", "false", "on", "off", "null", "none", "~", "<<", "="}
)
_SPECIAL_FLOATS = re.compile(r"[-+]?\.(inf|nan)", re.IGNORECASE)
# Characters a YAML reader treats as line breaks or that it cannot print: always escaped.
_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\0": "\\0",
    "\x85": "\\N",
    "\u2028": "\\L",
    "\u2029": "\\P",
}
_NEEDS_ESCAPE = re.compile('[\\\\"\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]')


def _escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    known = _ESCAPES.get(ch)
    if known is not None:
        return known
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def quote(text: str) -> str:
    """``text`` as a double-quoted YAML scalar, escaping what a reader would not take back."""
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def is_plain_safe(text: str) -> bool:
    """True when ``text`` reads back as the same string, unquoted, in YAML 1.1 and 1.2 readers."""
    if not _PLAIN.fullmatch(text):
        return False
    if text.endswith((" ", ":")) or text.startswith("...") or ": " in text or " #" in text:
        return False
    lowered = text.lower()
    return not (
        lowered in _SPECIAL_WORDS or _NUMBERISH.fullmatch(text) or _SPECIAL_FLOATS.fullmatch(text)
    )


_BLOCK_LINE = re.compile(
    r"[^\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]*"
)


def _literal_block(text: str, indent: int) -> str | None:
    """A ``|`` block for readable multi-line strings, or None when a block would not round-trip."""
    if "\n" not in text or "\r" in text or "\t" in text:
        return None
    body = text.rstrip("\n")
    trailing = len(text) - len(body)
    if not body or body[0] == " " or body.startswith("\n") or not _BLOCK_LINE.fullmatch(text):
        return None
    lines = body.split("\n")
    if any(line.endswith(" ") for line in lines):
        return None
    chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
    pad = " " * indent
    out = "|" + chomp + "".join("\n" + (pad + line if line else "") for line in lines)
    if chomp == "+":
        out += "\n" * (trailing - 1)
    return out


def scalar(value: Any, indent: int = 0) -> str:
    """One scalar as YAML text that every reader takes back as exactly ``value``."""
    if type(value) is str:
        text = _strings.get(value)
        if text is not None:
            return text
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        if "." not in mantissa:
            mantissa += ".0"
        return mantissa + e + exponent
    if isinstance(value, (datetime, date)):
        return quote(value.isoformat())
    if not isinstance(value, str):
        raise TypeError(f"cannot write a {type(value).__name__} as YAML")
    if is_plain_safe(value):
        text = value
    else:
        block = _literal_block(value, indent)
        if block is not None:
            return block  # its lines carry the indentation: not kept
        text = quote(value)
    if type(value) is str and len(_strings) < 50_000:
        _strings[value] = text
    return text


# One-line strings -> their YAML text (the same at any indentation); values repeat across documents.
_strings: dict[str, str] = {}


# YAML readers (libyaml, PyYAML, go-yaml) take an implicit key only when it is at most 1024
# characters long, quotes and escapes included.
MAX_KEY_CHARS = 1000
_keys: dict[str, str] = {}  # key -> its YAML text; keys repeat in every document


def _key(key: Any) -> str:
    text = _keys.get(key) if type(key) is str else None
    if text is not None:
        return text
    if not isinstance(key, str):
        raise TypeError(f"mapping keys must be strings, not {type(key).__name__}")
    text = key if is_plain_safe(key) else quote(key)
    if len(text) > MAX_KEY_CHARS:
        raise ValueError(
            f"a mapping key of {len(text)} characters (as YAML text) is longer than YAML readers "
            f"accept ({MAX_KEY_CHARS}); shorten the key {key[:40]!r}..."
        )
    if len(_keys) < 50_000:
        _keys[key] = text
    return text


def _emit(value: Any, indent: int, out: list[str], sort_keys: bool) -> None:
    """Append ``value`` as the body of a block node at ``indent`` (each item starts a new line)."""
    pad = " " * indent
    if type(value) is dict or isinstance(value, Mapping):
        keys = sorted(value) if sort_keys else list(value)
        for key in keys:
            item = value[key]
            out.append(f"\n{pad}{_key(key)}:")
            _emit_child(item, indent, out, sort_keys)
    else:
        for item in value:
            out.append(f"\n{pad}-")
            if (type(item) is dict or isinstance(item, Mapping)) and item:
                keys = sorted(item) if sort_keys else list(item)
                first = True
                for key in keys:
                    out.append(f" {_key(key)}:" if first else f"\n{pad}  {_key(key)}:")
                    first = False
                    _emit_child(item[key], indent + 2, out, sort_keys)
            else:
                _emit_child(item, indent, out, sort_keys)


def _emit_child(item: Any, indent: int, out: list[str], sort_keys: bool) -> None:
    kind = type(item)
    if kind is str or kind is int or kind is bool or item is None or kind is float:
        out.append(" " + scalar(item, indent + 2))
    elif kind is dict or isinstance(item, Mapping):
        if item:
            _emit(item, indent + 2, out, sort_keys)
        else:
            out.append(" {}")
    elif isinstance(item, (list, tuple)):
        if item:
            _emit(item, indent + 2, out, sort_keys)
        else:
            out.append(" []")
    else:
        out.append(" " + scalar(item, indent + 2))


def dump_document(data: Any, sort_keys: bool = True) -> str:
    """A whole YAML document (a map, a list or a scalar), ending in one newline."""
    if (isinstance(data, Mapping) and data) or (isinstance(data, (list, tuple)) and data):
        out: list[str] = []
        _emit(data, 0, out, sort_keys)
        return "".join(out)[1:] + "\n"
    if isinstance(data, Mapping):
        return "{}\n"
    if isinstance(data, (list, tuple)):
        return "[]\n"
    return scalar(data, 2) + "\n"  # a top-level block scalar still needs indented lines


def dump_inline(data: Any, indent: int, sort_keys: bool = False) -> str:
    """What follows ``key:`` in a template: `` scalar``, `` {}``, or a block at ``indent``."""
    out: list[str] = []
    _emit_child(data, indent - 2, out, sort_keys)
    return "".join(out)
