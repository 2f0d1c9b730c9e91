"""A document breaks its kind's JSON Schema.

Every error of a document is reported, not only the first, each at the offending key or
value: unknown keys (with the closest allowed key), missing required keys (at their
parent), wrong types, names that are not DNS-1123 labels, malformed digests, versions
and specifiers that are not PEP 440, quantities that are not Kubernetes quantities.
Versions must be quoted strings: an unquoted `1.10` is the number 1.1 to YAML.
Keys starting with `x-` are extensions and always allowed. The schemas live in
`schemas/`, one per kind, for editors to autocomplete from.

Failing:

    spec:
      framework: pytorch
      versions:
        - version: 1.10           # a number: quote it, "1.10"
          artefact: {uri: s3://m/1.10/model.pt}   # unknown key: did you mean "artifact"?

Passing:

    spec:
      framework: pytorch
      versions:
        - version: "1.10"
          artifact: {uri: s3://m/1.10/model.pt}
"""

ID = "MP101"
NAME = "schema"
SEVERITY = "error"
