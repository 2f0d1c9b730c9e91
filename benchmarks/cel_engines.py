"""Side by side: the two CEL engines for user policies, compile once and evaluate many.

    pip install cel-expr-python common-expression-language
    python benchmarks/cel_engines.py [N]

Candidates: Google's `cel-expr-python` (C++ cel-cpp, type-checked against declared
variables) and `common-expression-language` (Rust cel-interpreter, parse-time errors
only). Each compiles one condition once and evaluates it N times (default 25,000, the
number of effective deployments in the large generated repository), each time on a
fresh, realistic activation: the effective deployment, model, resolved version,
runtime release, target and environment as the plain dicts `policies.py` builds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

CONDITION = "deployment.replicas >= 2 && version.metrics.auc >= 0.9"
VARIABLES = ("deployment", "model", "version", "runtime", "target", "environment")


def activation(i: int) -> dict[str, Any]:
    """What one effective deployment looks like to a policy."""
    name = f"model-{i % 5000:04d}"
    environment = ("dev", "staging", "prod", "eu", "us")[i % 5]
    version = {
        "version": f"2.{i % 5}.0",
        "status": "released",
        "artifact": {
            "uri": f"s3://ml-artifacts/{name}/2.{i % 5}.0/model.pt",
            "digest": "sha256:" + f"{i:064x}",
            "format": "torchscript",
        },
        "requires": {"pytorch": ">=2.1,<2.4", "computeCapability": ">=8.0"},
        "resources": {"accelerator": "gpu", "cpu": None, "memory": "8Gi", "gpuMemory": "16Gi"},
        "dependsOn": [],
        "metrics": {"auc": 0.85 + (i % 10) / 100, "latencyP99Ms": 12.5},
    }
    return {
        "deployment": {
            "name": name,
            "address": f"deployment.{environment}.{name}",
            "environment": environment,
            "model": name,
            "version": version["version"],
            "versionSpec": "~=2.4",
            "runtime": "triton",
            "runtimeVersion": "24.05",
            "target": "a100-80g",
            "replicas": i % 4,
            "canary": None,
            "env": {
                "MODEL_NAME": name,
                "TOKEN": {"secretRef": {"name": "feature-store", "key": "token"}},
            },
            "labels": {"team": "risk"},
        },
        "model": {
            "apiVersion": "mlops-plan/v1",
            "kind": "Model",
            "metadata": {"name": name, "labels": {"team": "risk"}, "annotations": {}},
            "spec": {
                "framework": "pytorch",
                "license": "apache-2.0",
                "owners": ["risk-ml"],
                "versions": [version],
            },
        },
        "version": version,
        "runtime": {
            "name": "triton",
            "version": "24.05",
            "image": "nvcr.io/nvidia/tritonserver:24.05-py3",
            "provides": {"pytorch": "2.3.0", "cuda": "12.4", "python": "3.10"},
            "requires": {"cudaDriver": ">=550"},
            "accelerators": ["gpu", "cpu"],
            "arch": ["x86_64"],
        },
        "target": {
            "name": "a100-80g",
            "arch": "x86_64",
            "accelerator": "gpu",
            "gpu": {"model": "A100", "memory": "80Gi", "count": 1},
            "provides": {"computeCapability": "8.0", "cudaDriver": "550.54"},
            "nodeSelector": {},
        },
        "environment": {
            "name": environment,
            "promotesFrom": [],
            "targets": ["a100-80g"],
            "runtimes": {"triton": "24.05"},
            "protected": environment == "prod",
            "namespace": None,
            "freezes": [],
        },
    }


def google(activations: list[dict[str, Any]]) -> tuple[float, float, int]:
    from cel_expr_python import cel

    started = time.perf_counter()
    dyn_map = cel.Type.Map(cel.Type.STRING, cel.Type.DYN)
    env = cel.NewEnv(variables={name: dyn_map for name in VARIABLES})
    program = env.compile(CONDITION)  # parses and type-checks
    compiled = time.perf_counter()
    true = 0
    for data in activations:
        if program.eval(data=data).value() is True:
            true += 1
    return compiled - started, time.perf_counter() - compiled, true


def rust(activations: list[dict[str, Any]]) -> tuple[float, float, int]:
    import cel

    started = time.perf_counter()
    program = cel.compile(CONDITION)  # parses only
    compiled = time.perf_counter()
    true = 0
    for data in activations:
        if program.execute(data) is True:
            true += 1
    return compiled - started, time.perf_counter() - compiled, true


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 25_000
    activations = [activation(i) for i in range(n)]
    engines: dict[str, Callable[[list[dict[str, Any]]], tuple[float, float, int]]] = {
        "cel-expr-python (Google, cel-cpp)": google,
        "common-expression-language (Rust)": rust,
    }
    times: dict[str, float] = {}
    trues: set[int] = set()
    print(f"{n} evaluations of: {CONDITION}")
    for label, run in engines.items():
        try:
            run(activations[:100])  # warm up: imports, first-call costs
        except ImportError:
            print(f"  {label:36} not installed: `pip install {label.split()[0]}`")
            continue
        best = min((run(activations) for _ in range(3)), key=lambda r: r[1])
        compile_s, eval_s, true = best
        times[label] = eval_s
        trues.add(true)
        print(
            f"  {label:36} compile {compile_s * 1e3:7.2f} ms   evaluate {eval_s:6.3f} s "
            f"({eval_s / n * 1e6:5.1f} µs each)   true: {true}"
        )
    assert len(trues) <= 1, "the engines disagree"
    if len(times) < 2:
        return
    (fast, fast_s), (slow, slow_s) = sorted(times.items(), key=lambda kv: kv[1])
    print(f"  {fast} is {slow_s / fast_s:.2f}x faster than {slow}")


if __name__ == "__main__":
    main()
