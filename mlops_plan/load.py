"""Discovery, a fast and safe parse, and positions on demand.

Every file is parsed with libyaml (PyYAML's C loader): it is about 15x faster than a
round-trip parser. Exact positions for findings come from ruamel.yaml, which parses a
file only when a finding in it needs a line and column (`Locator`).
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from mlops_plan.errors import PathError
from mlops_plan.findings import Anchor, Finding, Severity

API_GROUP = "mlops-plan/"
CONFIG_FILE = "mlops-plan.yaml"
LOCK_FILE = "mlops-plan.lock"
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
MAX_EXPANDED_NODES = 100_000
MAX_ALIASES = 1_000
SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".mlops-plan", "node_modules", "__pycache__"})
DEFAULT_INCLUDE = ("**/*.yaml", "**/*.yml")


class RawDoc(NamedTuple):
    """One mlops-plan document as parsed: plain dicts, lists and scalars."""

    file: str
    doc: int
    data: dict[str, Any]


def find_root(path: Path) -> Path:
    """The repository root: the nearest folder holding mlops-plan.yaml or .git."""
    if not path.exists():
        raise PathError(f"{path}: no such file or directory")
    start = path.resolve()
    if start.is_file():
        start = start.parent
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file() or (folder / ".git").exists():
            return folder
    return start


def _finding(
    rule: str, file: str, line: int | None, col: int | None, message: str, hint: str | None = None
) -> Finding:
    return Finding(
        rule=rule,
        severity=Severity.ERROR,
        file=file,
        line=line,
        col=col,
        message=message,
        hint=hint,
    )


def _compile(patterns: list[str] | tuple[str, ...]) -> Any:
    """A matcher of relative file paths: pathspec's gitignore semantics.

    When every pattern includes (no `!`), a path matches if any pattern does: their
    regular expressions joined into one answer that in one call per path, instead of one
    call per pattern through pathspec (a fifth of a warm lint of 10,000 files).
    """
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    active = [p for p in spec.patterns if p.include is not None]
    expressions = [e for p in active if isinstance(e := getattr(p, "regex", None), re.Pattern)]
    texts = [_UNNAMED.sub("(?:", e.pattern) for e in expressions]
    if len(texts) < len(active) or not all(p.include for p in active):
        return spec
    if any("(?P=" in text for text in texts):
        return spec  # a back-reference needs its named group
    return _Joined(re.compile("|".join(f"(?:{text})" for text in texts) or r"(?!)"))


_UNNAMED = re.compile(r"\(\?P<\w+>")  # a named group, made plain to join expressions


class _Joined(NamedTuple):
    expression: re.Pattern[str]

    def match_file(self, rel: str) -> bool:
        return self.expression.match(rel) is not None


def discover(
    root: Path, include: list[str] | tuple[str, ...], exclude: list[str] | tuple[str, ...]
) -> tuple[list[str], list[Finding]]:
    """Relative POSIX paths of candidate files, sorted; symlinks out of the root refused."""
    included = _compile(include)
    excluded = _compile(exclude) if exclude else None
    files: list[str] = []
    findings: list[Finding] = []
    root_real = root.resolve()
    # os.scandir, not os.walk + stat: a directory entry knows its type without a syscall
    pending = [("", str(root))]
    while pending:
        prefix, folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS:
                    pending.append((rel + "/", entry.path))
                continue
            if not included.match_file(rel) or (excluded is not None and excluded.match_file(rel)):
                continue
            if entry.is_symlink():
                target = Path(entry.path).resolve()
                if not target.is_relative_to(root_real):
                    findings.append(
                        _finding(
                            "MP003",
                            rel,
                            None,
                            None,
                            "symlink points outside the repository; refused",
                            "copy the file into the repository or exclude the link",
                        )
                    )
                    continue
                if not target.is_file():
                    continue
            elif not entry.is_file(follow_symlinks=False):
                continue  # a FIFO, a socket or a device: never read
            files.append(rel)
    files.sort()
    findings.sort(key=lambda f: f.file or "")
    return files, findings


def decode(rel: str, data: bytes) -> str | Finding:
    """Bytes as text, or a finding saying why they are not safe UTF-8 YAML text."""
    if len(data) > MAX_FILE_BYTES:
        return _finding(
            "MP003",
            rel,
            None,
            None,
            f"file is {len(data)} bytes, over the {MAX_FILE_BYTES}-byte limit",
            "split it into several files",
        )
    if b"\0" in data:
        return _finding("MP001", rel, None, None, "binary file (contains NUL bytes), not YAML")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        col = len(data[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        return _finding(
            "MP001",
            rel,
            line,
            col,
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            "save the file as UTF-8",
        )


class Source:
    """Where a repository's files come from: a folder (this class) or git objects (vcs.py).

    `root` names the repository root for messages; paths are relative POSIX paths.
    """

    label = "working tree"

    def __init__(self, root: Path) -> None:
        self.root = root

    def files(
        self, include: list[str] | tuple[str, ...], exclude: list[str] | tuple[str, ...]
    ) -> tuple[list[str], list[Finding]]:
        return discover(self.root, include, exclude)

    def exists(self, rel: str) -> bool:
        return (self.root / rel).is_file()

    def cache_key(self, rel: str) -> str | None:
        """A key that names the file's content without reading it (git: the blob id)."""
        return None

    def read_text(self, rel: str) -> str | Finding:
        """The file as text, or a finding saying why it cannot be read safely."""
        path = self.root / rel
        if path.is_symlink() and not path.resolve().is_relative_to(self.root.resolve()):
            return _finding(
                "MP003",
                rel,
                None,
                None,
                "symlink points outside the repository; refused",
                "copy the file into the repository",
            )
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                return _finding(
                    "MP003",
                    rel,
                    None,
                    None,
                    f"file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit",
                    "split it into several files",
                )
            data = path.read_bytes()
        except OSError as exc:
            return _finding("MP001", rel, None, None, f"cannot read file: {exc.strerror}")
        return decode(rel, data)


