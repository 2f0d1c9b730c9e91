"""Git, and only here: the base of a plan read straight from git objects (no checkout)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from mlops_plan.errors import VcsError
from mlops_plan.findings import Finding
from mlops_plan.load import MAX_FILE_BYTES, Source, _compile, _finding, decode


class Revision(NamedTuple):
    commit: str | None
    dirty: bool


def _repo(root: Path) -> Any:
    import git

    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def revision(root: Path, files: Iterable[str] | None = None) -> Revision:
    """The commit checked out at `root` and whether the configuration differs from it.

    With `files` (the declaration files, relative to `root`), only changes to those, to
    mlops-plan.yaml and to the lockfile count: rendered manifests and state files that an
    apply writes do not make the configuration dirty.
    """
    repo = _repo(root)
    if repo is None:
        return Revision(None, False)
    try:
        commit = repo.head.commit.hexsha
    except ValueError:  # no commit yet
        return Revision(None, True)
    prefix = _prefix(repo, root)
    status = repo.git.status("--porcelain", "--untracked-files=all", "--", prefix or ".")
    changed = {line[3:].strip('"') for line in status.splitlines() if len(line) > 3}
    if files is None:
        return Revision(commit, bool(changed))
    cut = len(prefix) + 1 if prefix else 0
    relevant = {*files, "mlops-plan.yaml", "mlops-plan.lock"}
    for path in changed:
        for part in path.split(" -> "):  # renames
            if part[cut:] in relevant:
                return Revision(commit, True)
    return Revision(commit, False)


def relative_root(root: Path) -> str:
    """The repository root relative to the git work tree ("." at its top; no absolute path)."""
    repo = _repo(root)
    if repo is None:
        return "."
    return _prefix(repo, root) or "."


def _prefix(repo: Any, root: Path) -> str:
    top = Path(repo.working_tree_dir).resolve()
    rel = root.resolve().relative_to(top).as_posix()
    return "" if rel == "." else rel


class GitSource(Source):
    """The files of one commit under the repository root, read from git objects."""

    label = "git"

    def __init__(self, root: Path, repo: Any, commit: Any, ref: str) -> None:
        super().__init__(root)
        self.commit = commit
        self.ref = ref
        prefix = _prefix(repo, root)
        tree = commit.tree
        self.blobs: dict[str, Any] = {}
        if prefix:
            try:
                tree = tree / prefix
            except KeyError:
                return  # the folder did not exist at the base: an empty repository
        for item in tree.traverse():
            if item.type == "blob":
                self.blobs[
                    Path(item.path).relative_to(tree.path or ".").as_posix()
                    if tree.path
                    else item.path
                ] = item

    def files(
        self, include: list[str] | tuple[str, ...], exclude: list[str] | tuple[str, ...]
    ) -> tuple[list[str], list[Finding]]:
        included = _compile(include)
        excluded = _compile(exclude) if exclude else None
        out = []
        for rel, blob in self.blobs.items():
            if blob.mode == 0o120000:  # a symlink: its target is not in this tree's text
                continue
            if included.match_file(rel) and not (excluded is not None and excluded.match_file(rel)):
                out.append(rel)
        return sorted(out), []

    def exists(self, rel: str) -> bool:
        return rel in self.blobs

    def cache_key(self, rel: str) -> str | None:
        blob = self.blobs.get(rel)
        return f"blob:{blob.hexsha}" if blob is not None else None

    def read_text(self, rel: str) -> str | Finding:
        blob = self.blobs.get(rel)
        if blob is None:
            return _finding("MP001", rel, None, None, f"not in {self.ref}")
        if blob.size > MAX_FILE_BYTES:
            return decode(rel, b"x" * (MAX_FILE_BYTES + 1))
        return decode(rel, blob.data_stream.read())


def base_source(root: Path, ref: str) -> GitSource:
    """The tree at the merge-base of `ref` and HEAD, so a plan shows only HEAD's changes."""
    import git

    repo = _repo(root)
    if repo is None:
        raise VcsError(
            f"{root} is not in a git repository, so --base {ref} cannot be read",
            "pass a folder as --base DIR to compare against a plain directory",
        )
    try:
        other = repo.commit(ref)
    except (git.BadName, ValueError, git.GitCommandError):
        raise VcsError(
            f'unknown git reference "{ref}"',
            f"fetch it first, e.g. `git fetch origin {ref.removeprefix('origin/')}`",
        ) from None
    try:
        head = repo.head.commit
    except ValueError:
        raise VcsError("HEAD has no commit yet", "commit the configuration first") from None
    bases = repo.merge_base(other, head)
    if not bases:
        shallow = Path(repo.git_dir, "shallow").exists()
        if shallow:
            raise VcsError(
                f"no merge-base of {ref} and HEAD: this is a shallow clone",
                "fetch the history: `git fetch --unshallow` (or fetch-depth: 0 in "
                "actions/checkout)",
            )
        raise VcsError(f"{ref} and HEAD have no common ancestor")
    return GitSource(root, repo, bases[0], ref)
