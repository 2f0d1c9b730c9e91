"""A deterministic generator of realistic mlops-plan repositories, for the benchmarks.

    python benchmarks/generate.py --size L --out /tmp/bench-l     # 5,000 models
    python benchmarks/generate.py --models 250 --out /tmp/bench   # any size

Sizes (DESIGN §7): S = 100 models, M = 1,000, L = 5,000. Every size has 4 runtimes
(2 releases each), 5 hardware targets, 5 environments (dev -> qa -> staging -> prod,
staging -> prod-eu), 2 user policies and, per model, 5 versions and one Deployment that
runs in all 5 environments: L is 5,000 model files + 5,000 deployment files (≈ 10,000
files) and 25,000 effective deployments.

The documents follow examples/ml-platform: models with artifact digests (sha256 of a
deterministic string), `requires`, `resources`, metrics and some `dependsOn`; deployments
with per-environment overrides (replicas, a smaller GPU target in dev, canaries that are
rehearsed along the promotion chain before prod). Every deployment is compatible with the
runtime release its environment pins and with its target, and every environment runs the
version its `promotesFrom` environments run, so the repository lints clean
(0 errors, 0 warnings). Output is a pure function of (models, seed): a seeded
`random.Random`, no clock, no hash randomisation, no set iteration.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

SIZES = {"S": 100, "M": 1_000, "L": 5_000}
DEFAULT_SEED = 20240607
VERSIONS_PER_MODEL = 5

# Environments: name -> (promotesFrom, protected, cluster)
ENVIRONMENTS: dict[str, tuple[list[str], bool, str]] = {
    "dev": ([], False, "gke-ml-dev"),
    "qa": (["dev"], False, "gke-ml-dev"),
    "staging": (["qa"], False, "gke-ml-staging"),
    "prod": (["staging"], True, "gke-ml-prod-us"),
    "prod-eu": (["staging"], True, "gke-ml-prod-eu"),
}
# Every environment pins the same releases: promotion is like for like (MP504).
PINNED = {"triton": "24.05", "triton-cpu": "24.05", "torchserve": "0.11.0", "tfserving": "2.15.0"}

# Hardware targets: name -> (arch, accelerator, gpu model, gpu memory GiB, computeCapability)
TARGETS: dict[str, tuple[str, str, str | None, int, str | None]] = {
    "cpu-x86": ("x86_64", "cpu", None, 0, None),
    "cpu-arm64": ("aarch64", "cpu", None, 0, None),
    "t4-16g": ("x86_64", "gpu", "T4", 16, "7.5"),
    "l4-24g": ("x86_64", "gpu", "L4", 24, "8.9"),
    "a100-80g": ("x86_64", "gpu", "A100", 80, "8.0"),
}
GPU_TARGETS = {name: spec[3] for name, spec in TARGETS.items() if spec[1] == "gpu"}


@dataclass(frozen=True)
class Family:
    """A kind of model: framework, where it runs, what its versions require."""

    key: str
    framework: str
    runtime: str
    accelerator: str  # the model's resources.accelerator
    targets: tuple[str, ...]  # base targets it may be deployed on
    formats: tuple[str, ...]  # artifact format, file name
    requires: tuple[tuple[str, tuple[str, ...]], ...]  # capability -> choices
    metric: str
    weight: int


FAMILIES = (
    Family(
        "triton-torch-gpu",
        "pytorch",
        "triton",
        "gpu",
        ("a100-80g", "l4-24g", "t4-16g"),
        ("torchscript", "model.pt"),
        (("pytorch", (">=2.1,<2.5", ">=2.2,<2.5", "~=2.3")), ("computeCapability", (">=7.0",))),
        "auc",
        25,
    ),
    Family(
        "triton-onnx-gpu",
        "onnx",
        "triton",
        "gpu",
        ("l4-24g", "t4-16g", "a100-80g"),
        ("onnx", "model.onnx"),
        (("onnxruntime", (">=1.15", ">=1.16", ">=1.17,<2")),),
        "recall_at_10",
        20,
    ),
    Family(
        "triton-onnx-cpu",
        "onnx",
        "triton-cpu",
        "cpu",
        ("cpu-x86",),
        ("onnx", "model.onnx"),
        (("onnxruntime", (">=1.15", ">=1.16")),),
        "mape",
        15,
    ),
    Family(
        "torchserve-cpu",
        "pytorch",
        "torchserve",
        "cpu",
        ("cpu-x86", "cpu-arm64"),
        ("mar", "model.mar"),
        (("pytorch", (">=2.1,<2.5", ">=2.2,<2.4")), ("python", (">=3.8",))),
        "f1",
        20,
    ),
    Family(
        "torchserve-gpu",
        "pytorch",
        "torchserve",
        "gpu",
        ("l4-24g", "t4-16g"),
        ("mar", "model.mar"),
        (("pytorch", (">=2.1,<2.5",)), ("computeCapability", (">=7.5",))),
        "ndcg_at_10",
        10,
    ),
    Family(
        "tfserving-cpu",
        "tensorflow",
        "tfserving",
        "cpu",
        ("cpu-x86",),
        ("savedmodel", "saved_model.tar.gz"),
        (("tensorflow", (">=2.13,<2.16", ">=2.14,<2.17", "~=2.15")),),
        "auc",
        10,
    ),
)

TEAMS = (
    "risk", "growth", "search", "ads", "catalog", "supply-chain", "reviews", "payments",
    "personalization", "trust-safety", "logistics", "pricing", "support", "maps", "voice",
)  # fmt: skip
DOMAINS = (
    "fraud", "churn", "search", "ads", "catalog", "demand", "review", "payment", "product",
    "spam", "route", "price", "ticket", "geo", "speech", "image", "query", "session", "cart",
    "merchant", "inventory", "delivery", "listing", "seller", "buyer", "promo", "feed",
    "notification", "email", "invoice",
)  # fmt: skip
TASKS = (
    "detector", "predictor", "ranker", "classifier", "embedder", "forecaster", "tagger",
    "recommender", "scorer", "segmenter", "matcher", "extractor", "reranker", "estimator",
    "router", "filter", "encoder", "summarizer", "translator", "deduper",
)  # fmt: skip
BUCKETS = ("s3://acme-ml-artifacts", "gs://acme-ml-models")


@dataclass
class ModelPlan:
    name: str
    family: Family
    team: str
    major: int
    gpu_memory: int  # GiB, 0 for CPU models
    memory: int  # GiB
    target: str
    versions: list[str] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    requires: dict[str, dict[str, str]] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    depends_on: tuple[str, str] | None = None  # (model, specifier) for the deployed versions
    embedder: bool = False

    @property
    def main(self) -> str:
        return f"{self.major}.2.0"

    @property
    def next(self) -> str:
        return f"{self.major + 1}.0.0"


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _names(rng: random.Random, count: int) -> list[str]:
    seen: dict[str, int] = {}
    out: list[str] = []
    for _ in range(count):
        base = f"{rng.choice(DOMAINS)}-{rng.choice(TASKS)}"
        n = seen.get(base, 0) + 1
        seen[base] = n
        out.append(base if n == 1 else f"{base}-{n}")
    return out


def plan_models(count: int, seed: int) -> list[ModelPlan]:
    """Decide every model's shape; the YAML writers below only render these."""
    rng = random.Random(seed)
    weights = [f.weight for f in FAMILIES]
    plans: list[ModelPlan] = []
    for name in _names(rng, count):
        family = rng.choices(FAMILIES, weights)[0]
        target = rng.choice(family.targets)
        gpu_memory = 0
        if family.accelerator == "gpu":
            # fits the base target and, for a smaller dev target, t4-16g
            gpu_memory = rng.choice((4, 6, 8, 10, 12, 14))
            if target == "a100-80g" and rng.random() < 0.3:
                gpu_memory = rng.choice((24, 32, 40))  # A100 only
        plan = ModelPlan(
            name=name,
            family=family,
            team=rng.choice(TEAMS),
            major=rng.randint(0, 6),
            gpu_memory=gpu_memory,
            memory=rng.choice((1, 2, 4, 8, 16)),
            target=target,
        )
        m = plan.major
        plan.versions = [f"{m}.0.0", f"{m}.1.0", f"{m}.1.1", f"{m}.2.0", f"{m + 1}.0.0"]
        plan.statuses = {f"{m}.0.0": "deprecated"}
        if rng.random() < 0.2:
            plan.statuses[f"{m}.1.1"] = "yanked"
        for v in plan.versions:
            plan.requires[v] = {cap: rng.choice(choices) for cap, choices in family.requires}
        base = round(rng.uniform(0.86, 0.9), 3)
        for i, v in enumerate(plan.versions):
            plan.metrics[v] = round(base + 0.01 * i, 3)
        plan.embedder = family.runtime.startswith("triton") and rng.random() < 0.15
        plans.append(plan)
    # Some models need an embedder beside them (dependsOn, one level deep, as in search).
    embedders = [p for p in plans if p.embedder]
    for plan in plans:
        if embedders and not plan.embedder and rng.random() < 0.1:
            dep = rng.choice(embedders)
            plan.depends_on = (dep.name, f"~={dep.major}.2")
    return plans


