"""The HTML report: one self-contained file (inline CSS, JS and SVG; no CDN, works offline),
rendered by Jinja2 with autoescape, so ticket titles are always shown as text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from markupsafe import Markup, escape

from sdbridge.assessment import Assessment
from sdbridge.files import atomic_write

MAX_ROWS = 5000
COLOURS = ["#0969da", "#cf222e", "#1a7f37", "#9a6700", "#8250df", "#bf3989"]


def trend_svg(trend: list[dict], width: int = 720, height: int = 220) -> Markup | None:
    """Gaps per WP over runs as lines (the five WPs with most gaps in the last run)."""
    if len(trend) < 2:
        return None
    last = trend[-1]["by_work_product"]
    wps = sorted(last, key=lambda w: -last[w])[:5]
    top = max((run["by_work_product"].get(w, 0) for run in trend for w in wps), default=0) or 1
    left, bottom, right, top_pad = 40, height - 30, width - 120, 10
    step = (right - left) / (len(trend) - 1)
    parts = [
        f'<svg role="img" aria-label="Gaps per work product over the last {len(trend)} runs" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#d0d7de"/>',
        f'<text x="{left - 6}" y="{top_pad + 10}" text-anchor="end">{top}</text>',
        f'<text x="{left - 6}" y="{bottom}" text-anchor="end">0</text>',
    ]
    for n, wp in enumerate(wps):
        points = " ".join(
            f"{left + i * step:.1f},{bottom - (run['by_work_product'].get(wp, 0) / top) * (bottom - top_pad):.1f}"
            for i, run in enumerate(trend)
        )
        colour = COLOURS[n % len(COLOURS)]
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        parts.append(
            f'<text x="{right + 8}" y="{top_pad + 14 * (n + 1)}" style="fill:{colour}">'
            f"{escape(wp)} ({last.get(wp, 0)})</text>"
        )
    first, last_run = trend[0]["started_at"], trend[-1]["started_at"]
    width_of_label = 16 if first[:10] == last_run[:10] else 10  # runs on one day: show the times
    parts.append(f'<text x="{left}" y="{height - 8}">{escape(first[:width_of_label].replace("T", " "))}</text>')
    parts.append(
        f'<text x="{right}" y="{height - 8}" text-anchor="end">'
        f"{escape(last_run[:width_of_label].replace('T', ' '))}</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def render_html(assessment: Assessment, period: str | None = None) -> str:
    from sdbridge.reports.common import environment, never_provided, plain_rows

    env = environment()
    never, unsourced = never_provided(assessment)
    findings = assessment.findings
    kept = np.flatnonzero(~unsourced)

    def choices(name: str) -> list[str]:
        if not len(kept) or name not in findings:
            return []
        column = findings[name]
        values = column.iloc[kept] if len(kept) < len(column) else column
        return sorted(str(v) for v in values.dropna().unique().tolist())

    return env.get_template("report.html.j2").render(
        a=assessment,
        findings=plain_rows(findings.iloc[kept[:MAX_ROWS]]),
        more_findings=max(0, len(kept) - MAX_ROWS),
        filter_wps=choices("work_product"),
        filter_sources=choices("source"),
        filter_owners=choices("owner"),
        trend_svg=trend_svg(assessment.trend),
        never=never,
        never_count=int(unsourced.sum()),
        period=period,
    )


def write_html(assessment: Assessment, out: Path) -> Path:
    text = render_html(assessment)
    return atomic_write(out / "report.html", lambda tmp: tmp.write_text(text, encoding="utf-8"))
