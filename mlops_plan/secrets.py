"""What looks like a credential: values that must never be printed or saved."""

from __future__ import annotations

import math
import re
from functools import lru_cache

_PATTERNS = (
    re.compile(r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"),  # AWS access key id
    re.compile(r"gh[pousr]_[A-Za-z0-9]{36,}"),  # GitHub tokens
    re.compile(r"github_pat_[A-Za-z0-9_]{22,}"),
    re.compile(r"glpat-[A-Za-z0-9_-]{20,}"),  # GitLab personal access token
    re.compile(r"xox[abposr]-[A-Za-z0-9-]{10,}"),  # Slack tokens
    re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    re.compile(r"sk_live_[A-Za-z0-9]{20,}"),  # Stripe
    re.compile(r"AIza[0-9A-Za-z_-]{35}"),  # Google API key
)
_SECRET_NAME = re.compile(
    r"(?i)(secret|token|passw(or)?d|passwd|api[_-]?key|private[_-]?key|credential|auth)"
)
SENSITIVE = "(sensitive value)"


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    return -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())


@lru_cache(maxsize=65536)  # a repository repeats its variables in every environment
def credential_kind(name: str, value: str) -> str | None:
    """Why `value` (of the variable `name`) looks like a credential, or None."""
    for pattern in _PATTERNS:
        if pattern.search(value):
            return "a known credential format"
    if (
        _SECRET_NAME.search(name)
        and len(value) >= 16
        and " " not in value
        and "://" not in value
        and entropy(value) >= 3.5
    ):
        return "a high-entropy value under a secret-looking name"
    return None


def looks_secret(name: str, value: str) -> bool:
    return credential_kind(name, value) is not None
