"""An mlops-plan document with an unknown `apiVersion` or `kind`.

YAML files whose apiVersion is not `mlops-plan/...` are skipped silently (a GitOps
repository holds CI configuration and manifests too). A document that claims to be
mlops-plan's but names a version or kind this release does not know is an error: it
would otherwise be ignored without anyone noticing.

Failing:

    # file: models/sentiment-classifier.yaml
    apiVersion: mlops-plan/v1
    kind: Modle                   # did you mean "Model"?
    metadata: {name: sentiment-classifier}
    spec:
      framework: onnx
      versions:
        - version: "3.1.0"
          artifact:
            uri: s3://ml-artifacts/sentiment-classifier/3.1.0/model.onnx
            digest: sha256:9e243861ff199d93c7a856ab91473fca0c8eff9caef3aebd82601c383251f330

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

    # file: deploy/kustomization.yaml
    apiVersion: kustomize.config.k8s.io/v1beta1   # not mlops-plan's: skipped
    kind: Kustomization
    resources: [inference-service.yaml]
"""

ID = "MP102"
NAME = "unknown-kind"
SEVERITY = "error"
