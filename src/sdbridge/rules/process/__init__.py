"""Process checks: requirements that look across records, not at one record's fields.

Each check is a declared unit in this package (`changes`, `incidents`, `reviews`), listed in
`REGISTRY` in a fixed order, with a stable id (`P10.approved-before-deploy`), the
requirement it serves, the fields it reads, the `process:` settings it reads and a
description (`sdbridge profile --checks`). Every check follows the one evidence rule of
`base.judge`: `met` only on at least one evaluated record, never over zero records or
records that lack its inputs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sdbridge.assessment import ProcessCheck
from sdbridge.mapping.table import WorkProductTable
from sdbridge.rules.process import changes, incidents, reviews  # noqa: F401  (they register their checks)
from sdbridge.rules.process.base import (
    _ZONE,
    REGISTRY,
    Context,
    ProcessRule,
    ProcessSettings,
    rules,
)
from sdbridge.rules.process.freshness import DOCUMENT_LIMIT_DAYS, freshness
from sdbridge.rules.process.reviews import period_start


def run_process_checks(
    tables: dict[str, WorkProductTable], settings: ProcessSettings, now: datetime
) -> list[ProcessCheck]:
    token = _ZONE.set(settings.timezone)
    try:
        ctx = Context(tables, settings, now)
        return [rule.run(ctx) for rule in rules()]
    finally:
        _ZONE.reset(token)


def check_catalogue() -> list[dict[str, Any]]:
    """Every declared check as data: for `sdbridge profile --checks` and the README table."""
    defaults = ProcessSettings().model_dump()
    return [
        {
            "id": rule.id,
            "requirement": rule.requirement,
            "title": rule.title(ProcessSettings()),
            "needs": {wp: list(names) for wp, names in rule.needs.items()},
            "settings": {name: defaults[name] for name in rule.settings},
            "description": rule.description(),
            "details": rule.details(),
        }
        for rule in rules()
    ]


def readme_table() -> str:
    """The README's table of process checks, generated from the declarations."""
    lines = ["| Check | Reads | Settings (default) | What it checks |", "|---|---|---|---|"]
    for row in check_catalogue():
        reads = "; ".join(f"{wp} {', '.join(f'`{n}`' for n in names)}" for wp, names in row["needs"].items())
        settings = ", ".join(f"`{k}` ({v})" for k, v in row["settings"].items()) or "—"
        lines.append(f"| `{row['id']}` | {reads} | {settings} | {row['description']} {row['details']} |")
    return "\n".join(lines) + "\n"


__all__ = [
    "DOCUMENT_LIMIT_DAYS",
    "ProcessRule",
    "ProcessSettings",
    "REGISTRY",
    "check_catalogue",
    "freshness",
    "period_start",
    "readme_table",
    "run_process_checks",
]
