"""Secrets are read from the environment only when a command needs them.

`load_config` leaves a token whose environment variable is not set as its `${NAME}`
reference (still a `SecretStr`), so offline commands — `check`, `history`, `mapping`,
`export` — run without it. A command that contacts the service calls `reveal`, which reads
the variable then, or says which variable to set and for which source.
"""

from __future__ import annotations

import os
import re

from pydantic import SecretStr

from sdbridge.errors import ConfigError

SECRET_KEYS = ("token", "password")
"""Config keys whose `${VAR}` may stay unresolved until used."""
_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def is_secret_path(path: str) -> bool:
    return path.rsplit(".", 1)[-1] in SECRET_KEYS


def reveal(secret: SecretStr, *, source: str, purpose: str) -> str:
    """The secret's value; an unresolved `${NAME}` is read from the environment now."""
    value = secret.get_secret_value()
    reference = _REFERENCE.match(value)
    if reference is None:
        return value
    name = reference.group(1)
    if name not in os.environ or not os.environ[name]:
        raise ConfigError(
            f"source {source!r}: the environment variable {name} is not set, and {purpose} needs it",
            hint=f"export {name}=... (the token) before running this command",
        )
    return os.environ[name]