# --- writers -----------------------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def _flow(pairs: Iterable[tuple[str, str]]) -> str:
    return "{" + ", ".join(f'{k}: "{v}"' for k, v in pairs) + "}"


def model_yaml(p: ModelPlan) -> str:
    fam = p.family
    fmt, filename = fam.formats
    bucket = BUCKETS[len(p.name) % 2]
    lines = [
        f"# Model: {p.name} ({fam.framework}, served by {fam.runtime})",
        "apiVersion: mlops-plan/v1",
        "kind: Model",
        "metadata:",
        f"  name: {p.name}",
        f"  labels: {{team: {p.team}, family: {fam.key}}}",
        "spec:",
        f"  framework: {fam.framework}",
        "  license: proprietary",
        f"  owners: [{p.team}-ml]",
        "  versions:",
    ]
    for v in p.versions:
        lines.append(f'    - version: "{v}"')
        status = p.statuses.get(v)
        if status:
            lines.append(f"      status: {status}")
        lines += [
            "      artifact:",
            f"        uri: {bucket}/{p.name}/{v}/{filename}",
            f"        digest: {_digest(f'{p.name}@{v}')}",
            f"        format: {fmt}",
            f"      requires: {_flow(p.requires[v].items())}",
        ]
        res = f"accelerator: {fam.accelerator}, memory: {p.memory}Gi"
        if p.gpu_memory:
            res += f", gpuMemory: {p.gpu_memory}Gi"
        lines.append(f"      resources: {{{res}}}")
        if p.depends_on and v in (p.main, p.next):
            dep, spec = p.depends_on
            lines.append("      dependsOn:")
            lines.append(f'        - {{model: {dep}, version: "{spec}"}}')
        lines.append(f"      metrics: {{{fam.metric}: {p.metrics[v]}}}")
    return "\n".join(lines) + "\n"


