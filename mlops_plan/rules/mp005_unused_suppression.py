"""A suppression that suppresses nothing (a warning).

Each rule ID in `# mlops-plan: ignore[...]` must silence a finding on the lines the
comment covers; once the problem is fixed the comment is stale and would hide the next,
unrelated finding there. Remove the comment, or the ID from it. Rules that did not run
(plan-time rules in a `lint` without `--base`, MP307 without `--locked`) are never
reported.

Failing:

    # file: deployments/text-embedder.yaml
    apiVersion: mlops-plan/v1
    kind: Deployment
    metadata: {name: text-embedder}
    spec:
      model: text-embedder
      runtime: triton
      target: cpu-x86
      environments:
        dev: {version: "~=1.2"}
        # mlops-plan: ignore[MP305] reason: rollback for INC-123
        prod: {version: "~=1.2"}    # 1.2.0 is released: nothing to suppress

Passing:

    # file: deployments/text-embedder.yaml
    apiVersion: mlops-plan/v1
    kind: Deployment
    metadata: {name: text-embedder}
    spec:
      model: text-embedder
      runtime: triton
      target: cpu-x86
      environments:
        dev: {version: "~=1.2"}
        prod: {version: "~=1.2"}
"""

ID = "MP005"
NAME = "unused-suppression"
SEVERITY = "warning"
