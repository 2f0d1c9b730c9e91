"""Fixtures shared by the tests: repositories written in tmp_path and the real CLI."""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

from mlops_plan.cli import main

# Hermetic properties (Habit 11): no example database; no deadline (Habit 14: no test
# fails on a timing); hypothesis' caches, and the patches it suggests on failure, in a
# temporary folder instead of the checkout. This runs at import, before any test module
# is collected.
settings.register_profile(
    "hermetic",
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile("hermetic")
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="mlops-plan-tests-hypothesis-")
set_hypothesis_home_dir(_HYPOTHESIS_HOME)
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)

Files = Mapping[str, str | bytes]


def _preload_hypothesis_patching() -> None:
    """Import hypothesis' patch writer now, its warnings silenced.

    When a property fails, hypothesis imports libcst to suggest a patch; libcst's import
    raises a DeprecationWarning (mypy_extensions.TypedDict), which `filterwarnings = error`
    turns into an INTERNALERROR that hides the failing example.
    """
    with warnings.catch_warnings(), contextlib.suppress(ImportError):
        warnings.simplefilter("ignore")
        importlib.import_module("hypothesis.extra._patching")


_preload_hypothesis_patching()


class CliResult(NamedTuple):
    """What one `main(args)` call did: its exit code and everything it printed."""

    code: int
    out: str
    err: str


WriteRepo = Callable[..., Path]
RunCli = Callable[..., CliResult]


def write_files(root: Path, files: Files) -> Path:
    """Write `files` (relative POSIX path -> text or bytes) under `root`; return `root`."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    return root


@pytest.fixture
def write_repo() -> WriteRepo:
    """`write_repo(root, files, config="")`: a repository rooted at `root`.

    An `mlops-plan.yaml` (empty by default) makes `root` the repository root, so nothing
    above tmp_path is ever read. Pass `config=None` to write no config file.
    """

    def write(root: Path, files: Files, config: str | None = "") -> Path:
        root.mkdir(parents=True, exist_ok=True)
        if config is not None and "mlops-plan.yaml" not in files:
            (root / "mlops-plan.yaml").write_text(config, encoding="utf-8")
        return write_files(root, files)

    return write


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> RunCli:
    """`run_cli(args, cwd=None)`: call `mlops_plan.cli.main(args)` -> (code, out, err)."""

    def run(args: list[str], cwd: Path | None = None) -> CliResult:
        capsys.readouterr()  # drop anything printed before
        with monkeypatch.context() as patch:
            if cwd is not None:
                patch.chdir(cwd)
            code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def _cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch, _cache_home: Path) -> None:
    """No colour and no clock or configuration leaking in from the caller's environment;
    the parse cache lives in a temporary folder, never in the user's."""
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(_cache_home))
    for name in list(os.environ):
        if name.startswith("MLOPS_PLAN_"):
            monkeypatch.delenv(name)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` (symlinks as their target text), to prove nothing was written."""
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = b"-> " + str(path.readlink()).encode()
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


@pytest.fixture
def tree_snapshot() -> Callable[[Path], dict[str, bytes]]:
    return snapshot