def deployment_yaml(p: ModelPlan, rng: random.Random) -> str:
    fam = p.family
    replicas = rng.choice((2, 2, 3, 4))
    lines = [
        f"# Deployment: {p.name} on {fam.runtime}, {p.target}",
        "apiVersion: mlops-plan/v1",
        "kind: Deployment",
        "metadata:",
        f"  name: {p.name}",
        f"  labels: {{team: {p.team}}}",
        "spec:",
        f"  model: {p.name}",
        f"  runtime: {fam.runtime}",
        f"  target: {p.target}",
        f"  replicas: {replicas}",
        "  env:",
        f"    MODEL_NAME: {p.name}",
        "    LOG_LEVEL: info",
    ]
    if rng.random() < 0.3:
        lines.append(f'    BATCH_SIZE: "{rng.choice((8, 16, 32, 64))}"')
    if rng.random() < 0.2:
        lines.append(
            f"    FEATURE_STORE_TOKEN: {{secretRef: {{name: {p.team}-feature-store, key: token}}}}"
        )
    lines.append("  environments:")
    # A canary of the next major is rehearsed along the chain: dev, qa, staging, then prod.
    canary = rng.random() < 0.15
    # Dev runs GPU models on the smallest GPU that fits, when that is not the base target.
    dev_target = None
    small = fam.accelerator == "gpu" and p.gpu_memory <= 16 and p.target != "t4-16g"
    if small and "t4-16g" in fam.targets and rng.random() < 0.5:
        dev_target = "t4-16g"
    main = p.main
    for env in ENVIRONMENTS:
        if env in ("prod", "prod-eu"):
            parts = [f'version: "~={p.major}.2"']
            parts.append(f"replicas: {replicas + rng.choice((1, 2, 4))}")
        else:
            parts = [f'version: "{main}"']
            if env in ("dev", "qa"):
                parts.append("replicas: 1")
        if env == "dev" and dev_target:
            parts.append(f"target: {dev_target}")
        if canary and env in ("dev", "qa", "staging"):
            weight = 25 if env == "staging" else 50
            parts.append(f'canary: {{version: "{p.next}", weight: {weight}}}')
        if canary and env == "prod":
            parts.append(f'canary: {{version: "{p.next}", weight: 10}}')
        if env == "dev" and rng.random() < 0.1:
            parts.append("env: {LOG_LEVEL: debug}")
        lines.append(f"    {env + ':':<8} {{{', '.join(parts)}}}")
    return "\n".join(lines) + "\n"


