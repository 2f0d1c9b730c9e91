"""The incremental lint gives exactly the findings of a full lint, and takes its fast path
only where that is exact.

Every check compares `lint` (cache on, starting from the previous lint's snapshot) with
`lint --no-cache` (a full analysis) on the same working tree, after each edit of a
sequence, so the snapshot each step starts from is the one the previous step left.
"""

from __future__ import annotations

import marshal
import os
import random
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from generated import generate
from gitrepo import edit
from hypothesis import given
from hypothesis import strategies as st

from mlops_plan import incremental
from mlops_plan.cache import cache_dir
from mlops_plan.pipeline import lint

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ml-platform"


class Spy:
    """How each lint ran: "full", "partial" (with the size of the partial repository)
    or "unchanged"."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.modes: list[str] = []
        self.subsets: list[list[str]] = []
        real_lint, real_partial = incremental.lint, incremental._partial

        def spy_lint(root: Path, options: Any) -> incremental.Outcome | None:
            before = len(self.subsets)
            outcome = real_lint(root, options)
            if outcome is None:
                self.modes.append("full")
            else:
                self.modes.append("partial" if len(self.subsets) > before else "unchanged")
            return outcome

        def spy_partial(root: Path, subset: list[str], options: Any) -> Any:
            self.subsets.append(subset)
            return real_partial(root, subset, options)

        monkeypatch.setattr(incremental, "lint", spy_lint)
        monkeypatch.setattr(incremental, "_partial", spy_partial)

    @property
    def last(self) -> str:
        return self.modes[-1]


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    return Spy(monkeypatch)


def same_as_full(root: Path, **options: Any) -> list[tuple[str, str, int | None, str]]:
    """Lint with the cache and without; they must agree finding for finding."""
    cached = lint(root, **options)
    full = lint(root, use_cache=False, **options)
    assert cached.findings == full.findings
    assert cached.summary == full.summary
    return [(f.rule, f.file or "", f.line, f.severity.value) for f in full.findings]


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    return root


FD = "deployments/fraud-detector.yaml"
TE = "models/text-embedder.yaml"
SR = "models/search-ranker.yaml"

# (what, file, old text, new text, how the lint after it must run)
EDITS: list[tuple[str, str, str, str, str]] = [
    ("replicas of one deployment", FD, "replicas: 2", "replicas: 3", "partial"),
    (
        "a version that does not exist (MP301)",
        FD,
        'staging: {version: "2.4.1"',
        'staging: {version: "1.0.0"',
        "partial",
    ),
    ("the pin repaired", FD, 'staging: {version: "1.0.0"', 'staging: {version: "2.4.1"', "partial"),
    ("a comment only", TE, "# Model: sentence", "# Model (edited): sentence", "partial"),
    ("a version deprecated", TE, '"1.2.0"\n', '"1.2.0"\n      status: deprecated\n', "partial"),
    (
        "a dependency's version renamed (MP306)",
        TE,
        '- version: "1.3.0"',
        '- version: "1.3.1"',
        "partial",
    ),
    (
        "a suppression without reason (MP004)",
        FD,
        "replicas: 3",
        "replicas: 3  # mlops-plan: ignore[MP404] -- x",
        "partial",
    ),
    ("an unknown model (MP201: full)", FD, "model: fraud-detector", "model: fraud-detectr", "full"),
    ("the model name repaired", FD, "model: fraud-detectr", "model: fraud-detector", "full"),
    ("an environment (a shared file)", "environments/dev.yaml", "dev", "dev ", "full"),
    ("nothing", FD, "", "", "unchanged"),
]


def test_each_edit_of_a_sequence_lints_as_a_full_lint_would(example: Path, spy: Spy) -> None:
    same_as_full(example)  # the first lint writes the snapshot
    assert spy.modes == ["full"]
    seen: set[tuple[str, ...]] = set()
    for what, rel, old, new, mode in EDITS:
        if old:
            edit(example, rel, old, new)
        findings = same_as_full(example)
        seen.add(tuple(sorted({f[0] for f in findings})))
        assert spy.last == mode, what
    # the sequence really went through findings, not only through a clean repository
    for rule in ("MP004", "MP201", "MP301", "MP306"):
        assert any(rule in rules for rules in seen), rule


def test_a_partial_lint_reads_the_change_and_what_it_reaches_only(example: Path, spy: Spy) -> None:
    lint(example)
    edit(example, FD, "replicas: 2", "replicas: 3")
    same_as_full(example)
    assert spy.last == "partial"
    subset = spy.subsets[-1]
    assert FD in subset and "models/fraud-detector.yaml" in subset
    assert "deployments/churn-predictor.yaml" not in subset
    assert "models/churn-predictor.yaml" not in subset
    assert "runtimes/triton.yaml" in subset  # shared files are always analysed


def test_a_change_reaches_through_depends_on(example: Path, spy: Spy) -> None:
    lint(example)
    edit(example, TE, "recall_at_10: 0.867", "recall_at_10: 0.868")
    same_as_full(example)
    subset = spy.subsets[-1]
    # search-ranker depends on text-embedder: both models and both deployments are read
    assert {TE, SR, "deployments/text-embedder.yaml", "deployments/search-ranker.yaml"} <= set(
        subset
    )


def test_deleted_and_added_files(example: Path, spy: Spy) -> None:
    lint(example)
    (example / "deployments/churn-predictor.yaml").unlink()
    same_as_full(example)
    assert spy.last == "partial"
    text = (example / FD).read_text()
    (example / "deployments/fraud-detector-2.yaml").write_text(
        text.replace("name: fraud-detector\n", "name: fraud-detector-2\n", 1)
    )
    same_as_full(example)
    assert spy.last == "partial"
    (example / "deployments/fraud-detector-3.yaml").write_text(text)  # a duplicate name
    findings = same_as_full(example)
    assert spy.last == "full"
    assert [f for f in findings if f[0] == "MP103"]


def test_a_file_that_stops_parsing_and_a_file_outside_our_api(example: Path, spy: Spy) -> None:
    lint(example)
    (example / "notes.yaml").write_text("just: a file of someone else\n")
    same_as_full(example)
    assert spy.last == "partial"  # no mlops-plan document: it reaches nothing
    (example / FD).write_text((example / FD).read_text() + "  bad: [\n")
    findings = same_as_full(example)
    assert spy.last == "full"
    assert findings[0][:2] == ("MP001", FD)
    same_as_full(example)
    assert spy.last == "full"  # while a file does not parse, every lint is a full one


def test_the_configuration_and_the_options_are_part_of_the_snapshot(
    example: Path, spy: Spy
) -> None:
    lint(example)
    same_as_full(example, no_ignore=True)
    assert spy.last == "full"
    same_as_full(example, no_ignore=True)
    assert spy.last == "unchanged"
    config = example / "mlops-plan.yaml"
    config.write_text(config.read_text() + "\n# edited\n")
    same_as_full(example, no_ignore=True)
    assert spy.last == "full"


def test_a_same_size_edit_with_the_old_mtime_is_still_seen(example: Path, spy: Spy) -> None:
    lint(example)
    path = example / FD
    before = path.stat()
    edit(example, FD, "replicas: 2", "replicas: 9")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    cached = lint(example)
    assert cached.findings == lint(example, use_cache=False).findings
    assert spy.last == "partial"


def test_a_damaged_snapshot_means_a_full_lint(example: Path, spy: Spy) -> None:
    lint(example)
    snapshot = incremental.snapshot_path(example)
    assert snapshot.is_file()
    whole = snapshot.read_bytes()
    another_version = marshal.dumps(((1, "0.0.1", (3, 9)), "", (), (), 0, {}, {}))
    for damage in (b"", b"not a snapshot", whole[:100], whole[:-3], b"\xff" * 64, another_version):
        snapshot.write_bytes(damage)
        same_as_full(example)
        assert spy.last == "full"


def test_an_unwritable_cache_never_fails_the_lint(
    example: Path, spy: Spy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    same_as_full(example)
    same_as_full(example)
    assert spy.modes == ["full", "full"]


def test_no_cache_neither_reads_nor_writes_a_snapshot(example: Path, spy: Spy) -> None:
    lint(example, use_cache=False)
    assert not incremental.snapshot_path(example).exists()
    assert spy.modes == []


def test_the_cli_lints_incrementally_from_a_subfolder(
    example: Path, run_cli: Callable[..., Any]
) -> None:
    first = run_cli(["lint", "--format", "json", "."], cwd=example / "deployments")
    edit(example, FD, "replicas: 2", "replicas: 3")
    second = run_cli(["lint", "--format", "json", "."], cwd=example / "deployments")
    full = run_cli(["lint", "--no-cache", "--format", "json", "."], cwd=example)
    assert first.code == second.code == full.code
    assert second.out == full.out
    assert list(cache_dir().glob("lint-*.snapshot"))


# --- randomized edits on a generated repository ------------------------------------------


def _docs(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _mutations(root: Path, rng: random.Random) -> Iterator[tuple[str, Callable[[], None]]]:
    deployments = sorted((root / "deployments").glob("*.yaml"))
    models = sorted((root / "models").glob("*.yaml"))

    def write(path: Path, data: Any) -> None:
        path.write_text(yaml.safe_dump(data, sort_keys=False))

    dep, model = rng.choice(deployments), rng.choice(models)
    other = rng.choice(models)

    def replicas() -> None:
        data = _docs(dep)
        data["spec"]["replicas"] = rng.randint(1, 9)
        write(dep, data)

    def pin() -> None:
        data = _docs(dep)
        model_file = root / "models" / f"{data['spec']['model']}.yaml"
        if not model_file.exists():
            return
        model_data = _docs(model_file)
        versions = [v["version"] for v in model_data["spec"]["versions"]] + ["9.9.9"]
        env = rng.choice(sorted(data["spec"]["environments"]))
        data["spec"]["environments"][env]["version"] = rng.choice(versions)
        write(dep, data)

    def retarget() -> None:
        data = _docs(dep)
        data["spec"]["model"] = _docs(other)["metadata"]["name"]
        write(dep, data)

    def status() -> None:
        data = _docs(model)
        version = rng.choice(data["spec"]["versions"])
        version["status"] = rng.choice(["deprecated", "yanked", "active"])
        write(model, data)

    def requires() -> None:
        data = _docs(model)
        version = rng.choice(data["spec"]["versions"])
        version["requires"] = {key: ">=99" for key in version.get("requires") or {"onnx": 1}}
        write(model, data)

    def depends() -> None:
        data = _docs(model)
        version = rng.choice(data["spec"]["versions"])
        version["dependsOn"] = [{"model": _docs(other)["metadata"]["name"], "version": ">=0"}]
        write(model, data)

    def delete() -> None:
        rng.choice([dep, model]).unlink()

    def copy() -> None:
        data = _docs(dep)
        data["metadata"]["name"] += "-copy"
        write(dep.with_name(dep.stem + "-copy.yaml"), data)

    yield from [
        ("replicas", replicas),
        ("pin", pin),
        ("retarget", retarget),
        ("status", status),
        ("requires", requires),
        ("depends", depends),
        ("delete", delete),
        ("copy", copy),
    ]


@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 2**32)), min_size=1, max_size=4))
def test_random_edits_lint_as_a_full_lint_would(steps: list[tuple[int, int]]) -> None:
    import tempfile

    previous = os.environ.get("XDG_CACHE_HOME")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "repo"
        generate(root, models=12, seed=7)
        os.environ["XDG_CACHE_HOME"] = str(Path(folder) / "cache")
        try:
            lint(root)
            for choice, seed in steps:
                mutations = list(_mutations(root, random.Random(seed)))
                mutations[choice % len(mutations)][1]()
                same_as_full(root)
        finally:
            if previous is None:
                os.environ.pop("XDG_CACHE_HOME", None)
            else:
                os.environ["XDG_CACHE_HOME"] = previous


def test_concurrent_lints_share_one_cache_safely(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two lints at once, on the same tree and cache: both right, the snapshot whole."""
    import re
    import subprocess

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "shared-cache")}
    command = [sys.executable, "-m", "mlops_plan", "lint", "--format", "json", str(example)]
    subprocess.run(command, env=env, capture_output=True, check=False)
    path = example / FD
    for replicas in (3, 4, 5):
        path.write_text(
            re.sub(r"(?m)^  replicas: \d+", f"  replicas: {replicas}", path.read_text())
        )
        running = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        outputs = [process.communicate() for process in running]
        full = subprocess.run(
            [*command, "--no-cache"], env=env, capture_output=True, check=False, text=True
        )
        for (out, err), process in zip(outputs, running, strict=True):
            assert err == b""
            assert out.decode() == full.stdout
            assert process.returncode == full.returncode
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    snapshot = incremental.read(example)
    assert snapshot is not None and FD in snapshot.files


