"""`mlops-plan.lock` is missing or out of date (with `lint --locked` / `lock --check`).

The lockfile pins, per effective deployment, the resolved model version and digest, the
runtime release and image, and the target. With `--locked`, lint fails when running
`mlops-plan lock` would change the file, as cargo's `--locked` does: a deployment was
added or removed, a specifier no longer admits its pinned version, or a pin can no
longer run. A newly released model version does not make the lock stale: it changes
nothing until `mlops-plan lock --upgrade` picks it up.

Failing:

    # deployments/fraud.yaml changes prod to {version: "~=2.5"}, the lock still pins 2.4.1

Passing:

    # the same change, committed together with the output of `mlops-plan lock`
"""

ID = "MP307"
NAME = "stale-lock"
SEVERITY = "error"
