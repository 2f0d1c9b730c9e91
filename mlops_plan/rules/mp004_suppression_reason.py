"""A suppression comment without a reason, or one that cannot be read.

`# mlops-plan: ignore[ID] reason: …` silences findings of rule ID on the comment's line
(or, on a line of its own, on the next line). A reason is required by default
(`suppressions: {requireReason: true}`): the next reader must know why the finding is
acceptable. A suppression without one suppresses nothing and is itself an error, as is a
comment that does not read as `ignore[ID, ...] reason: ...`.

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
        # mlops-plan: ignore[MP305]
        prod: {version: "1.1.0"}    # 1.1.0 is deprecated

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
        # mlops-plan: ignore[MP305] reason: rollback for INC-123
        prod: {version: "1.1.0"}
"""

ID = "MP004"
NAME = "suppression-reason"
SEVERITY = "error"
