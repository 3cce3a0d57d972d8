"""Time zones: checked IANA names, and the zone of this machine."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator


def check_timezone(value: str) -> str:
    """An IANA time zone name, or a ValueError that says what to write instead."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Oslo or UTC)") from None
    return value


TimeZoneName = Annotated[str, AfterValidator(check_timezone)]


def local_zone() -> str:
    """This machine's time zone as an IANA name: $TZ, else /etc/timezone, else the zone file
    /etc/localtime links to; UTC when none of them names a zone Python knows."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    with contextlib.suppress(OSError):
        link = os.readlink("/etc/localtime")
        if "zoneinfo/" in link:
            candidates.append(link.split("zoneinfo/", 1)[1])
    for name in candidates:
        if name and not name.startswith("/"):
            with contextlib.suppress(ValueError):
                return check_timezone(name)
    return "UTC"
