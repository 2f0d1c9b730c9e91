"""A canary whose version equals the main version, or whose weight is outside 1-99.

`canary: {version, weight}` sends `weight` percent of traffic to `version`. A weight of 0
sends nothing and 100 replaces the main version outright; a canary of the version
already running as main changes nothing. Written as the built-in CEL policies
`canary-weight` and `canary-version` (policies/canary.yaml), reported under this ID.
Versions compare as PEP 440 versions: a canary "2.5" equals a main "2.5.0".

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
        prod:
          version: "2.4.1"
          replicas: 4
          canary: {version: "2.4.1", weight: 10}    # the main version: changes nothing

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
        dev: {version: "~=2.4.0", target: l4-24g}
        prod:
          version: "2.4.1"
          replicas: 4
          canary: {version: "2.5.0", weight: 10}
"""

ID = "MP404"
NAME = "canary"
SEVERITY = "error"
