"""`mlops-plan.lock` is missing or out of date (with `lint --locked` / `lock --check`).

The lockfile pins, per effective deployment, the resolved model version and digest, the
runtime release and image, and the target. With `--locked`, lint fails when running
`mlops-plan lock` would change the file, as cargo's `--locked` does: a deployment was
added or removed, a specifier no longer admits its pinned version, or a pin can no
longer run. A newly released model version does not make the lock stale: it changes
nothing until `mlops-plan lock --upgrade` picks it up.

Failing:

    $ mlops-plan lock

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
        dev: {version: "~=2.5", target: l4-24g}   # the lock still pins 2.4.1
        prod: {version: "~=2.4.0", replicas: 4}

    $ mlops-plan lint --locked

Passing:

    $ mlops-plan lock

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
        dev: {version: "~=2.5", target: l4-24g}
        prod: {version: "~=2.4.0", replicas: 4}

    $ mlops-plan lock
    $ mlops-plan lint --locked
"""

ID = "MP307"
NAME = "stale-lock"
SEVERITY = "error"