RUNTIMES = {
    "triton": """\
# Runtime: NVIDIA Triton Inference Server on GPU nodes (ONNX, TorchScript, TensorRT)
apiVersion: mlops-plan/v1
kind: Runtime
metadata:
  name: triton
  labels: {vendor: nvidia}
spec:
  supportedFormats: [onnx, pytorch, tensorrt]
  versions:
    - version: "24.05"
      image: nvcr.io/nvidia/tritonserver:24.05-py3
      provides: {onnxruntime: "1.18.0", pytorch: "2.4.0a0+07cecf4168", cuda: "12.4.1", python: "3.10"}
      requires: {cudaDriver: ">=545", computeCapability: ">=6.0"}
      accelerators: [gpu]
      arch: [x86_64]
    - version: "24.07"
      image: nvcr.io/nvidia/tritonserver:24.07-py3
      provides: {onnxruntime: "1.18.1", pytorch: "2.4.0a0+3bcc3cddb5", cuda: "12.5.1", python: "3.10"}
      requires: {cudaDriver: ">=545", computeCapability: ">=6.0"}
      accelerators: [gpu]
      arch: [x86_64]
""",  # noqa: E501
    "triton-cpu": """\
# Runtime: the same Triton images, CPU-only
apiVersion: mlops-plan/v1
kind: Runtime
metadata:
  name: triton-cpu
  labels: {vendor: nvidia}
spec:
  supportedFormats: [onnx, pytorch]
  versions:
    - version: "24.05"
      image: nvcr.io/nvidia/tritonserver:24.05-py3
      provides: {onnxruntime: "1.18.0", pytorch: "2.4.0a0+07cecf4168", python: "3.10"}
      accelerators: [cpu]
      arch: [x86_64]
    - version: "24.07"
      image: nvcr.io/nvidia/tritonserver:24.07-py3
      provides: {onnxruntime: "1.18.1", pytorch: "2.4.0a0+3bcc3cddb5", python: "3.10"}
      accelerators: [cpu]
      arch: [x86_64]
""",
    "torchserve": """\
# Runtime: TorchServe (GPU images, which also run CPU-only replicas; arm64 CPU images too)
apiVersion: mlops-plan/v1
kind: Runtime
metadata:
  name: torchserve
  labels: {vendor: pytorch}
spec:
  supportedFormats: [pytorch]
  versions:
    - version: "0.11.0"
      image: pytorch/torchserve:0.11.0-gpu
      provides: {pytorch: "2.3.0", cuda: "12.1", python: "3.9"}
      accelerators: [gpu, cpu]
      arch: [x86_64, aarch64]
    - version: "0.12.0"
      image: pytorch/torchserve:0.12.0-gpu
      provides: {pytorch: "2.4.0", cuda: "12.1", python: "3.9"}
      accelerators: [gpu, cpu]
      arch: [x86_64, aarch64]
""",
    "tfserving": """\
# Runtime: TensorFlow Serving, CPU images
apiVersion: mlops-plan/v1
kind: Runtime
metadata:
  name: tfserving
  labels: {vendor: google}
spec:
  supportedFormats: [tensorflow]
  versions:
    - version: "2.15.0"
      image: tensorflow/serving:2.15.0
      provides: {tensorflow: "2.15.0"}
      accelerators: [cpu]
      arch: [x86_64]
    - version: "2.16.1"
      image: tensorflow/serving:2.16.1
      provides: {tensorflow: "2.16.1"}
      accelerators: [cpu]
      arch: [x86_64]
""",
}

POLICIES = {
    "prod-min-replicas": """\
# Policy: every prod deployment runs at least two replicas (error)
apiVersion: mlops-plan/v1
kind: Policy
metadata:
  name: prod-min-replicas
spec:
  severity: error
  match: {kinds: [Deployment], environments: [prod, prod-eu]}
  condition: "deployment.replicas >= 2"
  message: "prod deployments need at least 2 replicas"
""",
    "min-auc": """\
# Policy: warn when a model version with an AUC metric below 0.85 runs in staging or prod
apiVersion: mlops-plan/v1
kind: Policy
metadata:
  name: min-auc
spec:
  severity: warning
  match: {kinds: [Deployment], environments: [staging, prod, prod-eu]}
  condition: "has(version.metrics) && has(version.metrics.auc) ? version.metrics.auc >= 0.85 : true"
  message: "model versions with an AUC metric should reach 0.85 before staging and prod"
""",
}

