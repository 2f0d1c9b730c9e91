"""Input that is unsafe to load: custom tags, alias bombs, oversize or too deep files.

mlops-plan always loads YAML safely: a tag such as `!!python/object/apply` is refused,
never constructed. Anchors and aliases that expand past 100,000 nodes (a "billion
laughs" bomb), files over 2 MiB, nesting deeper than 64 levels and symlinks that point
outside the repository are refused before they can exhaust memory or read other files.

Failing:

    kind: !!python/object/apply:os.system ["echo pwned"]

Passing:

    kind: Model
"""

ID = "MP003"
NAME = "unsafe-yaml"
SEVERITY = "error"
