"""A mapping repeats a key.

YAML parsers silently keep one of the two values (which one differs between parsers),
so a repeated key is a bug waiting to surface. mlops-plan reports every repeat, at the
repeated key, even on its fast path.

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
      replicas: 6                 # which one runs?
      environments:
        dev: {version: "~=2.4.0", target: l4-24g}
        prod: {version: "~=2.4.0", replicas: 4}

Passing:

    # file: deployments/fraud-detector.yaml
    apiVersion: mlops-plan/v1
    kind: Deployment
    metadata: {name: fraud-detector}
    spec:
      model: fraud-detector
      runtime: triton
      target: a100-80g
      replicas: 6
      environments:
        dev: {version: "~=2.4.0", target: l4-24g}
        prod: {version: "~=2.4.0", replicas: 4}
"""

ID = "MP002"
NAME = "duplicate-key"
SEVERITY = "error"
