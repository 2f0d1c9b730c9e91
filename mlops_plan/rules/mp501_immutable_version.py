"""*(plan-time)* A released version's digest or artifact changed against the base.

Released versions are immutable, as on a package index: a version number names one
artifact forever, so what was reviewed, tested and promoted is what runs. Changing the
digest or URI of an existing version is refused; release a new version instead.
Runs in `plan` and in `lint --base REF`.

Failing:

    # file: models/text-embedder.yaml
    apiVersion: mlops-plan/v1
    kind: Model
    metadata: {name: text-embedder}
    spec:
      framework: onnx
      versions:
        - version: "1.1.0"
          status: deprecated
          artifact:
            uri: s3://ml-artifacts/text-embedder/1.1.0/model.onnx
            digest: sha256:ced7b39ae2df48fa648006246b5ae5d22622a68539e951251448f14517631bd5
        - version: "1.2.0"        # a rebuilt artifact under the released version
          artifact:
            uri: s3://ml-artifacts/text-embedder/1.2.0/model.onnx
            digest: sha256:01ea3ab5730f6fe3e479c736dc838298f92e049028ab6edf7496118df607e25c
          requires: {onnxruntime: ">=1.17"}

    $ mlops-plan plan --base main

Passing:

    # file: models/text-embedder.yaml
    apiVersion: mlops-plan/v1
    kind: Model
    metadata: {name: text-embedder}
    spec:
      framework: onnx
      versions:
        - version: "1.1.0"
          status: deprecated
          artifact:
            uri: s3://ml-artifacts/text-embedder/1.1.0/model.onnx
            digest: sha256:ced7b39ae2df48fa648006246b5ae5d22622a68539e951251448f14517631bd5
        - version: "1.2.0"
          artifact:
            uri: s3://ml-artifacts/text-embedder/1.2.0/model.onnx
            digest: sha256:cbf9a97e61195b25b669a03b59f8917ce29beac4dbe58e32574dffa3c4a82fd8
          requires: {onnxruntime: ">=1.17"}
        - version: "1.2.1"        # the rebuilt artifact, released as a new version
          artifact:
            uri: s3://ml-artifacts/text-embedder/1.2.1/model.onnx
            digest: sha256:01ea3ab5730f6fe3e479c736dc838298f92e049028ab6edf7496118df607e25c
          requires: {onnxruntime: ">=1.17"}

    $ mlops-plan plan --base main
"""

ID = "MP501"
NAME = "immutable-version"
SEVERITY = "error"