def read_text(root: Path, rel: str) -> str | Finding:
    """The file as text, or a finding saying why it cannot be read safely."""
    return Source(root).read_text(rel)


def as_source(where: Path | Source) -> Source:
    return where if isinstance(where, Source) else Source(where)


def _positioned(constructor: Any) -> Any:
    """A scalar constructor whose plain Python errors become YAML errors with a position."""

    def construct(loader: Any, node: yaml.Node) -> Any:
        try:
            return constructor(loader, node)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"invalid {node.tag.rsplit(':', 1)[-1]} value {node.value!r}",
                node.start_mark,
            ) from None

    return construct


class _Loader(yaml.CSafeLoader):
    """libyaml's safe loader that records duplicate keys instead of keeping the last."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[Any, yaml.Mark]] = []
        self.plain = False  # no anchors, no merge keys: _construct_plain may build it

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.tag} needs a mapping", node.start_mark
            )
        explicit = sum(1 for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge")
        self.flatten_mapping(node)
        merged = len(node.value) - explicit  # merged pairs come first; explicit keys override
        mapping: dict[Any, Any] = {}
        explicit_keys: set[Any] = set()
        for position, (key_node, value_node) in enumerate(node.value):
            if position < merged:
                mapping[self.construct_object(key_node, deep=deep)] = self.construct_object(
                    value_node, deep=deep
                )
                continue
            key = self.construct_object(key_node, deep=deep)
            if self._first(explicit_keys, key, node, key_node):
                mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def _first(self, seen: set[Any], key: Any, node: yaml.Node, key_node: yaml.Node) -> bool:
        """Whether `key` is new in its mapping (then `seen` holds it); a repeated key is
        noted in `duplicates`. Keys compare with their types: `1` and `true` differ."""
        try:
            marker = (type(key), key)
            if marker not in seen:
                seen.add(marker)
                return True
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "found an unhashable key",
                key_node.start_mark,
            ) from None
        self.duplicates.append((key, key_node.start_mark))
        return False

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        """A node's implicit tag. For a loader without path resolvers (this one) it is a
        function of (kind, value, implicit) alone, so it is remembered: a repository
        repeats its keys and short values thousands of times, and PyYAML tries a list
        of regular expressions on each."""
        if value is not None and len(value) > _TAG_MEMO_VALUE:
            return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        key = (kind, value, implicit)
        tag = _TAGS.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
            if len(_TAGS) < _TAG_MEMO_SIZE:
                _TAGS[key] = tag
        return tag

    def construct_document(self, node: yaml.Node | None) -> Any:
        if not self.plain or node is None:
            return super().construct_document(node)
        data = self._construct_plain(node)
        # a fallback below may have used the general machinery: reset it as it does
        self.constructed_objects = {}
        self.recursive_objects = {}
        self.deep_construct = False
        return data

    def _construct_plain(self, node: yaml.Node) -> Any:
        """What construct_document builds, without its per-node bookkeeping (memo tables,
        generators): about twice as fast. Only for a document without anchors or merge
        keys (`plain`), where every node is used once; any other tag or node takes the
        general path, which also raises the usual errors."""
        cls = type(node)
        tag = node.tag
        if cls is yaml.ScalarNode:
            if tag == _STR:
                return node.value
            constructor = self.yaml_constructors.get(tag)
            if constructor is None:
                return self.construct_object(node, deep=True)
            return constructor(self, node)
        if cls is yaml.SequenceNode and tag == _SEQ:
            return [self._construct_plain(child) for child in node.value]
        if cls is yaml.MappingNode and tag == _MAP:
            mapping: dict[Any, Any] = {}
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                key = self._construct_plain(key_node)
                if self._first(seen, key, node, key_node):
                    mapping[key] = self._construct_plain(value_node)
            return mapping
        return self.construct_object(node, deep=True)


_TAGS: dict[tuple[Any, Any, Any], Any] = {}
_TAG_MEMO_VALUE = 64  # longer values (descriptions, URIs) are rarely repeated
_TAG_MEMO_SIZE = 100_000
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"

for _tag in ("bool", "int", "float", "binary", "timestamp", "null"):
    _name = f"tag:yaml.org,2002:{_tag}"
    _Loader.add_constructor(_name, _positioned(yaml.SafeLoader.yaml_constructors[_name]))


_INDENT = re.compile(r"^ *", re.MULTILINE)
_COMPACT = re.compile(r"(?:[-?:] +){2,}")


def _depth_bound(text: str) -> int:
    """A cheap upper bound of a file's nesting depth.

    Flow collections nest at most once per bracket; a block collection nests deeper only
    at a greater indentation, or inline after `- `, `? ` or `: ` (`- - - x`). When the
    bound passes MAX_DEPTH the exact depth comes from the event stream, before libyaml's
    recursive composer could overflow the C stack.
    """
    flow = text.count("[") + text.count("{")
    # the bound passes MAX_DEPTH only if the indentation or a compact run reaches half of
    # what is left: two searches that allocate nothing answer that for almost every file
    half = (MAX_DEPTH - 1 - flow) // 2 + 1
    if half > 1 and not _deep_indent(half).search(text) and not _long_run(half).search(text):
        return flow + 2 * (half - 1) + 1  # an upper bound, at most MAX_DEPTH
    indent = max((len(m) for m in _INDENT.findall(text)), default=0)
    compact = max((len(m) for m in _COMPACT.findall(text)), default=0)
    return flow + indent + compact + 1


@cache
def _deep_indent(width: int) -> re.Pattern[str]:
    return re.compile(rf"^ {{{width},}}", re.MULTILINE)


@cache
def _long_run(length: int) -> re.Pattern[str]:
    """Every compact run (`- - - x`) of `length` characters or more, and more besides."""
    return re.compile(rf"[-?:][-?: ]{{{length - 1},}}")


def _too_deep(text: str) -> Any:
    """The mark where nesting passes MAX_DEPTH, from the event stream (no recursion)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH and event.start_mark is not None:
                return event.start_mark
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def _expansion(node: yaml.Node) -> tuple[int, int]:
    """(aliases, expanded node count) of a composed document, without expanding it."""
    sizes: dict[int, int] = {}
    aliases = 0
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, done = stack.pop()
        key = id(current)
        if done:
            total = 1
            for child in _children(current):
                total += sizes[id(child)]
            sizes[key] = min(total, MAX_EXPANDED_NODES + 1)
            continue
        if key in sizes:
            aliases += 1
            continue
        sizes[key] = 0
        stack.append((current, True))
        for child in _children(current):
            if id(child) in sizes:
                aliases += 1
            else:
                stack.append((child, False))
    return aliases, sizes[id(node)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _yaml_error(rel: str, exc: yaml.YAMLError, text: str) -> Finding:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    col = mark.column + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"{context}: {problem}" if context else str(problem)
    if isinstance(exc, yaml.constructor.ConstructorError) and "constructor for the tag" in problem:
        return _finding(
            "MP003",
            rel,
            line,
            col,
            problem.replace("could not determine a constructor for the tag", "custom tag"),
            "mlops-plan documents use plain YAML only; remove the tag",
        )
    hint = None
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        message = "a tab character where YAML expects spaces"
        hint = "YAML indents with spaces: replace the tab"
    return _finding("MP001", rel, line, col, message, hint)


def _char_at(text: str, line: int, column: int) -> str | None:
    lines = text.split("\n")
    if line < len(lines) and column < len(lines[line]):
        return lines[line][column]
    return None


def load_documents(rel: str, text: str) -> tuple[list[Any], list[Finding]]:
    """Every document of a file, loaded safely: nesting, aliases and values checked."""
    if _depth_bound(text) > MAX_DEPTH:
        try:
            mark = _too_deep(text)
        except yaml.YAMLError as exc:
            return [], [_yaml_error(rel, exc, text)]
        if mark is not None:
            return [], [
                _finding(
                    "MP003",
                    rel,
                    mark.line + 1,
                    mark.column + 1,
                    f"nesting deeper than {MAX_DEPTH} levels",
                    "flatten the document",
                )
            ]
    loader = _Loader(text)
    docs: list[Any] = []
    check_aliases = "&" in text
    loader.plain = not check_aliases and "<<" not in text
    try:
        while loader.check_node():
            node = loader.get_node()
            if check_aliases and node is not None:
                aliases, size = _expansion(node)
                if aliases > MAX_ALIASES or size > MAX_EXPANDED_NODES:
                    return [], [
                        _finding(
                            "MP003",
                            rel,
                            node.start_mark.line + 1,
                            node.start_mark.column + 1,
                            f"document expands to over {MAX_EXPANDED_NODES} nodes through "
                            f"{aliases} aliases (a 'billion laughs' bomb?); refused",
                            "write the values out instead of using anchors and aliases",
                        )
                    ]
            docs.append(loader.construct_document(node))
    except yaml.YAMLError as exc:
        return [], [_yaml_error(rel, exc, text)]
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as exc:
        # a constructor without a position (a collection tag on the wrong node kind)
        return [], [_finding("MP001", rel, None, None, f"invalid value: {exc}")]
    finally:
        loader.dispose()
    findings = [
        _finding(
            "MP002",
            rel,
            mark.line + 1,
            mark.column + 1,
            f'duplicate key "{key}" in one mapping',
            "remove or rename one of them; YAML keeps only one",
        )
        for key, mark in loader.duplicates
    ]
    return docs, findings


def parse(rel: str, text: str) -> tuple[list[RawDoc], list[Finding]]:
    """The file's mlops-plan documents, and findings for anything unsafe or broken.

    A file that does not mention the `mlops-plan/` API group holds no document of ours
    and is not parsed at all (a GitOps repository holds Helm templates and CI configs).
    """
    if API_GROUP not in text:
        return [], []
    loaded, findings = load_documents(rel, text)
    docs = [
        RawDoc(rel, index, data)
        for index, data in enumerate(loaded)
        if isinstance(data, dict)
        and isinstance(data.get("apiVersion"), str)
        and data["apiVersion"].startswith(API_GROUP)
    ]
    return docs, findings


def parse_config(
    root: Path | Source,
) -> tuple[dict[str, Any] | None, str | None, list[Finding]]:
    """The raw `mlops-plan.yaml` mapping (None when absent), its text, and findings."""
    return read_mapping(root, CONFIG_FILE)


def read_mapping(
    root: Path | Source, rel: str
) -> tuple[dict[str, Any] | None, str | None, list[Finding]]:
    """A one-document YAML file that must be a mapping (config, lockfile); None if absent."""
    source = as_source(root)
    if not source.exists(rel):
        return None, None, []
    text = source.read_text(rel)
    if isinstance(text, Finding):
        return None, None, [text]
    loaded, findings = load_documents(rel, text)
    if any(f.rule != "MP002" for f in findings):
        return None, text, findings
    if len(loaded) > 1:
        findings.append(_finding("MP001", rel, None, None, f"{rel} must hold one YAML document"))
        return None, text, findings
    data = loaded[0] if loaded else None
    if data is None:
        return {}, text, findings
    if not isinstance(data, dict):
        findings.append(_finding("MP101", rel, 1, 1, f"{rel} must be a mapping"))
        return None, text, findings
    return data, text, findings


def dump_yaml(data: Any) -> str:
    """Stable block-style YAML: sorted keys, no aliases, strings quoted where needed."""
    text: str = yaml.dump(
        data, Dumper=yaml.CSafeDumper, sort_keys=True, default_flow_style=False, width=120
    )
    return text


class Locator:
    """Line and column of a document path, from a round-trip parse made on first need."""

    def __init__(self, root: Path | Source, texts: dict[str, str] | None = None) -> None:
        self.source = as_source(root)
        self.root = self.source.root
        self.texts = texts if texts is not None else {}
        self._docs: dict[str, list[Any] | None] = {}

    def text(self, file: str) -> str | None:
        if file not in self.texts:
            loaded = self.source.read_text(file)
            if isinstance(loaded, Finding):
                return None
            self.texts[file] = loaded
        return self.texts[file]

    def _load(self, file: str) -> list[Any] | None:
        if file not in self._docs:
            text = self.text(file)
            docs: list[Any] | None = None
            if text is not None:
                from ruamel.yaml import YAML

                parser = YAML(typ="rt")
                parser.allow_duplicate_keys = True
                parser.version = (1, 1)
                try:
                    docs = list(parser.load_all(text))
                except Exception:  # ruamel refuses some YAML libyaml reads (a tab before a
                    docs = _positions_from_libyaml(text)  # comment): use libyaml's marks
            self._docs[file] = docs
        return self._docs[file]

    def position(self, anchor: Anchor) -> tuple[int | None, int | None]:
        docs = self._load(anchor.file)
        if docs is None or anchor.doc >= len(docs):
            return None, None
        node = docs[anchor.doc]
        position = _first_position(node)
        for step, part in enumerate(anchor.path):
            last = step == len(anchor.path) - 1
            lc = getattr(node, "lc", None)
            if lc is None:
                break
            if isinstance(node, dict) and part in node:
                child = node[part]
                if (anchor.key and last) or child is None or isinstance(child, (dict, list)):
                    position = lc.key(part)
                else:
                    position = lc.value(part)
                node = child
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                position = lc.item(part)
                node = node[part]
            else:
                break
        line, col = position
        if line is None or col is None:
            return None, None
        return line + 1, col + 1

    def token(self, anchor: Anchor) -> str | None:
        """The source text of the scalar at `anchor` (e.g. ``1.10`` before YAML made 1.1)."""
        line, col = self.position(anchor)
        text = self.text(anchor.file)
        if line is None or col is None or text is None:
            return None
        source = text.split("\n")[line - 1][col - 1 :]
        source = re.split(r"\s#", source, maxsplit=1)[0]
        for stop in (",", "}", "]"):
            cut = source.find(stop)
            if cut >= 0:
                source = source[:cut]
        return source.strip() or None


def _first_position(node: Any) -> tuple[int | None, int | None]:
    lc = getattr(node, "lc", None)
    if lc is None:
        return None, None
    if isinstance(node, dict) and node:
        line, col = lc.key(next(iter(node)))
        return line, col
    return lc.line, lc.col


class _Marks:
    """The part of ruamel's `.lc` interface the Locator uses, filled from libyaml marks."""

    def __init__(self, line: int, col: int) -> None:
        self.line = line
        self.col = col
        self.keys: dict[Any, tuple[int, int]] = {}
        self.values: dict[Any, tuple[int, int]] = {}
        self.items: list[tuple[int, int]] = []

    def key(self, key: Any) -> tuple[int, int]:
        return self.keys[key]

    def value(self, key: Any) -> tuple[int, int]:
        return self.values[key]

    def item(self, index: int) -> tuple[int, int]:
        return self.items[index]


class _MarkedMap(dict[Any, Any]):
    lc: _Marks


class _MarkedList(list[Any]):
    lc: _Marks


def _positions_from_libyaml(text: str) -> list[Any] | None:
    try:
        loader = _Loader(text)
        try:
            nodes = []
            while loader.check_node():
                nodes.append(loader.get_node())
            return [_marked(node, loader) for node in nodes if node is not None]
        finally:
            loader.dispose()
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return None


def _marked(node: yaml.Node, loader: _Loader) -> Any:
    mark = (node.start_mark.line, node.start_mark.column)
    if isinstance(node, yaml.MappingNode):
        mapping = _MarkedMap()
        mapping.lc = _Marks(*mark)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                mapping[key] = _marked(value_node, loader)
            except TypeError:  # an unhashable key: not addressable by a path anyway
                continue
            mapping.lc.keys[key] = (key_node.start_mark.line, key_node.start_mark.column)
            mapping.lc.values[key] = (value_node.start_mark.line, value_node.start_mark.column)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        items = _MarkedList()
        items.lc = _Marks(*mark)
        for child in node.value:
            items.append(_marked(child, loader))
            items.lc.items.append((child.start_mark.line, child.start_mark.column))
        return items
    return loader.construct_object(node, deep=True)
