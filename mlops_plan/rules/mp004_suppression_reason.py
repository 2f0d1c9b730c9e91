"""A suppression comment without a reason, or one that cannot be read.

`# mlops-plan: ignore[ID] reason: …` silences findings of rule ID on the comment's line
(or, on a line of its own, on the next line). A reason is required by default
(`suppressions: {requireReason: true}`): the next reader must know why the finding is
acceptable. A suppression without one suppresses nothing and is itself an error, as is a
comment that does not read as `ignore[ID, ...] reason: ...`.

Failing:

    environments:
      # mlops-plan: ignore[MP305]
      prod: {version: "1.1.0"}

Passing:

    environments:
      # mlops-plan: ignore[MP305] reason: rollback for INC-123
      prod: {version: "1.1.0"}
"""

ID = "MP004"
NAME = "suppression-reason"
SEVERITY = "error"
