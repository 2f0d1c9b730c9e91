"""Two documents of one kind share a name.

Names identify declarations everywhere (references, addresses, state, rendered file
names), so they are unique per kind. The finding is at the second declaration and names
the first one's position. A Model and a Deployment may share a name.

Failing:

    # models/a.yaml and models/b.yaml both declare
    kind: Model
    metadata: {name: fraud-detector}

Passing:

    # one Model fraud-detector, and a Deployment also named fraud-detector
"""

ID = "MP103"
NAME = "duplicate-name"
SEVERITY = "error"
