"""Tenant ids: who the stored data belongs to (a client team of a shared store)."""

from __future__ import annotations

import re

DEFAULT_TENANT = "default"


TENANT_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
"""A tenant id: lower-case letters, digits, `_ . -`; it names files and Kubernetes objects."""


def valid_tenant(value: str) -> bool:
    """Whether `value` is a tenant id, the whole of it: `re.match` with `$` would let a
    trailing newline through (`"acme\n"`, a second tenant that looks like the first)."""
    return re.fullmatch(TENANT_PATTERN.removeprefix("^").removesuffix("$"), value) is not None