def test_an_unchanged_folder_is_not_listed_again_and_a_changed_one_is(
    example: Path, spy: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from mlops_plan import load

    monkeypatch.setattr(incremental, "RACY_NS", 0)  # trust stats as soon as they are older
    listings: list[str] = []
    discover = load.discover

    def counting(root: Path, *args: Any) -> Any:
        listings.append(str(root))
        return discover(root, *args)

    monkeypatch.setattr(load, "discover", counting)
    lint(example)
    time.sleep(0.05)
    edit(example, FD, "replicas: 2", "replicas: 3")  # a file's content: no folder changes
    listings.clear()
    same_as_full(example)
    assert spy.last == "partial"
    assert listings == [str(example)]  # the full lint of same_as_full only
    changes: list[tuple[Callable[[], object], str]] = [
        (
            lambda: (example / "deployments/new.yaml").write_text(
                (example / FD).read_text().replace("name: fraud-detector\n", "name: fd-new\n", 1)
            ),
            "partial",
        ),
        (
            lambda: (example / "deployments/new.yaml").rename(example / "deployments/newer.yaml"),
            "partial",
        ),
        (lambda: (example / "deployments/churn-predictor.yaml").unlink(), "partial"),
        (lambda: (example / "extra").mkdir(), "unchanged"),
        (
            lambda: (example / "extra/m.yaml").write_text(
                (example / TE).read_text().replace("name: text-embedder\n", "name: te-new\n", 1)
            ),
            "partial",
        ),
    ]
    for change, mode in changes:
        time.sleep(0.05)
        change()
        listings.clear()
        same_as_full(example)
        assert len(listings) == 2  # listed again by the incremental lint, then by the full one
        assert spy.last == mode


def test_files_too_recent_to_trust_are_read_again_once(
    example: Path, spy: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file changed close to a snapshot is read again (its stat cannot vouch for it);
    the snapshot that run writes vouches for it from then on."""
    import time

    from mlops_plan import load

    reads: list[str] = []
    read_text = load.Source.read_text

    def counting(self: load.Source, rel: str) -> Any:
        reads.append(rel)
        return read_text(self, rel)

    monkeypatch.setattr(load.Source, "read_text", counting)
    monkeypatch.setattr(incremental, "RACY_NS", 500_000_000)  # half a second
    lint(example)  # the files were copied just before: too recent for this snapshot
    time.sleep(0.6)
    reads.clear()
    lint(example)
    assert spy.last == "unchanged"
    assert FD in reads  # read again, and vouched for by the snapshot this run writes
    reads.clear()
    lint(example)
    assert spy.last == "unchanged"
    assert [rel for rel in reads if rel.startswith(("models/", "deployments/"))] == []