CONFIG = """\
# mlops-plan repository config of a generated benchmark repository
include: ["**/*.yaml", "**/*.yml"]
exclude: [".github/**", "rendered/**"]
policies: [policies/]
rules: {MP305: error}
suppressions: {requireReason: true, allow: true}
state: {backend: local, path: .mlops-plan/state.json}
providers:
  default: {type: manifests, output: rendered/}
"""


def target_yaml(name: str) -> str:
    arch, accel, gpu, mem, cc = TARGETS[name]
    lines = [
        f"# HardwareTarget: {name}",
        "apiVersion: mlops-plan/v1",
        "kind: HardwareTarget",
        "metadata:",
        f"  name: {name}",
        f"  labels: {{pool: {name}}}",
        "spec:",
        f"  arch: {arch}",
        f"  accelerator: {accel}",
    ]
    if gpu:
        lines.append(f"  gpu: {{model: {gpu}, memory: {mem}Gi, count: 1}}")
        lines.append(f'  provides: {{computeCapability: "{cc}", cudaDriver: "550.54.15"}}')
    lines.append(f"  nodeSelector: {{node-pool: {name}}}")
    return "\n".join(lines) + "\n"


def environment_yaml(name: str) -> str:
    promotes, protected, cluster = ENVIRONMENTS[name]
    lines = [
        f"# Environment: {name}",
        "apiVersion: mlops-plan/v1",
        "kind: Environment",
        "metadata:",
        f"  name: {name}",
        f"  labels: {{cluster: {cluster}}}",
        "spec:",
    ]
    if promotes:
        lines.append(f"  promotesFrom: [{', '.join(promotes)}]")
    lines.append(f"  targets: [{', '.join(TARGETS)}]")
    lines.append("  runtimes:")
    lines += [f'    {rt}: "{v}"' for rt, v in PINNED.items()]
    lines.append(f"  protected: {'true' if protected else 'false'}")
    if protected:
        lines += [
            "  freezes:",
            '    - start: "2019-12-18T00:00:00Z"',
            '      end: "2020-01-04T00:00:00Z"',
            "      reason: year-end change freeze",
        ]
    return "\n".join(lines) + "\n"


def generate(out: Path, models: int, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Write the repository into `out` (emptied first); return file counts by folder."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    plans = plan_models(models, seed)
    _write(out / "mlops-plan.yaml", CONFIG)
    for name, text in RUNTIMES.items():
        _write(out / "runtimes" / f"{name}.yaml", text)
    for name in TARGETS:
        _write(out / "targets" / f"{name}.yaml", target_yaml(name))
    for name in ENVIRONMENTS:
        _write(out / "environments" / f"{name}.yaml", environment_yaml(name))
    for name, text in POLICIES.items():
        _write(out / "policies" / f"{name}.yaml", text)
    drng = random.Random(seed + 1)
    for p in plans:
        _write(out / "models" / f"{p.name}.yaml", model_yaml(p))
        _write(out / "deployments" / f"{p.name}.yaml", deployment_yaml(p, drng))
    counts = {
        "models": len(plans),
        "deployments": len(plans),
        "runtimes": len(RUNTIMES),
        "targets": len(TARGETS),
        "environments": len(ENVIRONMENTS),
        "policies": len(POLICIES),
    }
    counts["files"] = sum(counts.values()) + 1
    counts["effective_deployments"] = len(plans) * len(ENVIRONMENTS)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--size", choices=sorted(SIZES), default="S", help="S, M or L")
    group.add_argument("--models", type=int, help="any number of models instead of a size")
    parser.add_argument("--out", type=Path, required=True, help="folder to (re)create")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    models = args.models if args.models is not None else SIZES[args.size]
    if models < 1:
        parser.error("--models must be at least 1")
    counts = generate(args.out, models, args.seed)
    print(
        f"{args.out}: {counts['files']} files, {counts['models']} models × "
        f"{VERSIONS_PER_MODEL} versions, {counts['deployments']} deployments, "
        f"{counts['effective_deployments']} effective deployments"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
