"""Exceptions mean "cannot continue"; cli.py turns them into one message and an exit code."""

from __future__ import annotations


class MlopsPlanError(Exception):
    """The root of every expected failure: printed as one line, exit code 1."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class PathError(MlopsPlanError):
    """A path given on the command line does not exist or cannot be read."""


class ConfigError(MlopsPlanError):
    """The repository configuration cannot be used."""


class VcsError(MlopsPlanError):
    """A git reference or repository cannot be read."""
