"""Secrets are read from the environment only when a command needs them.

`load_config` leaves a token whose environment variable is not set as its `${NAME}`
reference (still a `SecretStr`), so offline commands — `check`, `history`, `mapping`,
`export` — run without it. A command that contacts the service calls `reveal`, which reads
the variable then, or says which variable to set and for which source.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from sdbridge.errors import ConfigError
from sdbridge.files import NotARegularFile, read_bounded

SECRET_KEYS = ("token", "password", "secret")
"""Config keys whose `${VAR}` may stay unresolved until used."""
_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_FILE = re.compile(r"^\$\{file:(.+)\}$")
MAX_SECRET_BYTES = 64 * 1024


def file_references(raw: Any, base: Path) -> Any:
    """`token_file: PATH` / `password_file: PATH` (a mounted Kubernetes or Docker secret)
    become `token: ${file:PATH}`, the path resolved against the config's folder; the file is
    read only when a command needs the secret (`reveal`)."""
    if isinstance(raw, list):
        return [file_references(v, base) for v in raw]
    if not isinstance(raw, dict):
        return raw
    out = {}
    for key, value in raw.items():
        name = str(key).removesuffix("_file")
        if name != key and name in SECRET_KEYS and isinstance(value, str | Path) and name not in raw:
            path = Path(os.path.expanduser(str(value)))
            out[name] = f"${{file:{path if path.is_absolute() else (base / path).resolve()}}}"
        else:
            out[key] = file_references(value, base)
    return out


def is_secret_path(path: str) -> bool:
    return path.rsplit(".", 1)[-1] in SECRET_KEYS


def reveal(secret: SecretStr, *, source: str, purpose: str) -> str:
    """The secret's value; an unresolved `${NAME}` is read from the environment now. A byte
    order mark and spaces around it are dropped (an editor's, not the token's); a line break or
    another control character inside is refused with what to fix, before any request: sent in
    a header it would fail with a message about the server's answer."""
    value = secret.get_secret_value()
    if mounted := _FILE.match(value):
        return _clean(read_secret_file(Path(mounted.group(1)), source=source, purpose=purpose), source, "file")
    reference = _REFERENCE.match(value)
    if reference is None:
        return _clean(value, source, "config")
    name = reference.group(1)
    if name not in os.environ or not os.environ[name]:
        raise ConfigError(
            f"source {source!r}: the environment variable {name} is not set, and {purpose} needs it",
            hint=f"export {name}=... (the token) before running this command",
        )
    return _clean(os.environ[name], source, f"environment variable {name}")


def _clean(value: str, source: str, origin: str) -> str:
    value = value.strip().lstrip("\ufeff").strip()
    bad = sorted({repr(c)[1:-1] for c in value if ord(c) < 32 or ord(c) == 127})
    if bad:
        raise ConfigError(
            f"source {source!r}: the secret from the {origin} holds control characters ({', '.join(bad)}): "
            "a token or password is one line of text",
            hint="remove the line break or other control character (a copy-paste slip, a Windows line end)",
        )
    return value


def read_secret_file(path: Path, *, source: str, purpose: str) -> str:
    try:
        data = read_bounded(path, MAX_SECRET_BYTES)
    except NotARegularFile as exc:
        raise ConfigError(
            f"{source}: the secret file {exc}, and {purpose} needs it",
            hint="mount the secret as a file at that path, or fix the `_file:` setting",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{source}: the secret file {path} cannot be read ({exc.strerror or type(exc).__name__}), "
            f"and {purpose} needs it",
            hint="mount the secret at that path, or fix the `_file:` setting",
        ) from None
    if len(data) > MAX_SECRET_BYTES:
        raise ConfigError(f"{source}: the secret file {path} is larger than 64 KiB: it is not a token or password")
    try:
        value = data.decode("utf-8").lstrip("\ufeff").strip()
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: the secret file {path} is not UTF-8 text") from None
    if not value:
        raise ConfigError(f"{source}: the secret file {path} is empty, and {purpose} needs it")
    return value
