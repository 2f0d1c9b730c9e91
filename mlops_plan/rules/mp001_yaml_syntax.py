"""A file does not parse as YAML, or is not UTF-8 text.

The finding carries the parser's own line and column. Tabs used for indentation, a
missing closing bracket, binary files and files in another encoding all land here.

Why: a file that does not parse cannot be checked, and would fail in every other tool
that reads the repository.

Failing:

    metadata:
        name: fraud-detector      # a tab: YAML indents with spaces

Passing:

    metadata:
      name: fraud-detector
"""

ID = "MP001"
NAME = "yaml-syntax"
SEVERITY = "error"
