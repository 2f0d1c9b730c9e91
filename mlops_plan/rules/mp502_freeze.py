"""*(plan-time)* A change to an environment inside one of its freezes.

An environment's `freezes` list windows (`start`, `end`, `reason`) in which nothing may
change there: holidays, peak traffic, audits. The clock is read once per run, from
`--now` or `MLOPS_PLAN_NOW` when given, so a check is reproducible. An emergency change
goes through with a suppression that names the reason:
`# mlops-plan: ignore[MP502] reason: hotfix for INC-123`.

Failing:

    # environments/prod.yaml
    freezes: [{start: "2026-12-20T00:00:00Z", end: "2027-01-04T00:00:00Z", reason: holidays}]
    # and, planned on 2026-12-22, a version change in prod

Passing:

    # the same change planned on 2027-01-05
"""

ID = "MP502"
NAME = "freeze"
SEVERITY = "error"
