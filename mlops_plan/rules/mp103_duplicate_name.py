"""Two documents of one kind share a name.

Names identify declarations everywhere (references, addresses, state, rendered file
names), so they are unique per kind. The finding is at the second declaration and names
the first one's position. A Model and a Deployment may share a name, as fraud-detector
does in every example.

Failing:

    # file: models/fraud-detector-v3.yaml
    apiVersion: mlops-plan/v1
    kind: Model
    metadata: {name: fraud-detector}    # models/fraud-detector.yaml declares it too
    spec:
      framework: pytorch
      versions:
        - version: "3.0.0"
          artifact:
            uri: s3://ml-artifacts/fraud-detector/3.0.0/model.pt
            digest: sha256:b6f04571bae9ed1d703ce0f30b43494998c44227b74162feab6f649a171adfad

Passing:

    # file: models/fraud-detector-v3.yaml
    apiVersion: mlops-plan/v1
    kind: Model
    metadata: {name: fraud-detector-v3}
    spec:
      framework: pytorch
      versions:
        - version: "3.0.0"
          artifact:
            uri: s3://ml-artifacts/fraud-detector/3.0.0/model.pt
            digest: sha256:b6f04571bae9ed1d703ce0f30b43494998c44227b74162feab6f649a171adfad
"""

ID = "MP103"
NAME = "duplicate-name"
SEVERITY = "error"
