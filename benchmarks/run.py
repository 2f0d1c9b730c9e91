"""DESIGN §7 budgets, measured side by side: one command, medians, ratios, growth.

    python benchmarks/run.py                       # sizes S and M, 3 repeats
    python benchmarks/run.py --sizes S,M,L --repeat 3 --json /tmp/bench.json

For each size it generates a repository (benchmarks/generate.py), commits it in a fresh
git repository, commits a one-line change on top, then runs every tool as a subprocess,
alternating them (the order rotates each repeat) N times:

  lint cold       python -m mlops_plan lint REPO, fresh empty XDG_CACHE_HOME (+ --no-cache
                  when the CLI has it)
  lint warm       lint once in a fresh XDG_CACHE_HOME, change one deployment's replicas,
                  time a second lint with the same cache (the file is restored afterwards)
  plan --base     python -m mlops_plan plan REPO --base HEAD~1 (one changed file), fresh
                  empty XDG_CACHE_HOME
  plan warm       the same plan again with the cache the previous plan left (informative)
  check-jsonschema  models/*.yaml against schemas/Model.json plus deployments/*.yaml
                  against schemas/Deployment.json (two invocations, times summed)
  libyaml parse   a child interpreter that reads and yaml.load(..., CSafeLoader)s every
                  *.yaml file of the repository (what lint reads)
  --version       python -m mlops_plan --version: interpreter and import start-up

Times are wall clock around each child; peak memory is the child's own high-water RSS
(VmHWM, reported by the child at exit; for a child that runs workers, the largest single
process, not their sum).
This tool measures and reports; it asserts nothing about timing.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# What is measured: the working tree (default), or a snapshot of a git ref (--product REF)
# exported to a folder that children import first (PYTHONPATH), so that edits made to the
# working tree during a long run do not leak into it.
PRODUCT: dict[str, Path | None] = {"root": ROOT, "pythonpath": None}


def product_root() -> Path:
    return PRODUCT["root"] or ROOT


sys.path.insert(0, str(HERE))

import generate  # noqa: E402

PY = sys.executable
MEASURES = (
    "lint_cold",
    "lint_warm",
    "plan_base",
    "plan_warm",
    "check_jsonschema",
    "libyaml",
    "version",
)
LABELS = {
    "lint_cold": "lint (cold)",
    "lint_warm": "lint (warm, 1 file changed)",
    "plan_base": "plan --base HEAD~1 (cold cache)",
    "plan_warm": "plan --base HEAD~1 (warm cache)",
    "check_jsonschema": "check-jsonschema (models+deployments)",
    "libyaml": "libyaml CSafeLoader parse",
    "version": "mlops-plan --version (start-up)",
}
# (numerator, denominator, budget, comparison) - DESIGN §7; budgets are stated for L.
RATIOS = (
    ("lint_cold", "check_jsonschema", 1.0, "cold lint / check-jsonschema"),
    ("lint_cold", "libyaml", 1.5, "cold lint / libyaml parse"),
    ("lint_warm", "lint_cold", 0.10, "warm lint / cold lint"),
    ("plan_base", "lint_cold", 1.5, "plan --base / cold lint"),
)
GROWTH_BUDGET = 6.0  # L/M time ratio (5x the files)
MEMORY_BUDGET_MIB = 1024.0

LIBYAML_SCRIPT = r"""
import os, sys, yaml
n = 0
for folder, dirs, files in os.walk(sys.argv[1]):
    dirs[:] = sorted(d for d in dirs if d not in {".git", ".mlops-plan"})
    for name in sorted(files):
        if name.endswith((".yaml", ".yml")):
            with open(os.path.join(folder, name), encoding="utf-8") as fh:
                yaml.load(fh.read(), Loader=yaml.CSafeLoader)
            n += 1
print(n, "files parsed")
"""

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
}


# Every child is a Python program, started through this preamble so that it reports its
# own peak RSS: VmHWM of /proc/self/status at exit (the high-water mark of the child's own
# address space) and the largest child it waited for. os.wait4's ru_maxrss is not enough
# on Linux: exec keeps the high-water mark of the process that forked, so every child
# would report at least the RSS of this benchmark process.
PREAMBLE = r"""
import atexit, os, resource, runpy, sys
def _report():
    hwm = 0
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except OSError:
        return
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(os.environ["MLOPS_BENCH_RSS_FILE"], "w", encoding="ascii") as out:
        out.write(str(max(hwm, kids)))
