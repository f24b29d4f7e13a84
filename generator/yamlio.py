"""Reading YAML: fast for plain data, located for errors and edits; limits on hostile input."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generator import yamlblock, yamlemit

# Limits that keep hostile input from hanging the tool or exhausting memory.
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_SCALAR_CHARS = 256 * 1024
MAX_DEPTH = 64
MAX_NODES = 2_000_000
# Helm and Argo CD read numbers as float64: an integer beyond this comes out of them changed.
MAX_SAFE_INTEGER = 2**53 - 1


class YAMLLoadError(Exception):
    """A file is not valid YAML, or breaks a limit; line and col are 1-based (0 when unknown)."""

    def __init__(
        self, message: str, line: int = 0, col: int = 0, parts: Sequence[str | int] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col
        self.parts = tuple(parts)
        """The path inside the document, when the problem is a value rather than the text."""

    @property
    def path(self) -> str:
        return format_path(self.parts)


_loaders: dict[str, Any] = {}


def _loader(typ: str) -> Any:
    """One configured ruamel.yaml instance per kind, built on first use (ruamel imports slowly)."""
    yaml = _loaders.get(typ)
    if yaml is None:
        yaml = _loaders[typ] = _new_loader(typ)
    return yaml


def _new_loader(typ: str) -> Any:
    from ruamel.yaml import YAML

    if typ == "safe-pure":
        yaml = YAML(typ="safe", pure=True)
    elif typ == "manifests":
        # What Helm prints, read the way Kubernetes' YAML reader (go-yaml) reads it: YAML 1.1
        # (an unquoted `on` is a boolean), timestamps left as strings.
        yaml = YAML(typ="safe", pure=False)
        yaml.version = (1, 1)
    else:
        yaml = YAML(typ=typ, pure=False) if typ == "safe" else YAML(typ=typ)
    yaml.Resolver = _resolver_class()
    yaml.allow_duplicate_keys = False
    return yaml


_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _resolver_class() -> Any:
    """ruamel's YAML 1.2 resolver without timestamps: a date is a string, as Helm reads it."""
    from ruamel.yaml.resolver import VersionedResolver, implicit_resolvers

    class Resolver(VersionedResolver):
        @property
        def versioned_resolver(self) -> Any:
            version = self.processing_version
            if isinstance(version, str):
                version = tuple(map(int, version.split(".")))
            if version not in self._version_implicit_resolver:
                for versions, tag, regexp, first in implicit_resolvers:
                    if version in versions and tag != _TIMESTAMP:
                        self.add_version_implicit_resolver(version, tag, regexp, first)
            return self._version_implicit_resolver[version]

    return Resolver


