"""What every report format shares: safe links, the findings grouped by what a source never
provides, plain rows for templates, and the one Jinja environment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from sdbridge.assessment import Assessment
from sdbridge.profile import load_catalogue
from sdbridge.rules.fixfirst import place, start_with
from sdbridge.words import days, plural, record_label, whole

Sink = Callable[[Assessment, Path], Path]
"""A report format's writer: `(assessment, folder) -> the file it wrote`."""


def web_link(url: object) -> str | None:
    """Only http(s) links become links: a `javascript:` URL in an export must never run."""
    text = str(url or "").strip()
    return text if text.lower().startswith(("https://", "http://")) else None


def never_provided(assessment: Assessment) -> tuple[list[dict], np.ndarray]:
    """Per source and WP, the items its export can never evidence, with how many findings
    that makes; and a mask of those findings, which the human-readable reports show grouped
    under their source instead of one line per record."""
    catalogue = load_catalogue()
    mask = np.zeros(len(assessment.findings), dtype=bool)
    groups = []
    for source, wp_id, items, hit in assessment.never_provided_findings():
        mask |= hit
        groups.append(
            {
                "source": source,
                "work_product": wp_id,
                "findings": int(hit.sum()),
                "entries": [(i, catalogue.item(i).label) for i in items],
            }
        )
    return groups, mask


def environment() -> Environment:
    """The one Jinja environment of the reports: HTML templates are autoescaped (an export's
    text is always shown as text), Markdown ones are not."""
    env = Environment(
        loader=PackageLoader("sdbridge", "reports/templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pct"] = lambda v: "—" if v is None else f"{v * 100:.0f}%"
    env.filters["md"] = lambda v: "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")
    env.filters["link"] = web_link
    env.filters["days"] = lambda v: "—" if v is None else days(v)
    env.filters["whole"] = whole
    env.filters["plural"] = plural
    env.filters["record_label"] = record_label
    env.globals["start_with"] = start_with
    env.filters["place"] = place
    env.globals["FIX_FIRST_LISTED"] = FIX_FIRST_LISTED
    return env


FIX_FIRST_LISTED = 10
"""Requirements the reports show under Fix first (report.json has every one)."""


def plain_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of findings for a template: a missing value is None, whatever the column's type."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