atexit.register(_report)
# mlops-plan's console script leaves with os._exit (no atexit): report first, from this
# process only (forked workers leave through os._exit too)
_pid, _real_exit = os.getpid(), os._exit
def _exit(code):
    if os.getpid() == _pid:
        _report()
    _real_exit(code)
os._exit = _exit
mode, target, *rest = sys.argv[1:]
if mode == "-m":
    sys.argv = [target, *rest]
    runpy.run_module(target, run_name="__main__", alter_sys=True)
else:
    sys.argv = ["-c", *rest]
    exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})
"""


@dataclass
class Run:
    seconds: float
    cpu: float  # user + system seconds of the child and the processes it waited for
    maxrss_kib: int
    rc: int
    out: str


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    maxrss_kib: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def run_child(python: str, argv: list[str], env: dict[str, str], cwd: Path | None = None) -> Run:
    """Run `python -m MODULE ...` or `python -c CODE ...` (argv) with the preamble.

    The child runs in `cwd`, by default an empty folder: `python -m` and `-c` import from
    the current folder first, which must not shadow the mlops-plan being measured.
    Wall time around the child, its CPU time (user + system, from os.wait4, which counts
    the processes it waited for too), its own peak RSS (KiB); output kept for checks.
    """
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        env = {**env, "MLOPS_BENCH_RSS_FILE": str(rss_file)}
        cmd = [python, "-c", PREAMBLE, *argv]
        with (Path(tmp) / "out").open("w+b") as out:
            start = time.perf_counter()
            proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd or tmp,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
        try:
            rss = int(rss_file.read_text(encoding="ascii"))
        except (OSError, ValueError):  # no /proc (macOS: ru_maxrss is in bytes there)
            rss = usage.ru_maxrss // (1024 if sys.platform == "darwin" else 1)
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, cpu, rss, proc.returncode, text)


def _where(python: str | None) -> str:
    """Where check-jsonschema runs, without naming a path of this machine."""
    if python is None:
        return "not available"
    return "in this interpreter" if python == PY else "in its own virtual environment"


def child_env(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = str(cache)
    env["PYTHONHASHSEED"] = "0"
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env["NO_COLOR"] = "1"
    env["MLOPS_PLAN_NOW"] = "2024-06-01T00:00:00Z"
    if PRODUCT["pythonpath"] is not None:
        env["PYTHONPATH"] = str(PRODUCT["pythonpath"])
    return env


def lint_accepts_no_cache() -> bool:
    """Pass --no-cache to a cold lint only when this version of the CLI has it."""
    help_text = subprocess.run(
        [PY, "-m", "mlops_plan", "lint", "--help"],
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        env={**child_env(Path(tempfile.gettempdir())), "COLUMNS": "200"},
    ).stdout
    return "--no-cache" in help_text


def check_jsonschema_cmd(tools: Path, install: bool) -> str | None:
    """`check-jsonschema`, from this interpreter or from a venv of its own under `tools`."""
    if importlib.util.find_spec("check_jsonschema") is not None:
        return PY
    vpy = tools / "venv" / ("Scripts" if os.name == "nt" else "bin") / "python"
    if not vpy.exists() and install:
        print(f"installing check-jsonschema into {tools / 'venv'} (once)", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(tools / "venv")
        subprocess.run(
            [str(vpy), "-m", "pip", "install", "-q", "check-jsonschema"],
            check=True,
        )
    return str(vpy) if vpy.exists() else None


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=repo,
        env={**os.environ, **GIT_ENV},
        check=True,
        stdout=subprocess.DEVNULL,
    )


_REPLICAS = re.compile(r"^  replicas: (\d+)$", re.MULTILINE)


def bump_replicas(path: Path, delta: int = 1) -> str:
    """Change the base `replicas:` of a deployment file; return the original text."""
    text = path.read_text(encoding="utf-8")
    changed, n = _REPLICAS.subn(lambda m: f"  replicas: {int(m.group(1)) + delta}", text, count=1)
    if n != 1:
        raise SystemExit(f"{path}: no base replicas line to change")
    path.write_text(changed, encoding="utf-8")
    return text


def prepare(size: str, models: int, work: Path, seed: int) -> tuple[Path, dict[str, Any]]:
    """Generate, commit, commit one changed deployment on top: HEAD~1 is the base."""
    repo = work / f"repo-{size}"
    t0 = time.perf_counter()
    counts: dict[str, Any] = dict(generate.generate(repo, models, seed))
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "generated repository")
    first = sorted((repo / "deployments").iterdir())[0]
    bump_replicas(first)
    git(repo, "commit", "-q", "-a", "-m", f"scale {first.stem}")
    counts["generate_seconds"] = round(time.perf_counter() - t0, 2)
    return repo, counts


class Bench:
    def __init__(self, repo: Path, scratch: Path, cj: str | None, no_cache: bool) -> None:
        self.repo = repo
        self.scratch = scratch
        self.cj = cj
        self.no_cache = no_cache
        self.samples = {m: Sample() for m in MEASURES}
        self.warm_file = sorted((repo / "deployments").iterdir())[1]
        self._n = 0
        self._plan_cache: Path | None = None

    def fresh_cache(self) -> Path:
        self._n += 1
        path = self.scratch / f"cache-{self._n}"
        path.mkdir()
        return path

    def record(self, measure: str, run: Run, ok: bool) -> None:
        sample = self.samples[measure]
        sample.seconds.append(run.seconds)
        sample.cpu.append(run.cpu)
        sample.maxrss_kib.append(run.maxrss_kib)
        if not ok:
            tail = "\n".join(run.out.strip().splitlines()[-5:])
            sample.failures.append(f"exit {run.rc}: {tail}")

    def lint_cmd(self, cold: bool) -> list[str]:
        cmd = ["-m", "mlops_plan", "lint", str(self.repo)]
        return [*cmd, "--no-cache"] if cold and self.no_cache else cmd

    def lint_cold(self) -> None:
        run = run_child(PY, self.lint_cmd(cold=True), child_env(self.fresh_cache()))
        self.record("lint_cold", run, run.rc == 0 and " 0 errors, 0 warnings" in run.out)

    def lint_warm(self) -> None:
        env = child_env(self.fresh_cache())
        run_child(PY, self.lint_cmd(cold=False), env)  # fills the cache, untimed
        original = bump_replicas(self.warm_file)
        try:
            run = run_child(PY, self.lint_cmd(cold=False), env)
        finally:
            self.warm_file.write_text(original, encoding="utf-8")
        self.record("lint_warm", run, run.rc == 0 and " 0 errors, 0 warnings" in run.out)

    def _plan(self, cache: Path) -> Run:
        cmd = ["-m", "mlops_plan", "plan", str(self.repo), "--base", "HEAD~1", "--no-color"]
        return run_child(PY, cmd, child_env(cache), cwd=self.repo)

    def plan_base(self) -> None:
        self._plan_cache = self.fresh_cache()
        run = self._plan(self._plan_cache)
        self.record("plan_base", run, run.rc == 0 and "1 to change" in run.out)

    def plan_warm(self) -> None:
        if self._plan_cache is None:  # pragma: no cover - plan_base runs first in a round
            self._plan_cache = self.fresh_cache()
            self._plan(self._plan_cache)
        run = self._plan(self._plan_cache)
        self.record("plan_warm", run, run.rc == 0 and "1 to change" in run.out)

    def check_jsonschema(self) -> None:
        if self.cj is None:
            return
        total, cpu, peak, runs = 0.0, 0.0, 0, []
        for folder, schema in (("models", "Model.json"), ("deployments", "Deployment.json")):
            files = sorted(str(p) for p in (self.repo / folder).glob("*.yaml"))
            schemafile = product_root() / "schemas" / schema
            cmd = ["-m", "check_jsonschema", "--schemafile", str(schemafile), *files]
            run = run_child(self.cj, cmd, child_env(self.fresh_cache()))
            total += run.seconds
            cpu += run.cpu
            peak = max(peak, run.maxrss_kib)
            runs.append(run)
        bad = [r for r in runs if r.rc != 0]
        merged = Run(total, cpu, peak, bad[0].rc if bad else 0, bad[0].out if bad else "")
        self.record("check_jsonschema", merged, not bad)

    def libyaml(self) -> None:
        run = run_child(PY, ["-c", LIBYAML_SCRIPT, str(self.repo)], child_env(self.fresh_cache()))
        self.record("libyaml", run, run.rc == 0)

    def version(self) -> None:
        run = run_child(PY, ["-m", "mlops_plan", "--version"], child_env(self.fresh_cache()))
        self.record("version", run, run.rc == 0)

    def round(self, index: int) -> None:
        # plan_warm must follow plan_base; the rest rotates so that no tool is always first
        steps = [
            self.lint_cold,
            self.check_jsonschema,
            self.libyaml,
            self.lint_warm,
            None,
            self.version,
        ]
        k = index % len(steps)
        for step in steps[k:] + steps[:k]:
            if step is None:
                self.plan_base()
                self.plan_warm()
            else:
                step()


def summarise(samples: dict[str, Sample]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, s in samples.items():
        if not s.seconds:
            continue
        out[name] = {
            "median_s": round(statistics.median(s.seconds), 3),
            "min_s": round(min(s.seconds), 3),
            "max_s": round(max(s.seconds), 3),
            "median_cpu_s": round(statistics.median(s.cpu), 3),
            "runs": len(s.seconds),
            "peak_rss_mib": round(max(s.maxrss_kib) / 1024, 1),
            "failures": s.failures,
        }
    return out


def fmt(x: float | None, spec: str = ".2f") -> str:
    return "—" if x is None else format(x, spec)


def print_size(size: str, counts: dict[str, Any], summary: dict[str, dict[str, Any]]) -> None:
    print(
        f"\n## {size}: {counts['files']} files ({counts['models']} models × "
        f"{generate.VERSIONS_PER_MODEL} versions, {counts['deployments']} deployments, "
        f"{counts['effective_deployments']} effective deployments)\n"
    )
    print(f"| {'measure':<38} | median s | min s | max s | CPU s | peak RSS MiB | ms/file | ok |")
    print(f"|{'-' * 40}|---------:|------:|------:|------:|-------------:|--------:|----|")
    for name in MEASURES:
        row = summary.get(name)
        if row is None:
            print(f"| {LABELS[name]:<38} | not run |  |  |  |  |  |  |")
            continue
        per_file = 1000 * row["median_s"] / counts["files"]
        ok = "yes" if not row["failures"] else f"NO ({len(row['failures'])})"
        print(
            f"| {LABELS[name]:<38} | {row['median_s']:8.2f} | {row['min_s']:5.2f} | "
            f"{row['max_s']:5.2f} | {row['median_cpu_s']:5.2f} | {row['peak_rss_mib']:12.1f} | "
            f"{per_file:7.2f} | {ok} |"
        )
    for name in MEASURES:
        for failure in summary.get(name, {}).get("failures", [])[:1]:
            print(f"\n{LABELS[name]} FAILED: {failure}")


def ratios(summary: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for num, den, budget, label in RATIOS:
        if num in summary and den in summary and summary[den]["median_s"] > 0:
            value = summary[num]["median_s"] / summary[den]["median_s"]
            cpu = summary[num]["median_cpu_s"] / max(summary[den]["median_cpu_s"], 1e-9)
            rows.append(
                {
                    "ratio": label,
                    "value": round(value, 3),
                    "cpu_value": round(cpu, 3),
                    "budget": budget,
                    "met": value <= budget,
                }
            )
    peaks = [row["peak_rss_mib"] for k, row in summary.items() if k.startswith(("lint", "plan"))]
    if peaks:
        peak = max(peaks)
        rows.append(
            {
                "ratio": "peak memory of lint/plan (MiB)",
                "value": peak,
                "budget": MEMORY_BUDGET_MIB,
                "met": peak < MEMORY_BUDGET_MIB,
            }
        )
    return rows


def print_ratios(size: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n### DESIGN §7 ratios on {size} (budgets are stated for L)\n")
    print("| ratio | wall clock | CPU time | budget | verdict (wall clock) |")
    print("|---|---:|---:|---:|---|")
    for row in rows:
        over = row["value"] / row["budget"]
        verdict = (
            "met" if row["met"] else f"MISSED by {100 * (over - 1):.0f} % ({over:.2f}× the budget)"
        )
        op = "<" if "memory" in row["ratio"] else "≤"
        cpu = fmt(row.get("cpu_value"), ".3f")
        print(f"| {row['ratio']} | {row['value']:.3f} | {cpu} | {op} {row['budget']} | {verdict} |")


def print_growth(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    sizes = [s for s in ("S", "M", "L") if s in results] + [
        s for s in results if s not in ("S", "M", "L")
    ]
    rows: list[dict[str, Any]] = []
    if len(sizes) < 2:
        return rows
    pairs = list(itertools.pairwise(sizes))
    grows = ", ×".join(
        f"{results[b]['counts']['files'] / results[a]['counts']['files']:.1f}" for a, b in pairs
    )
    print(
        f"\n### Growth (ratios of medians, wall clock / CPU time; the file count grows ×{grows})\n"
    )
    print("| measure | " + " | ".join(f"{b}/{a}" for a, b in pairs) + " |")
    print("|---|" + "---:|" * len(pairs))
    for name in MEASURES:
        cells = []
        for a, b in pairs:
            sa, sb = results[a]["summary"].get(name), results[b]["summary"].get(name)
            if not (sa and sb and sa["median_s"] and sa["median_cpu_s"]):
                cells.append("—")
                continue
            value = sb["median_s"] / sa["median_s"]
            cpu = sb["median_cpu_s"] / sa["median_cpu_s"]
            cells.append(f"{value:.2f} / {cpu:.2f}")
            rows.append(
                {"measure": name, "from": a, "to": b, "ratio": round(value, 3),
                 "cpu_ratio": round(cpu, 3)}
            )  # fmt: skip
        print(f"| {LABELS[name]} | " + " | ".join(cells) + " |")
    if "L" in results and "M" in results:
        row = next(
            (
                r
                for r in rows
                if r["measure"] == "lint_cold" and r["from"] == "M" and r["to"] == "L"
            ),
            None,
        )
        if row is not None:
            lm = row["ratio"]
            over = lm / GROWTH_BUDGET
            verdict = "met" if over <= 1 else f"MISSED by {100 * (over - 1):.0f} %"
            print(
                f"\ncold lint L/M = {lm:.2f} wall clock, {row['cpu_ratio']:.2f} CPU time "
                f"(budget ≤ {GROWTH_BUDGET}): {verdict}"
            )
    return rows


def git_out(*args: str) -> str:
    """A read-only git query in this checkout ('' when it fails)."""
    try:
        done = subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def snapshot(ref: str, dest: Path) -> str:
    """Export mlops_plan/, schemas/ and policies/ of `ref` into `dest`; return the commit."""
    commit = git_out("rev-parse", "--verify", f"{ref}^{{commit}}")
    if not commit:
        raise SystemExit(f"--product: {ref!r} is not a commit of {ROOT}")
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "mlops_plan", "schemas", "policies"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    PRODUCT["root"] = dest
    PRODUCT["pythonpath"] = dest
    where = subprocess.run(
        [PY, "-c", "import mlops_plan; print(mlops_plan.__file__)"],
        env=child_env(Path(tempfile.gettempdir())),
        cwd=dest,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(where).resolve().is_relative_to(dest.resolve()):
        raise SystemExit(f"--product: children import {where}, not the snapshot in {dest}")
    return commit


def byte_compile(package: Path) -> None:
    """Compile the measured package to bytecode first, as pip does when it installs one.

    Without it, an environment that sets PYTHONDONTWRITEBYTECODE (some CI images and
    containers do) compiles every module of mlops-plan on every run, and the figures
    measure the compiler (tens of milliseconds per run) besides mlops-plan.
    """
    subprocess.run([PY, "-m", "compileall", "-q", str(package)], check=True)


def product(commit: str | None = None) -> dict[str, Any]:
    """Which mlops-plan is measured: its commit, and a digest of its sources right now."""
    import hashlib

    root = product_root()
    digest = hashlib.sha256()
    for path in sorted((root / "mlops_plan").rglob("*")):
        if path.is_file() and path.suffix in {".py", ".yaml", ".json"}:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    snap = PRODUCT["pythonpath"] is not None
    return {
        "commit": (commit or git_out("rev-parse", "HEAD") or "")[:12] or None,
        "snapshot": snap,
        "dirty": False if snap else bool(git_out("status", "--porcelain", "--", "mlops_plan")),
        "sources_sha256": digest.hexdigest()[:16],
    }


def machine() -> dict[str, Any]:
    return {
        "date": time.strftime("%Y-%m-%d"),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]
        if hasattr(os, "getloadavg")
        else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="S,M", help="comma-separated: S, M, L or a number")
    parser.add_argument("--repeat", type=int, default=3, help="rounds per size (median)")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument(
        "--tools",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        / "mlops-plan-bench",
        help="where a venv with check-jsonschema is created when it is not importable",
    )
    parser.add_argument(
        "--no-install", action="store_true", help="skip check-jsonschema when it is missing"
    )
    parser.add_argument(
        "--product",
        metavar="REF",
        help="measure mlops-plan as of this git ref (exported with git archive), not the "
        "working tree: immune to edits made while the benchmark runs",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    sizes: list[tuple[str, int]] = []
    for item in args.sizes.split(","):
        item = item.strip().upper()
        if item in generate.SIZES:
            sizes.append((item, generate.SIZES[item]))
        elif item.isdigit():
            sizes.append((item, int(item)))
        else:
            parser.error(f"unknown size {item!r}")

    work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="mlops-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    commit = None
    if args.product:
        shutil.rmtree(work / "product", ignore_errors=True)
        commit = snapshot(args.product, work / "product")
    byte_compile(product_root() / "mlops_plan")
    cj = check_jsonschema_cmd(args.tools, install=not args.no_install)
    no_cache = lint_accepts_no_cache()
    info = machine()
    info["product"] = product(commit)
    print(f"# mlops-plan benchmarks, {info['date']}")
    print(
        f"\nmachine: {info['nproc']} CPUs ({info['processor']}), Python {info['python']}, "
        f"{info['platform']}; load average at start {info['loadavg_at_start']}; "
        f"repeat {args.repeat}, medians; cold lint "
        f"{'with' if no_cache else 'without'} --no-cache "
        f"({'the CLI has it' if no_cache else 'the CLI has no such option yet'}); "
        f"check-jsonschema: {_where(cj)}"
    )
    prod = info["product"]
    print(
        f"\nmlops-plan measured: commit {prod['commit']}"
        f"{' (a snapshot: --product)' if prod['snapshot'] else ' (the working tree)'}"
        f"{' with uncommitted changes in mlops_plan/' if prod['dirty'] else ''}, "
        f"sources {prod['sources_sha256']}"
    )

    results: dict[str, dict[str, Any]] = {}
    try:
        for size, models in sizes:
            repo, counts = prepare(size, models, work, args.seed)
            scratch = Path(tempfile.mkdtemp(prefix=f"caches-{size}-", dir=work))
            bench = Bench(repo, scratch, cj, no_cache)
            t0 = time.perf_counter()
            for i in range(args.repeat):
                bench.round(i)
            shutil.rmtree(scratch, ignore_errors=True)
            summary = summarise(bench.samples)
            results[size] = {"counts": counts, "summary": summary, "ratios": ratios(summary)}
            results[size]["bench_seconds"] = round(time.perf_counter() - t0, 1)
            print_size(size, counts, summary)
            print_ratios(size, results[size]["ratios"])
            print(f"\n({size}: generated and committed in {counts['generate_seconds']} s, "
                  f"measured in {results[size]['bench_seconds']} s)")  # fmt: skip
            sys.stdout.flush()
        growth = print_growth(results)
        info["product_at_end"] = product(commit)
        if info["product_at_end"] != info["product"]:
            print(
                "\nWARNING: mlops_plan/ changed during this run (sources "
                f"{info['product']['sources_sha256']} -> "
                f"{info['product_at_end']['sources_sha256']}): the figures mix two versions"
            )
        if hasattr(os, "getloadavg"):
            print(f"\nload average at the end: {[round(x, 2) for x in os.getloadavg()]}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        payload = {"machine": info, "repeat": args.repeat, "no_cache_flag": no_cache,
                   "results": results, "growth": growth}  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    failed = any(row["failures"] for r in results.values() for row in r["summary"].values())
    if failed:
        print("\nsome runs FAILED (see above): their times are not comparable", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
