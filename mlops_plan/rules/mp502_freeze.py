"""*(plan-time)* A change to an environment inside one of its freezes.

An environment's `freezes` list windows (`start`, `end`, `reason`) in which nothing may
change there: holidays, peak traffic, audits. The clock is read once per run, from
`--now` or `MLOPS_PLAN_NOW` when given, so a check is reproducible. An emergency change
goes through with a suppression that names the reason:
`# mlops-plan: ignore[MP502] reason: hotfix for INC-123`.

Failing:

    # file: environments/prod.yaml
    apiVersion: mlops-plan/v1
    kind: Environment
    metadata: {name: prod}
    spec:
      promotesFrom: [dev]
      protected: true
      targets: [cpu-x86, a100-80g]
      runtimes: {triton: "24.05", torchserve: "0.11.0"}
      freezes:
        - {start: "2026-12-20T00:00:00Z", end: "2027-01-04T00:00:00Z", reason: holiday freeze}

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
        prod: {version: "~=2.4.0", replicas: 6}   # was 4

    $ mlops-plan plan --base main --now 2026-12-22T10:00:00Z

Passing:

    # file: environments/prod.yaml
    apiVersion: mlops-plan/v1
    kind: Environment
    metadata: {name: prod}
    spec:
      promotesFrom: [dev]
      protected: true
      targets: [cpu-x86, a100-80g]
      runtimes: {triton: "24.05", torchserve: "0.11.0"}
      freezes:
        - {start: "2026-12-20T00:00:00Z", end: "2027-01-04T00:00:00Z", reason: holiday freeze}

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
        prod: {version: "~=2.4.0", replicas: 6}

    $ mlops-plan plan --base main --now 2027-01-05T10:00:00Z
"""

ID = "MP502"
NAME = "freeze"
SEVERITY = "error"
