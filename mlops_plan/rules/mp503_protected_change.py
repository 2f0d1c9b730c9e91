"""*(plan-time)* A destroy or a downgrade in a protected environment (a warning).

Environments with `protected: true` (production, usually) need an explicit yes for
destroys (including replacements) and downgrades: `apply` asks at its prompt or needs
`--allow-protected`. The warning makes the PR reviewer see it first.

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
        prod: {version: "2.4.0", replicas: 4}     # prod (protected) runs 2.4.1

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
        dev: {version: "2.4.0", target: l4-24g}   # dev is not protected
        prod: {version: "~=2.4.0", replicas: 4}

    $ mlops-plan plan --base main
"""

ID = "MP503"
NAME = "protected-change"
SEVERITY = "warning"
