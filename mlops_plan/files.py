"""Writing files so that a crash leaves either the old content or the new, never a mix."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    if sys.platform == "win32":  # a folder cannot be opened for fsync there
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(
    path: Path,
    data: str | bytes,
    *,
    mode: int | None = None,
    sync_dir: bool = False,
    durable: bool = True,
) -> None:
    """Replace `path` with `data`: a temporary file beside it, fsync, rename.

    The temporary file is private (0600) unless `mode` says otherwise; `sync_dir` also
    fsyncs the folder, so the rename itself survives a power loss. `durable=False` skips
    the fsync, for caches: still never torn for a reader, but may be lost in a crash.
    """
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
            out.flush()
            if durable:
                os.fsync(out.fileno())
        tmp.replace(path)  # os.replace: atomic, also over an existing file
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if sync_dir:
        fsync_dir(path.parent)
