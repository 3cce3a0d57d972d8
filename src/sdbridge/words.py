"""How numbers and records read in every report and on the console: one place, so that a
count, an age or a record is written the same way in each format.

- `plural(1, "record")` is "1 record", `plural(2, "record")` "2 records";
- ages are whole days (a gap opened this morning is 0 days old, never "0.0");
- a record is shown by the name people use for it: its id, unless that id is an opaque key
  (a ServiceNow `sys_id`, a UUID), where its title (the CI's name, the ticket's summary)
  says more; the key stays available as the link's or cell's title.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

OPAQUE_KEY = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
"""Keys no person reads: a ServiceNow sys_id (32 hex digits), a UUID."""

LABEL_WIDTH = 60
"""At most this many characters of a title stand in for an opaque key."""


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def whole(value: float | None) -> str:
    """An age in whole days as a bare number ("0", "12"); "" when unknown."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(int(value))


def days(value: float) -> str:
    """An age in whole days: "0 days", "1 day", "12 days"."""
    return plural(int(value), "day")


def record_label(finding: Mapping[str, Any]) -> str:
    """What a finding's record is called for people: its id, or its title where the id is an
    opaque key; "(work product)" for a finding about a work product as a whole."""
    record_id = finding.get("record_id")
    if not record_id:
        return "(work product)"
    title = str(finding.get("title") or "").strip()
    if title and OPAQUE_KEY.fullmatch(str(record_id)):
        return title if len(title) <= LABEL_WIDTH else title[: LABEL_WIDTH - 1] + "…"
    return str(record_id)
