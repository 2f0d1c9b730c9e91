"""A file does not parse as YAML, or is not UTF-8 text.

The finding carries the parser's own line and column. Tabs used for indentation, a
missing closing bracket, binary files and files in another encoding all land here.

Why: a file that does not parse cannot be checked, and would fail in every other tool
that reads the repository.

Failing:

    # file: environments/dev.yaml
    apiVersion: mlops-plan/v1
    kind: Environment
    metadata: {name: dev}
    spec:
      targets: [cpu-x86, l4-24g       # the closing bracket is missing
      runtimes: {triton: "24.05", torchserve: "0.11.0"}

Passing:

    # file: environments/dev.yaml
    apiVersion: mlops-plan/v1
    kind: Environment
    metadata: {name: dev}
    spec:
      targets: [cpu-x86, l4-24g]
      runtimes: {triton: "24.05", torchserve: "0.11.0"}
"""

ID = "MP001"
NAME = "yaml-syntax"
SEVERITY = "error"
