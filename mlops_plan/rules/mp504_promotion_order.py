"""*(plan-time)* A version skips its promotion order.

An environment's `promotesFrom` lists the environments a version must run in before it
may run here. An upgrade (or a creation) that brings a model version into an environment
is an error while some `promotesFrom` environment does not run that version, as main or
canary version, in the same configuration (runtime and runtime release) in the
configuration being planned; so is creating a deployment in an environment while some
`promotesFrom` environment has no deployment of that name. Downgrades are exempt:
rollbacks must stay quick.

Failing:

    # prod promotesFrom [staging]; staging runs 2.4.1; this change sets prod to 2.5.0

Passing:

    # this change sets staging to 2.5.0 (or already did) and prod to 2.5.0
"""

ID = "MP504"
NAME = "promotion-order"
SEVERITY = "error"