def _load(text: str, typ: str) -> Any:
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    _check_size(text)
    try:
        try:
            return _loader(typ).load(text)
        except MarkedYAMLError:
            if typ != "safe":
                raise
            # The C scanner is libyaml's, which reads YAML 1.1: it refuses some YAML 1.2 text,
            # such as a URL in a flow map ({repository: oci://host/path}). ruamel's own parser
            # decides; its error, if any, is the one reported.
            return _loader("safe-pure").load(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "invalid YAML"
        if "duplicate key" in str(e):
            problem = "duplicate key " + _duplicate_key_name(str(e)) + "; remove one of them"
        elif "another document" in problem:
            problem = "a second document starts here; a file holds one document"
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        raise YAMLLoadError(f"invalid YAML: {problem}", line, col) from None
    except YAMLError as e:
        raise _reader_error(e, text) from None
    except RecursionError:
        line, col = _first_too_deep(text)
        raise YAMLLoadError(f"nested more than {MAX_DEPTH} levels deep", line, col) from None


def _check_size(text: str) -> None:
    # A character is at most 4 bytes in UTF-8: most texts need no encoding to be measured.
    if (
        len(text) * 4 > MAX_FILE_BYTES
        and len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES
    ):
        raise YAMLLoadError(
            f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; "
            "split it or move data out of the spec"
        )


def _first_too_deep(text: str) -> tuple[int, int]:
    """Where the first collection nested deeper than the limit opens (0, 0 if none is found)."""
    from ruamel.yaml.error import YAMLError

    for pure in (False, True):
        depth = 0
        try:
            for event in iter_events(text, pure):
                name = type(event).__name__
                if name in ("MappingStartEvent", "SequenceStartEvent"):
                    if depth > MAX_DEPTH:
                        return event.start_mark.line + 1, event.start_mark.column + 1
                    depth += 1
                elif name in ("MappingEndEvent", "SequenceEndEvent"):
                    depth -= 1
        except YAMLError:
            continue
        break
    return 0, 0


def load_manifests(text: str) -> list[Any]:
    """Every document of a multi-document stream (Helm's output), empty documents dropped."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return [doc for doc in _loader("manifests").load_all(text) if doc is not None]
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        raise YAMLLoadError(f"invalid YAML: {e.problem or e.context}", line, col) from None
    except YAMLError as e:
        raise YAMLLoadError(f"invalid YAML: {e}") from None


def _reader_error(error: Any, text: str) -> YAMLLoadError:
    """A character YAML does not allow in a file, located (ruamel gives only an offset)."""
    position = getattr(error, "position", None)
    character = getattr(error, "character", None)
    if not isinstance(position, int) or not isinstance(character, int):
        return YAMLLoadError(f"invalid YAML: {str(error).splitlines()[0]}")
    line = text.count("\n", 0, position) + 1
    col = position - (text.rfind("\n", 0, position) + 1) + 1
    return YAMLLoadError(
        f"invalid YAML: the character U+{character:04X} is not allowed in YAML text; remove it, "
        "or write it as an escape (\\u....) inside a double-quoted string",
        line,
        col,
    )


def _duplicate_key_name(message: str) -> str:
    match = re.search(r'found duplicate key "([^"]*)"', message)
    return f'"{match.group(1)}"' if match else ""


def load(text: str) -> Any:
    """Parse one YAML 1.2 document into plain Python data with the C parser, checking the limits."""
    return load_document(text).data


@dataclass(frozen=True, slots=True)
class Document:
    data: Any
    unsafe_integers: bool
    """It holds an integer beyond ±MAX_SAFE_INTEGER (noticed by the limits check, for free)."""
    string_keys: bool = False
    """Every mapping key is known to be a string (the fast path sees each key; False: unknown)."""


def load_document(text: str) -> Document:
    """``load``, and what the limits check noticed on its way through the document.

    The fast path checks the limits while it builds the document; whatever is over a limit, or
    unusual, goes to ruamel's loader and the limits walk, which word every refusal.
    """
    _check_size(text)  # every path, not only ruamel's: a spec read from git is not measured before
    try:
        data, seen = yamlblock.read(
            text, _plain_scalar, MAX_DEPTH, MAX_NODES, MAX_SCALAR_CHARS, MAX_SAFE_INTEGER
        )
        return Document(data, seen.unsafe, seen.string_keys)
    except (yamlblock.Unread, _Fallback):
        pass
    try:
        return _fast_load(text)
    except _Fallback:
        data = _load(text, "safe")
    return Document(data, check_limits(data))


class _Fallback(Exception):
    """The fast path met something it leaves to ruamel (aliases, tags, errors, rare scalars)."""


# ruamel.yaml's YAML 1.2 resolver table (``ruamel.yaml.resolver.implicit_resolvers``, timestamps
# left out as everywhere here), written out so that reading a plain scalar does not import ruamel:
# (tag, expression, first characters), in ruamel's order. tests/spec/test_yamlio_resolvers.py
# holds it to the installed ruamel's table, expression for expression.
_X = re.X
RESOLVERS_1_2: tuple[tuple[str, str, int, tuple[str, ...]], ...] = (
    ("tag:yaml.org,2002:bool", "^(?:true|True|TRUE|false|False|FALSE)$", _X, ("t", "T", "f", "F")),
    (
        "tag:yaml.org,2002:float",
        """^(?:
         [-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\\.(?:inf|Inf|INF)
        |\\.(?:nan|NaN|NAN))$""",
        _X,
        ("-", "+", *"0123456789", "."),
    ),
    (
        "tag:yaml.org,2002:int",
        """^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""",
        _X,
        ("-", "+", *"0123456789"),
    ),
    ("tag:yaml.org,2002:merge", "^(?:<<)$", 0, ("<",)),
    (
        "tag:yaml.org,2002:null",
        """^(?: ~
        |null|Null|NULL
        | )$""",
        _X,
        ("~", "n", "N", ""),  # "": the empty scalar is null too
    ),
    ("tag:yaml.org,2002:value", "^(?:=)$", 0, ("=",)),
    ("tag:yaml.org,2002:yaml", "^(?:!|&|\\*)$", 0, ("!", "&", "*")),
)
_resolvers: dict[str, list[tuple[str, Any]]] = {}
_SIMPLE_INT = re.compile(r"[-+]?[0-9]+")
_SIMPLE_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)")
_STR, _NULL, _BOOL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool"
_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


def _plain(value: str) -> Any:
    """A plain scalar, typed by ruamel's own YAML 1.2 resolver table (the same expressions)."""
    if not _resolvers:
        for tag, pattern, flags, first in RESOLVERS_1_2:
            regexp = re.compile(pattern, flags)
            for ch in first:
                _resolvers.setdefault(ch, []).append((tag, regexp))
    tag = _STR
    for candidate, regexp in _resolvers.get(value[0] if value else "", ()):
        if regexp.match(value):
            tag = candidate
            break
    if tag == _STR:
        return value
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return value.lower() == "true"
    if tag == _INT and _SIMPLE_INT.fullmatch(value):
        return int(value)
    if tag == _FLOAT and _SIMPLE_FLOAT.fullmatch(value):
        return float(value)
    raise _Fallback


def _plain_scalar(value: str) -> Any:
    """``_plain``, memoised: plain scalars repeat (keys above all); typed values are immutable."""
    typed = _plain_cache.get(value, _NO_KEY)
    if typed is _NO_KEY:
        typed = _plain(value)
        if len(_plain_cache) < _PLAIN_CACHE_SIZE:
            _plain_cache[value] = typed
    return typed


def _fast_load(text: str) -> Document:
    """ruamel's C parser, and a small constructor for the plain data spec and output files hold.

    It gives exactly what ``_load(text, "safe")`` and ``check_limits`` give, several times faster;
    anything it does not handle itself (anchors, aliases, tags, directives, merge keys, duplicate
    or complex keys, unusual numbers, timestamps, anything over a limit, every error) goes back to
    ruamel by raising _Fallback.
    """
    try:
        from _ruamel_yaml import CParser  # type: ignore[import-not-found]
    except ImportError:  # without ruamel.yaml.clib, ruamel's pure-Python loader does it all
        raise _Fallback from None
    from ruamel.yaml import events

    parser = CParser(text)
    get = parser.get_event
    plain_cache = _plain_cache
    scalar_event, mapping_start = events.ScalarEvent, events.MappingStartEvent
    sequence_start = events.SequenceStartEvent
    closers = (events.MappingEndEvent, events.SequenceEndEvent)
    # Each open collection: [container, pending key or _NO_KEY (maps) / None (lists)].
    stack: list[list[Any]] = []
    result: Any = None
    documents = nodes = 0
    unsafe, string_keys = False, True
    try:
        while True:
            event = get()
            if event is None:
                break
            kind = type(event)
            if kind is scalar_event:
                if event.anchor is not None or event.tag is not None:
                    raise _Fallback
                value = event.value
                if len(value) > MAX_SCALAR_CHARS:
                    raise _Fallback
                if event.implicit[0]:
                    typed = plain_cache.get(value, _NO_KEY)
                    value = _plain_scalar(value) if typed is _NO_KEY else typed
                    if type(value) is int and not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
                        unsafe = True
                nodes += 1
            elif kind is mapping_start or kind is sequence_start:
                if event.anchor is not None or event.tag is not None:
                    raise _Fallback
                if len(stack) > MAX_DEPTH:
                    # Refused here, without reading on: libyaml slows down with each open level.
                    raise _too_deep(stack)
                container: Any = {} if kind is mapping_start else []
                stack.append([container, _NO_KEY if kind is mapping_start else None])
                nodes += 1
                continue
            elif kind in closers:
                value = stack.pop()[0]
            elif kind is events.DocumentStartEvent:
                documents += 1
                if documents > 1 or event.version is not None or event.tags:
                    raise _Fallback
                continue
            elif kind is events.AliasEvent:
                raise _Fallback
            else:  # stream start/end, document end
                continue
            if not stack:
                result = value
                continue
            top = stack[-1]
            container = top[0]
            if type(container) is list:
                container.append(value)
            elif top[1] is _NO_KEY:
                if isinstance(value, (dict, list)) or value in container:
                    raise _Fallback
                if type(value) is not str:
                    string_keys = False
                top[1] = value
            else:
                container[top[1]] = value
                top[1] = _NO_KEY
    except (_Fallback, YAMLLoadError):
        raise
    except Exception:
        raise _Fallback from None
    finally:
        parser.dispose()
    if nodes > MAX_NODES:  # counted as check_limits counts them (no aliases on this path)
        raise _Fallback
    return Document(result, unsafe, string_keys)


def _too_deep(stack: list[list[Any]]) -> Exception:
    """The depth error for the collection about to open below ``stack``, worded as check_limits."""
    path: list[str | int] = []
    for container, key in stack:
        if type(container) is list:
            path.append(len(container))
        elif key is _NO_KEY:
            return _Fallback()  # a collection as a key: ruamel's loader decides
        else:
            path.append(key)
    return YAMLLoadError(f"nested more than {MAX_DEPTH} levels deep", parts=path)


_NO_KEY = object()
# Plain scalars repeat a lot (keys above all); their typed values are immutable.
_plain_cache: dict[str, Any] = {}
_PLAIN_CACHE_SIZE = 50_000


def load_located(text: str) -> Any:
    """Parse with the round-trip loader, whose maps and lists know their line and column (slow)."""
    return _load(text, "rt")


def iter_events(text: str, pure: bool = False) -> Iterator[Any]:
    """The parser events of ``text``, one at a time (no document is built).

    libyaml's C parser by default; ``pure`` takes ruamel's own, which decides when libyaml refuses
    YAML 1.2 text. Either raises ruamel's YAMLError at the first error.
    """
    if not pure:
        try:
            from _ruamel_yaml import CParser
        except ImportError:
            pure = True
    if pure:
        # A loader of its own: a YAML instance holds one parser, and these events are read lazily,
        # interleaved with other parses.
        yield from _new_loader("rt").parse(text)
        return
    parser = CParser(text)
    try:
        while (event := parser.get_event()) is not None:
            yield event
    finally:
        parser.dispose()


def key_value(event: Any) -> Any:
    """A mapping key's scalar event as the loaders type it (``1`` is an int, ``"1"`` a string)."""
    if not event.implicit[0] or event.tag is not None:
        return event.value
    try:
        return _plain(event.value)
    except _Fallback:
        return event.value


def parse_events(text: str) -> list[Any]:
    """The parser events of ``text``; their marks give each node's exact span (in-place edits)."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return list(_loader("rt").parse(text))
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        raise YAMLLoadError(
            f"invalid YAML: {e.problem or e.context or 'invalid YAML'}", line, col
        ) from None
    except YAMLError as e:
        raise YAMLLoadError(f"invalid YAML: {e}") from None


def locate(doc: Any, path: Sequence[str | int], at_key: bool = False) -> tuple[int, int]:
    """The 1-based line and column of ``path`` in a round-trip document.

    A scalar at the end of the path is located at its value unless ``at_key``; maps and lists
    at their key.
    """
    line, col = 1, 1
    node = doc
    last = len(path) - 1
    for index, part in enumerate(path):
        lc = getattr(node, "lc", None)
        try:
            if isinstance(node, Mapping) and part in node:
                if lc is not None:
                    # The value's position for the last step (what is wrong), else the key's.
                    child = node[part]
                    at_value = (
                        index == last and not at_key and not isinstance(child, (Mapping, list))
                    )
                    line, col = lc.value(part) if at_value else lc.key(part)
                    line, col = line + 1, col + 1
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                if lc is not None:
                    line, col = lc.item(part)
                    line, col = line + 1, col + 1
                node = node[part]
            else:
                break
        except (KeyError, IndexError, TypeError):
            break
    return line, col


def check_limits(data: Any) -> bool:
    """Refuse documents that nest too deeply, expand too far through aliases, or hold huge text.

    Returns whether the document holds an integer beyond ±MAX_SAFE_INTEGER: the walk meets every
    scalar anyway, and looking for one elsewhere would cost a walk of its own.
    """
    sizes: dict[int, int] = {}
    unsafe = False

    def walk(node: Any, depth: int, path: tuple[str | int, ...]) -> int:
        if isinstance(node, str):
            if len(node) > MAX_SCALAR_CHARS:
                raise YAMLLoadError(
                    f"string of {len(node)} characters is longer than the limit "
                    f"of {MAX_SCALAR_CHARS}",
                    parts=path,
                )
            return 1
        if not isinstance(node, (dict, list)):
            if node is not None and not isinstance(node, (bool, int, float)):
                raise YAMLLoadError(
                    f"unsupported YAML type ({type(node).__name__}); values are strings, numbers, "
                    "booleans, null, maps and lists",
                    parts=path,
                )
            if type(node) is int and not -MAX_SAFE_INTEGER <= node <= MAX_SAFE_INTEGER:
                nonlocal unsafe
                unsafe = True
            return 1
        if depth > MAX_DEPTH:
            raise YAMLLoadError(f"nested more than {MAX_DEPTH} levels deep", parts=path)
        known = sizes.get(id(node))
        if known is not None:
            return known
        items = node.items() if isinstance(node, dict) else enumerate(node)
        total = 1
        for key, value in items:
            total += walk(value, depth + 1, (*path, key))
            if total > MAX_NODES:
                raise YAMLLoadError(
                    f"document expands to more than {MAX_NODES} nodes "
                    "(aliases repeated too often?)",
                    parts=path,
                )
        sizes[id(node)] = total
        return total

    walk(data, 0, ())
    return unsafe


def format_path(path: Sequence[str | int]) -> str:
    """``('apps', 'web', 'values', 'a.b', 0)`` → ``apps.web.values["a.b"][0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{yamlemit.quote(str(part))}]"
    return out
