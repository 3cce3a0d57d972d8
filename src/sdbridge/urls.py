"""URLs as sdbridge takes and shows them: checked, never carrying a credential, masked
wherever one is shown."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from pydantic import AfterValidator

CREDENTIAL_PARAMETERS = {"token", "private_token", "access_token", "api_key", "apikey", "key", "password", "secret"}


def check_url(value: str) -> str:
    """A URL from the config may not carry credentials: they would be printed, stored and
    written into every report that names the source."""
    parts = urlsplit(value)
    if "@" in parts.netloc:
        raise ValueError(
            "the URL carries credentials (user:password@): remove them and give the token as "
            "`token: ${ENV_VARIABLE}` instead"
        )
    named = {k.lower() for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
    if named & CREDENTIAL_PARAMETERS:
        raise ValueError(
            f"the URL carries a credential in its query ({', '.join(sorted(named & CREDENTIAL_PARAMETERS))}): "
            "remove it and give the token as `token: ${ENV_VARIABLE}` instead"
        )
    return value


DATABASE_SECRETS = {"password", "sslpassword"}
"""libpq connection parameters that carry a secret; a store URL may hold neither."""


def database_url_problem(url: str) -> str | None:
    """Why a store URL may not be used as it is: a password in it (`user:pw@` or a
    `password=`/`sslpassword=` parameter) would be printed, logged and written into reports.
    None when it carries none."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None  # unreadable: the store says so
    if "@" in parts.netloc and ":" in parts.netloc.rpartition("@")[0]:
        return "the store URL carries a password (user:password@)"
    named = {k.lower() for k, _ in parse_qsl(parts.query, keep_blank_values=True)} & DATABASE_SECRETS
    if named:
        return f"the store URL carries a password in its query ({', '.join(sorted(named))}=)"
    return None


def masked_url(url: str) -> str:
    """A URL as it may be shown anywhere: a password in its user part and the values of secret
    query parameters (tokens, passwords) replaced by `***`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<a URL that cannot be read>"
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        if ":" in user:
            user = user.split(":", 1)[0] + ":***"
        netloc = f"{user}@{host}"
    secret = CREDENTIAL_PARAMETERS | DATABASE_SECRETS
    query = "&".join(
        f"{k}={'***' if k.lower() in secret else v}" for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


PlainURL = Annotated[str, AfterValidator(check_url)]
"""A URL of the config: never one with credentials in it."""
"""A config value naming a time zone; every `timezone:`/`tz:` of the config is one."""


def is_url(location: str | Path) -> bool:
    """A store given as a database URL (PostgreSQL) rather than a SQLite file."""
    return isinstance(location, str) and "://" in location
