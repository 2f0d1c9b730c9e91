"""*(plan-time)* A released version's digest or artifact changed against the base.

Released versions are immutable, as on a package index: a version number names one
artifact forever, so what was reviewed, tested and promoted is what runs. Changing the
digest or URI of an existing version is refused; release a new version instead.
Runs in `plan` and in `lint --base REF`.

Failing:

    # base: version "2.4.1" with digest sha256:9f86…; this change edits that digest

Passing:

    # this change adds version "2.4.2" with the new digest
"""

ID = "MP501"
NAME = "immutable-version"
SEVERITY = "error"
