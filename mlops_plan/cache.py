"""A content-addressed cache of parsed files, in the user's cache directory.

Parsing is the largest part of a cold lint. The cache maps a file's content hash (or,
for a file read from git, its blob id, so the blob need not even be read) to the
documents and findings its parse produced, packed as bytes (analysis.pack). One cache
file per repository root and tool version: a new release never reads an old cache. The
file is a marshal of those bytes by key (quick to write and read, and no code runs when
it is read); a damaged file or entry is a miss. Writes are atomic (temp file, rename),
so concurrent runs never see a torn file; the last writer wins. The cache holds only the
entries the last run used, so it is bounded by the repository's size, and at most
`MAX_FILES` cache files are kept. `--no-cache` (or MLOPS_PLAN_NO_CACHE=1) turns it off.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from pathlib import Path

from mlops_plan import __version__
from mlops_plan.files import write_atomic

FORMAT = 2
MAX_FILES = 32


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlops-plan" / f"{__version__}-{FORMAT}"


def content_key(text: str) -> str:
    """The git blob id of the text: a working-tree file and the same file in a base ref
    share one cache entry, so planning against a base reparses only what changed."""
    data = text.encode("utf-8", "surrogatepass")
    return "blob:" + hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class ParseCache:
    """Parsed files by content key; `save()` keeps exactly the entries this run used."""

    @classmethod
    def for_root(cls, root: Path, enabled: bool = True) -> ParseCache:
        """One cache per repository root in a process: the working tree and its base share it."""
        key = (str(root.resolve()), enabled, str(cache_dir()))
        if key not in _OPEN:
            _OPEN[key] = cls(root, enabled)
        return _OPEN[key]

    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.enabled = enabled and not os.environ.get("MLOPS_PLAN_NO_CACHE")
        key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]
        self.path = cache_dir() / f"parse-{key}.cache"
        self._old: dict[str, bytes] = {}
        self._used: dict[str, bytes] = {}
        self._dirty = False
        self.hits = 0
        if self.enabled:
            self._old = self._read()

    def _read(self) -> dict[str, bytes]:
        try:
            found, entries = marshal.loads(self.path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return {}
        if found != header(FORMAT) or not isinstance(entries, dict):
            return {}
        return entries

    @property
    def empty(self) -> bool:
        """Nothing to look up: off, or nothing stored yet."""
        return not self.enabled or not (self._old or self._used)

    def get(self, key: str) -> bytes | None:
        if not self.enabled:
            return None
        value = self._used.get(key)
        if value is None:
            value = self._old.get(key)
        if value is not None:
            self.hits += 1
            self._used[key] = value
        return value

    def put(self, key: str, value: bytes) -> None:
        if self.enabled:
            self._used[key] = value
            self._dirty = True

    def save(self) -> None:
        """Write the entries this run used, if anything changed; never fail the run."""
        if not self.enabled or (not self._dirty and len(self._used) == len(self._old)):
            return
        self._dirty = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, marshal.dumps((header(FORMAT), self._used)), durable=False)
            prune(self.path.parent, "parse-*.cache")
        except (OSError, ValueError):
            return


_OPEN: dict[tuple[str, bool, str], ParseCache] = {}


def header(file_format: int) -> tuple[int, str, tuple[int, int]]:
    """What a cache file is written by: its format, mlops-plan's version and Python's
    (marshal's format may change with Python). A file with another header is not read."""
    return (file_format, __version__, (sys.version_info[0], sys.version_info[1]))


def prune(folder: Path, pattern: str, keep: int = MAX_FILES) -> None:
    """Keep the `keep` most recently written files matching `pattern` in `folder`."""
    files = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime)
    for old in files[:-keep]:
        old.unlink(missing_ok=True)
