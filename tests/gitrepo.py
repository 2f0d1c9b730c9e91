"""Real git repositories for tests, built in tmp_path: a fixed identity and clock, no
system configuration, no signing, so that commits and blob ids are reproducible."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

DIGEST = "sha256:" + "{:064x}"  # DIGEST.format(n): a distinct, valid artifact digest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_AUTHOR_DATE": "2026-12-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-12-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(repo: Path, *args: str) -> str:
    """Run git in `repo`; its standard output, stripped. A failure raises."""
    result = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def write(repo: Path, files: Mapping[str, str]) -> None:
    """Write files (relative paths to texts), creating folders."""
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def edit(repo: Path, rel: str, old: str, new: str) -> None:
    """Replace the first `old` of a file by `new`; `old` must be there."""
    path = repo / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def commit(repo: Path, message: str, exclude: Iterable[str] = ()) -> str:
    """Stage everything (but `exclude`, git pathspecs) and commit; the new commit id."""
    excluded = [f":!{path}" for path in exclude]
    git(repo, "add", "-A", *(["--", *excluded] if excluded else []))
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


def init(root: Path, files: Mapping[str, str], message: str = "base") -> Path:
    """A repository at `root` (branch main) with `files`, committed."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    write(root, files)
    commit(root, message)
    return root
