"""*(plan-time)* A destroy or a downgrade in a protected environment (a warning).

Environments with `protected: true` (production, usually) need an explicit yes for
destroys (including replacements) and downgrades: `apply` asks at its prompt or needs
`--allow-protected`. The warning makes the PR reviewer see it first.

Failing:

    # prod is protected; this change moves prod from 2.5.0 back to 2.4.1

Passing:

    # the same rollback in dev, which is not protected
"""

ID = "MP503"
NAME = "protected-change"
SEVERITY = "warning"
