"""A pinned version needs more than its target has: GPU memory, or a GPU at all.

`resources.gpuMemory` must fit the target's `gpu.memory` (Kubernetes quantities:
`16Gi` < `24Gi`), and a model whose `resources.accelerator` is `gpu` cannot be placed
on a `cpu` target.

Failing:

    # file: deployments/fraud-detector.yaml
    apiVersion: mlops-plan/v1
    kind: Deployment
    metadata: {name: fraud-detector}
    spec:
      model: fraud-detector
      runtime: triton
      target: a100-80g
      replicas: 2
      environments:
        dev: {version: "~=2.4.0", target: l4-24g}
        # fraud-detector 2.4.1: resources {accelerator: gpu, gpuMemory: 16Gi}
        prod: {version: "2.4.1", replicas: 4, target: cpu-x86}

Passing:

    # file: deployments/fraud-detector.yaml
    apiVersion: mlops-plan/v1
    kind: Deployment
    metadata: {name: fraud-detector}
    spec:
      model: fraud-detector
      runtime: triton
      target: a100-80g
      replicas: 2
      environments:
        dev: {version: "~=2.4.0", target: l4-24g}     # 24Gi of GPU memory
        prod: {version: "2.4.1", replicas: 4}         # 80Gi of GPU memory
"""

from __future__ import annotations

from collections.abc import Iterator

from mlops_plan.findings import Finding, Severity
from mlops_plan.rules.base import Context, emit
from mlops_plan.rules.mp302_incompatible import unmet

ID = "MP303"
NAME = "insufficient-resources"
SEVERITY = "error"


def check(ctx: Context) -> Iterator[Finding]:
    for address, anchor, version, reasons in unmet(ctx, resources=True):
        yield emit(
            ctx,
            ID,
            Severity.ERROR,
            anchor,  # type: ignore[arg-type]
            f"{address} pins {version}, which needs more than its target has: {reasons}",
            "place it on a target with enough GPU memory, or pin a smaller version",
        )
