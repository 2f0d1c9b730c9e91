"""An mlops-plan document with an unknown `apiVersion` or `kind`.

YAML files whose apiVersion is not `mlops-plan/...` are skipped silently (a GitOps
repository holds CI configuration and manifests too). A document that claims to be
mlops-plan's but names a version or kind this release does not know is an error: it
would otherwise be ignored without anyone noticing.

Failing:

    apiVersion: mlops-plan/v1
    kind: Modle                   # did you mean "Model"?

Passing:

    apiVersion: mlops-plan/v1
    kind: Model
"""

ID = "MP102"
NAME = "unknown-kind"
SEVERITY = "error"
