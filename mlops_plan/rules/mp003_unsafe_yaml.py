"""Input that is unsafe to load: custom tags, alias bombs, oversize or too deep files.

mlops-plan always loads YAML safely: a tag such as `!!python/object/apply` is refused,
never constructed. Anchors and aliases that expand past 100,000 nodes (a "billion
laughs" bomb), files over 2 MiB, nesting deeper than 64 levels and symlinks that point
outside the repository are refused before they can exhaust memory or read other files.

Failing:

    # file: models/sentiment-classifier.yaml
    apiVersion: mlops-plan/v1
    kind: Model
    metadata: {name: sentiment-classifier}
    spec:
      framework: onnx
      versions:
        - version: "3.1.0"
          artifact:
            uri: s3://ml-artifacts/sentiment-classifier/3.1.0/model.onnx
            digest: !!python/object/apply:os.system ["echo pwned"]

Passing:

    # file: models/sentiment-classifier.yaml
    apiVersion: mlops-plan/v1
    kind: Model
    metadata: {name: sentiment-classifier}
    spec:
      framework: onnx
      versions:
        - version: "3.1.0"
          artifact:
            uri: s3://ml-artifacts/sentiment-classifier/3.1.0/model.onnx
            digest: sha256:9e243861ff199d93c7a856ab91473fca0c8eff9caef3aebd82601c383251f330
          requires: &onnx {onnxruntime: ">=1.17"}
        - version: "3.2.0"
          artifact:
            uri: s3://ml-artifacts/sentiment-classifier/3.2.0/model.onnx
            digest: sha256:dfc78c17931a8d24957589bf9a43e97ab7fa5112a3ad8d2c89a698192d3f8f2c
          requires: *onnx         # anchors and aliases, in moderation, are fine
"""

ID = "MP003"
NAME = "unsafe-yaml"
SEVERITY = "error"
