"""A mapping repeats a key.

YAML parsers silently keep one of the two values (which one differs between parsers),
so a repeated key is a bug waiting to surface. mlops-plan reports every repeat, at the
repeated key, even on its fast path.

Failing:

    spec:
      replicas: 2
      replicas: 6

Passing:

    spec:
      replicas: 6
"""

ID = "MP002"
NAME = "duplicate-key"
SEVERITY = "error"
