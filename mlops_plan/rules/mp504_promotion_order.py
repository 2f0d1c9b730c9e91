"""*(plan-time)* A version skips its promotion order.

An environment's `promotesFrom` lists the environments a version must run in before it
may run here. An upgrade (or a creation) that brings a model version into an environment
is an error while some `promotesFrom` environment does not run that version, as main or
canary version, in the same configuration (runtime and runtime release) in the
configuration being planned; so is creating a deployment in an environment while some
`promotesFrom` environment has no deployment of that name. Downgrades are exempt:
rollbacks must stay quick.

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
        dev: {version: "~=2.4.0", target: l4-24g}   # runs 2.4.1
        prod: {version: "2.5.0", replicas: 4}       # prod promotesFrom [dev]

    $ mlops-plan plan --base main

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
        dev: {version: "2.5.0", target: l4-24g}
        prod: {version: "2.5.0", replicas: 4}       # in the same change: dev runs it

    $ mlops-plan plan --base main
"""

ID = "MP504"
NAME = "promotion-order"
SEVERITY = "error"
