"""A document breaks its kind's JSON Schema.

Every error of a document is reported, not only the first, each at the offending key or
value: unknown keys (with the closest allowed key), missing required keys (at their
parent), wrong types, names that are not DNS-1123 labels, malformed digests, versions
and specifiers that are not PEP 440, quantities that are not Kubernetes quantities.
Versions must be quoted strings: an unquoted `3.10` is the number 3.1 to YAML.
Keys starting with `x-` are extensions and always allowed. The schemas live in
`schemas/`, one per kind, for editors to autocomplete from.

Failing:

    # file: models/sentiment-classifier.yaml
    apiVersion: mlops-plan/v1
    kind: Model
    metadata: {name: sentiment-classifier}
    spec:
      framework: onnx
      versions:
        - version: 3.10           # a number: quote it, "3.10"
          artefact:               # unknown key: did you mean "artifact"?
            uri: s3://ml-artifacts/sentiment-classifier/3.10/model.onnx
            digest: sha256:9e243861ff199d93c7a856ab91473fca0c8eff9caef3aebd82601c383251f330

Passing:

    # file: models/sentiment-classifier.yaml
    apiVersion: mlops-plan/v1
    kind: Model
    metadata: {name: sentiment-classifier}
    spec:
      framework: onnx
      versions:
        - version: "3.10"
          artifact:
            uri: s3://ml-artifacts/sentiment-classifier/3.10/model.onnx
            digest: sha256:9e243861ff199d93c7a856ab91473fca0c8eff9caef3aebd82601c383251f330
          x-notes: trained on the 2026-11 snapshot    # x- keys are extensions
"""

ID = "MP101"
NAME = "schema"
SEVERITY = "error"
